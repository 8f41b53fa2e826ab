"""Review before release: a writer asks desk users or anyone by address to review a release (all its languages);
each gets an emailed link to the release as it will look and a page where they approve it or ask for changes.

The decision page (/r/<token>) needs no account: the token is the reviewer's key, valid for one release and
until its time. Opening it changes nothing; a decision is a POST carrying a CSRF token derived from the link's
token (no session exists to hold one) and the revision the reviewer was shown, from the desk's own origin. The
decision is recorded with who, when and that git commit (mail/approvals.py, the one source the publisher reads).
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from datetime import datetime, timedelta

import anyio.to_thread
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsroom.core.model import Catalog, Release
from newsroom.core.settings import Settings
from newsroom.desk import accounts, gitstore
from newsroom.desk.pressview import deliver_mail, page_path, prune_snapshots, versions
from newsroom.desk.web import Context, Desk, Refused, page
from newsroom.mail import approvals, sharelinks, sharemail, store
from newsroom.mail.addresses import SubscriberError, normalize_address
from newsroom.subscriptions.ratelimit import Limit, RateLimiter, key

# Decisions and page loads per client on the decision pages (a reviewer decides once or twice).
DECIDE_LIMITS = (Limit(30, timedelta(minutes=1)), Limit(300, timedelta(hours=1)))
MAX_COMMENT = 4000
_board_digests = approvals.Digests()


def form_token(token: str) -> str:
    """The decision form's CSRF token: bound to the link, so a page elsewhere cannot make one up."""
    return hmac.new(token.encode(), b"review-decision", hashlib.sha256).hexdigest()


def board_states(desk: Desk) -> dict[str, tuple[str, bool]]:
    """Each release's review state for the board, and whether "required" holds it (or will at its time)."""
    mode = approvals.mode(desk.settings)
    if mode == "off":
        return {}
    catalog = desk.catalog()
    conn = store.connect(store.db_path(desk.settings))
    try:
        found = {}
        for release_id in sorted({r.release_id for r in catalog.releases}):
            review = approvals.status(conn, release_id, _board_digests(approvals.files(catalog, release_id)))
            scheduled = any(r.status == "published" and r.date > desk.now() for r in versions(catalog, release_id))
            found[release_id] = (review.state, mode == "required" and scheduled and not review.approved)
    finally:
        conn.close()
    return found


def routes(desk: Desk) -> list[Route]:
    approvals.mode(desk.settings)  # a wrong NEWSROOM_APPROVAL stops the desk at its start
    limiter = RateLimiter(DECIDE_LIMITS)

    def connect() -> sqlite3.Connection:
        return store.connect(store.db_path(desk.settings))

    def current(catalog: Catalog, release_id: str) -> tuple[str, str]:
        """The release's revision (its files' last commit) and the digest of its files now."""
        paths = approvals.files(catalog, release_id)
        return gitstore.last_commit(desk.repo, paths), approvals.digest(paths)

    def render(ctx: Context, release_id: str, status: int = 200, **extra) -> Response:
        catalog = desk.catalog()
        found = versions(catalog, release_id)
        if not found:
            raise Refused(404, "no-release")
        _, digest = current(catalog, release_id)
        conn = connect()
        try:
            review = approvals.status(conn, release_id, digest)
            links = sharelinks.with_openings(conn, release_id, "review")
        finally:
            conn.close()
        dconn = desk.connect()
        try:
            users = [u for u in accounts.every(dconn) if u.email and u.username != ctx.user.username]
        finally:
            dconn.close()
        return ctx.render(
            "review.html",
            status=status,
            release_id=release_id,
            title=found[0].title,
            review=review,
            links=links,
            users=users,
            mode=approvals.mode(desk.settings),
            days=desk.settings["NEWSROOM_REVIEW_DAYS"],
            state=lambda link: link.state(desk.now()),
            **{"problems": [], "values": {}, **extra},
        )

    async def review_page(ctx: Context) -> Response:
        if approvals.mode(desk.settings) == "off":
            raise Refused(404, "review-off")
        return render(ctx, ctx.request.path_params["release"], notice=ctx.query("done"))

    async def ask(ctx: Context) -> Response:
        if approvals.mode(desk.settings) == "off":
            raise Refused(404, "review-off")
        release_id = ctx.request.path_params["release"]
        form = ctx.form
        assert form is not None
        catalog = desk.catalog()
        found = versions(catalog, release_id)
        if not found:
            raise Refused(404, "no-release")
        values = {
            "addresses": str(form.get("addresses", "")),
            "days": str(form.get("days", "")),
            "note": str(form.get("note", "")),
        }
        wanted: dict[str, str] = {}  # address -> name
        dconn = desk.connect()
        try:
            for username in form.getlist("users"):
                try:
                    user = accounts.get(dconn, str(username))
                except accounts.AccountError:
                    raise Refused(404, "no-user") from None
                wanted[user.email.lower()] = user.name
        finally:
            dconn.close()
        problems = []
        for line in values["addresses"].replace(",", "\n").splitlines():
            if line.strip():
                try:
                    wanted.setdefault(normalize_address(line.strip()), "")
                except SubscriberError:
                    problems.append(ctx._("'%(text)s' is not an email address.") % {"text": line.strip()})
        days = int(values["days"]) if values["days"].isdigit() else 0
        if not 1 <= days <= 60:
            problems.append(ctx._("Give the days the links work as a whole number from 1 to 60."))
        if not wanted and not problems:
            problems.append(ctx._("Choose at least one reviewer or write an email address."))
        if problems:
            return render(ctx, release_id, 422, problems=problems, values=values)
        try:
            revision, _ = current(catalog, release_id)
        except gitstore.GitError as exc:
            raise Refused(409, str(exc)) from None
        now = desk.wall()
        lang = ctx.lang  # the asker's desk language: their request's, and the one the decision is told to them in
        conn = connect()
        try:
            sharelinks.issue_and_queue(
                conn,
                "review",
                release_id,
                [(address, name, lang, None) for address, name in wanted.items()],
                ctx.user.username,
                now,
                lambda link, token: sharemail.compose(
                    desk.settings,
                    "review_request",
                    ctx.lang,
                    link.email,
                    now,
                    from_name=ctx.user.name,
                    title=next((r.title for r in found if r.lang == ctx.lang), found[0].title),
                    asked_by=ctx.user.name,
                    greeting_name=link.name,
                    note=" ".join(values["note"].split())[:500],
                    url=f"{str(desk.settings['NEWSROOM_DESK_URL']).rstrip('/')}/r/{token}",
                    until=link.expires_at.astimezone(desk.tz),
                    revision=revision[:10],
                ),
                desk.now() + timedelta(days=days),
            )
        finally:
            conn.close()
        sent, failed = await anyio.to_thread.run_sync(lambda: deliver_mail(desk.settings))
        await anyio.to_thread.run_sync(lambda: prune_snapshots(desk, catalog))
        ctx.log("asked for review", f"{release_id} at {revision[:10]}: {len(wanted)} reviewer(s)")
        return RedirectResponse(f"/review/{release_id}?done={'asked' if not failed else 'queued'}", status_code=303)

    # --- the reviewer's page, no session ---------------------------------------------------------------------

    def opened(ctx: Context) -> tuple[sharelinks.Link, str]:
        token = ctx.request.path_params["token"]
        conn = connect()
        try:
            client = ctx.request.client.host if ctx.request.client else ""
            if limiter.hit(conn, [key("review-page", client)], desk.wall()) is not None:
                raise Refused(429, "too-many")
            link = sharelinks.find(conn, token, "review")
        finally:
            conn.close()
        if link is None:
            raise Refused(404, "link-unknown")
        state = link.state(desk.now())
        if state == sharelinks.REVOKED:
            raise Refused(403, "link-revoked")
        if state == sharelinks.EXPIRED:
            raise Refused(410, "link-expired")
        return link, token

    def decision_page(ctx: Context, link: sharelinks.Link, token: str, status: int = 200, **extra) -> Response:
        catalog = desk.catalog()
        found = versions(catalog, link.release)
        if not found:
            raise Refused(410, "link-expired")
        revision, digest = current(catalog, link.release)
        conn = connect()
        try:
            review = approvals.status(conn, link.release, digest)
        finally:
            conn.close()
        base = f"{str(desk.settings['NEWSROOM_DESK_PREVIEW_URL']).rstrip('/')}/t/{token}/"
        return ctx.render(
            "decide.html",
            status=status,
            link=link,
            title=next((r.title for r in found if r.lang == link.lang), found[0].title),
            pages=[(r.lang, r.title, base + page_path(r)) for r in found],
            review=review,
            revision=revision,
            csrf=form_token(token),
            zone=Settings.of(desk.settings).tz.key,
            **{"problems": [], "comment": "", **extra},
        )

    def writer_lang(conn: sqlite3.Connection, release_id: str, writer: str, found: list[Release]) -> str:
        """The writer's desk language when the desk knows it (the one they last asked for review of this release
        in), else the release's first language."""
        dconn = desk.connect()
        try:
            users = {u.username for u in accounts.every(dconn) if u.email and u.email.lower() == writer.lower()}
        finally:
            dconn.close()
        asked = [k.lang for k in sharelinks.for_release(conn, release_id, "review") if k.created_by in users]
        if asked:
            return asked[-1]
        return sorted((r.lang for r in found), key=lambda lg: desk.langs.index(lg) if lg in desk.langs else 9)[0]

    def tell_writer(
        conn: sqlite3.Connection,
        catalog: Catalog,
        link: sharelinks.Link,
        decision: str,
        comment: str,
        revision: str,
        now: datetime,
    ) -> tuple[str, bytes] | None:
        """The email that tells the release's writer of a decision, with the reviewer's comment (None if the
        writer has no address or the mail settings are wrong: the decision counts all the same)."""
        found = versions(catalog, link.release)
        writer = approvals.writer(desk.settings, approvals.files(catalog, link.release))
        if writer is None:
            return None
        lang = writer_lang(conn, link.release, writer, found)
        message = sharemail.compose_or_none(
            desk.settings,
            "review_decided",
            lang,
            writer,
            now,
            title=next((r.title for r in found if r.lang == lang), found[0].title),
            decision=decision,
            reviewer=link.name or link.email,
            comment=comment,
            revision=revision[:10],
            desk_url=str(desk.settings["NEWSROOM_DESK_URL"]).rstrip("/"),
            release_id=link.release,
        )
        return (writer, message) if message else None

    async def decide_page(ctx: Context) -> Response:
        link, token = opened(ctx)
        return decision_page(ctx, link, token, done=ctx.query("done"))

    async def decide(ctx: Context) -> Response:
        link, token = opened(ctx)
        form = ctx.form
        assert form is not None
        if not hmac.compare_digest(str(form.get("csrf", "")), form_token(token)):
            raise Refused(403, "csrf")
        decision, comment = str(form.get("decision", "")), str(form.get("comment", "")).strip()[:MAX_COMMENT]
        if decision not in ("approved", "changes"):
            raise Refused(400, "no-decision")
        catalog = desk.catalog()
        revision, digest = current(catalog, link.release)
        if str(form.get("revision", "")) != revision:
            problems = [ctx._("The release was changed after you opened this page. Read it again, then decide.")]
            return decision_page(ctx, link, token, 409, problems=problems, comment=comment)
        if decision == "changes" and not comment:
            problems = [ctx._("Say what should change.")]
            return decision_page(ctx, link, token, 422, problems=problems)
        now = desk.wall()
        conn = connect()
        try:
            tell = tell_writer(conn, catalog, link, decision, comment, revision, now)
            approvals.decide(conn, link, decision, comment, revision, digest, now, tell)
        finally:
            conn.close()
        await anyio.to_thread.run_sync(lambda: deliver_mail(desk.settings))
        who = link.name or link.email
        dconn = desk.connect()
        try:
            accounts.log(
                dconn, f"review:{who}", f"review {decision}", f"{link.release} at {revision[:10]}", desk.wall()
            )
        finally:
            dconn.close()
        return RedirectResponse(f"/r/{token}?done={decision}", status_code=303)

    return [
        Route("/review/{release:str}", page(desk)(review_page), methods=["GET"]),
        Route("/review/{release:str}", page(desk)(ask), methods=["POST"]),
        Route("/r/{token:str}", page(desk, None)(decide_page), methods=["GET"]),
        Route("/r/{token:str}", page(desk, None)(decide), methods=["POST"]),
    ]
