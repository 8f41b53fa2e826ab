"""Journalists' embargoed previews: shared from the desk, one link per recipient; and every shared link's pages.

On the desk (signed in): a release under embargo is shared with named recipients or the journalists of a media
list, each emailed a link of their own; the desk lists each link with every time it was opened, and revokes it.

On the preview origin (no session, the sandbox CSP of desk/preview.py): /t/<token>/... serves the snapshot of the
link's own release (desk/snapshot.py) and nothing else, review links and press links alike. A press link works until
the lift plus NEWSROOM_PRESS_GRACE_HOURS, a review link until its own time; a revoked or expired one gets a short
page in the recipient's language saying so (403 revoked, 410 expired). Requests are rate-limited per client.
"""

from __future__ import annotations

import mimetypes
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import anyio
import anyio.to_thread
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from newsroom.content.catalog import load_catalog
from newsroom.core.i18n import catalog_dir
from newsroom.core.model import Catalog, Release
from newsroom.core.settings import Settings
from newsroom.desk import gitstore, i18n, snapshot
from newsroom.desk.web import Context, Desk, Refused, log, page
from newsroom.mail import medialists, sharelinks, sharemail, store
from newsroom.mail.addresses import SubscriberError, normalize_address
from newsroom.subscriptions.ratelimit import Limit, RateLimiter, key

# Page and file requests per client address through shared links (a page is a dozen files).
LINK_LIMITS = (Limit(300, timedelta(minutes=1)), Limit(3000, timedelta(hours=1)))
PRUNE_SECONDS = 3600  # how often the desk removes snapshots no link opens any more, when nobody acts
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "image/svg")
N_ = str  # marks a string for the desk's catalog; translated where it is shown


def grace(settings: dict) -> timedelta:
    return timedelta(hours=float(settings["NEWSROOM_PRESS_GRACE_HOURS"]))


def lift(catalog: Catalog, release_id: str) -> datetime | None:
    """When the release's embargo lifts: its earliest version's time (None if it is not in the content)."""
    return min((r.date for r in catalog.releases if r.release_id == release_id), default=None)


def versions(catalog: Catalog, release_id: str) -> list[Release]:
    return [r for r in catalog.releases if r.release_id == release_id]


def page_path(release: Release) -> str:
    return f"{release.lang}/releases/{release.slug}/"


# --- the desk's side -------------------------------------------------------------------------------------------


def routes(desk: Desk) -> list[Route]:
    def connect() -> sqlite3.Connection:
        return store.connect(store.db_path(desk.settings))

    def render(ctx: Context, release_id: str, status: int = 200, **extra) -> Response:
        catalog = desk.catalog()
        found = versions(catalog, release_id)
        if not found:
            raise Refused(404, "no-release")
        conn = connect()
        try:
            links = sharelinks.with_openings(conn, release_id, "press")
            lists = medialists.names(conn)
        finally:
            conn.close()
        when = lift(catalog, release_id)
        return ctx.render(
            "press.html",
            status=status,
            release_id=release_id,
            title=found[0].title,
            versions=found,
            links=links,
            lists=lists,
            lift=when,
            embargoed=when is not None and when > desk.now(),
            ends=when + grace(desk.settings) if when else None,
            state=lambda link: link.state(desk.now(), when, grace(desk.settings)),
            **{"problems": [], "values": {}, **extra},
        )

    async def press_page(ctx: Context) -> Response:
        return render(ctx, ctx.request.path_params["release"], notice=ctx.query("done"))

    async def share(ctx: Context) -> Response:
        release_id = ctx.request.path_params["release"]
        form = ctx.form
        assert form is not None
        catalog = desk.catalog()
        found = versions(catalog, release_id)
        when = lift(catalog, release_id)
        if not found:
            raise Refused(404, "no-release")
        values = {
            "recipients": str(form.get("recipients", "")),
            "list": str(form.get("list", "")),
            "lang": str(form.get("lang", "")),
        }
        if when is None or when <= desk.now():
            return render(
                ctx,
                release_id,
                409,
                problems=[ctx._("The release is public already: share its public page.")],
                values=values,
            )
        langs = {r.lang for r in found}
        wanted: list[tuple[str, str, str, int | None]] = []  # address, name, language, journalist
        problems = []
        for number, line in enumerate(values["recipients"].splitlines(), 1):
            if not line.strip():
                continue
            name, _, address = line.rpartition(",") if "," in line else ("", "", line)
            try:
                wanted.append((normalize_address(address.strip()), name.strip(), values["lang"], None))
            except SubscriberError:
                problems.append(
                    ctx._("Line %(line)s: '%(text)s' is not an email address.") % {"line": number, "text": line.strip()}
                )
        conn = connect()
        try:
            if values["list"]:
                if values["list"] not in medialists.names(conn):
                    raise Refused(404, "no-list")
                for journalist in medialists.members(conn, values["list"]):
                    if not medialists.blocked(conn, journalist.email):
                        lang = next((lg for lg in journalist.languages if lg in langs), values["lang"])
                        wanted.append((journalist.email, journalist.name, lang, journalist.id))
            if problems or not wanted:
                problems = problems or [ctx._("Name at least one recipient or a media list.")]
                return render(ctx, release_id, 422, problems=problems, values=values)
            now = desk.wall()
            fallback = sorted(langs, key=lambda lg: desk.langs.index(lg) if lg in desk.langs else 9)[0]
            sharelinks.issue_and_queue(
                conn,
                "press",
                release_id,
                [(address, name, lang if lang in langs else fallback, jid) for address, name, lang, jid in wanted],
                ctx.user.username,
                now,
                lambda link, token: _press_email(
                    desk.settings, next(r for r in found if r.lang == link.lang), link, token, when, now
                ),
            )
            sent, failed = await anyio.to_thread.run_sync(lambda: deliver_mail(desk.settings))
        finally:
            conn.close()
        await anyio.to_thread.run_sync(lambda: prune_snapshots(desk, catalog))
        ctx.log("shared embargoed preview", f"{release_id}: {len(wanted)} recipient(s)")
        done = "shared" if not failed else "queued"
        return RedirectResponse(f"/press/{release_id}?done={done}", status_code=303)

    async def revoke(ctx: Context) -> Response:
        form = ctx.form
        assert form is not None
        number = str(form.get("link", ""))
        conn = connect()
        try:
            row = conn.execute(
                "SELECT id, release, purpose FROM share_links WHERE id = ?", (int(number) if number.isdigit() else 0,)
            ).fetchone()
            if row is None:
                raise Refused(404, "no-link")
            sharelinks.revoke(conn, row["id"], ctx.user.username, desk.wall())
        finally:
            conn.close()
        await anyio.to_thread.run_sync(lambda: prune_snapshots(desk))
        ctx.log(f"revoked {row['purpose']} link", f"{row['release']}: link {row['id']}")
        target = "press" if row["purpose"] == "press" else "review"
        return RedirectResponse(f"/{target}/{row['release']}?done=revoked", status_code=303)

    return [
        Route("/press/{release:str}", page(desk)(press_page), methods=["GET"]),
        Route("/press/{release:str}", page(desk)(share), methods=["POST"]),
        Route("/links/revoke", page(desk)(revoke), methods=["POST"]),
    ]


def deliver_mail(settings: dict) -> tuple[int, list[str]]:
    conn = store.connect(store.db_path(settings))
    try:
        return sharemail.deliver(conn, settings)
    finally:
        conn.close()


def prune_snapshots(desk: Desk, catalog: Catalog | None = None) -> list[str]:
    """Remove the snapshots no working link can open: those of withdrawn or expired links only, and those of a
    release's earlier revisions (a link always opens its release's current one). Run on every share, ask for
    review, withdrawal, at desk start and every PRUNE_SECONDS, so the folder holds at most one snapshot per live
    release and kind. `catalog`: the desk's content as the caller just read it."""
    catalog = desk.catalog() if catalog is None else catalog
    settings, now = desk.settings, desk.now()
    conn = store.connect(store.db_path(settings))
    try:
        links = sharelinks.unrevoked(conn)
    finally:
        conn.close()
    keep = set()
    for link in links:
        if link.state(now, lift(catalog, link.release), grace(settings)) == sharelinks.OK:
            mine = versions(catalog, link.release)
            try:
                sha = gitstore.last_commit(desk.repo, [r.source for r in mine]) if mine else ""
            except gitstore.GitError:
                continue
            if sha:
                keep.add(snapshot.name(link.release, sha, link.purpose))
    return snapshot.prune(settings, keep)


async def prune_snapshots_every(desk: Desk, seconds: float) -> None:
    """prune_snapshots on a timer, for as long as the desk runs: a link expires at its time, and a link withdrawn
    or an edit committed outside the desk is no desk action, so without it their snapshots would stay until one."""
    while True:
        await anyio.sleep(seconds)
        try:
            await anyio.to_thread.run_sync(lambda: prune_snapshots(desk))
        except Exception:  # noqa: BLE001 - a content error or a git failure now is tried again at the next tick
            log.exception("removing old snapshots failed; trying again in %s s", seconds)


def _press_email(
    settings: dict, release: Release, link: sharelinks.Link, token: str, when: datetime, now: datetime
) -> bytes:
    lifted = when.astimezone(Settings.of(settings).tz)
    return sharemail.compose(
        settings,
        "press_share",
        link.lang,
        link.email,
        now,
        title=release.title,
        greeting_name=link.name,
        url=f"{str(settings['NEWSROOM_DESK_PREVIEW_URL']).rstrip('/')}/t/{token}/",
        lift_date=f"{lifted.day}.{lifted.month}.{lifted.year}",
        lift_time=f"{lifted.hour}.{lifted.minute:02d}",
        ends=(when + grace(settings)).astimezone(Settings.of(settings).tz),
    )


# --- the preview origin's side ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _referenced(site: Path, pages: tuple[str, ...]) -> frozenset[str]:
    """The files the release's own pages use (pictures, attachments, cards): with the theme's, all a link serves."""
    found = set()
    for folder in pages:
        index = site / folder / "index.html"
        if index.is_file():
            found |= set(_ADDRESS.findall(index.read_text("utf-8", errors="ignore")))
    return frozenset(found)


_ADDRESS = re.compile(re.escape(snapshot.KEY) + r"/([^\"'\s?#<>)]+)")


def preview_routes(settings: dict, headers: dict[str, str]) -> list[Route]:
    checked = Settings.of(settings)
    content = Path(settings["PATH"]).resolve()
    repo = gitstore.toplevel(content)
    limiter = RateLimiter(LINK_LIMITS)

    def catalog() -> Catalog:
        return load_catalog(content, checked.tz, checked.langs, checked["SLUG_REGEX_SUBSTITUTIONS"])

    def now() -> datetime:
        return checked.now if checked.pinned else datetime.now(checked.tz)

    def plain(status: int, lang: str, title: str, text: str) -> Response:
        _ = i18n.translator(lang, catalog_dir(checked))
        body = (
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(_(title))}</title></head><body><main><h1>{escape(_(title))}</h1>"
            f"<p>{escape(_(text))}</p></main></body></html>"
        )
        response = HTMLResponse(body, status_code=status)
        response.headers.update(headers)
        return response

    async def serve(request: Request) -> Response:
        token, path = request.path_params["token"], request.path_params["path"]
        lang = i18n.pick(None, request.headers.get("accept-language", ""))
        conn = store.connect(store.db_path(settings))
        try:
            client = request.client.host if request.client else ""
            if limiter.hit(conn, [key("shared-link", client)], datetime.now(UTC)) is not None:
                return plain(
                    429,
                    lang,
                    N_("Too many requests"),
                    N_("Too many requests from your address. Wait a minute and try again."),
                )
            link = sharelinks.find(conn, token, "press") or sharelinks.find(conn, token, "review")
            if link is None:
                return plain(
                    404,
                    lang,
                    N_("Link not valid"),
                    N_("This link is not valid. Check that the whole address was copied from the email."),
                )
            found = catalog()
            state = link.state(now(), lift(found, link.release), grace(settings))
            if state == sharelinks.REVOKED:
                return plain(
                    403,
                    link.lang,
                    N_("Link withdrawn"),
                    N_(
                        "This link has been withdrawn by the newsroom. Ask the sender for a new one if you still need it."
                    ),
                )
            mine = versions(found, link.release)
            if state == sharelinks.EXPIRED or not mine:
                return plain(
                    410,
                    link.lang,
                    N_("Link expired"),
                    N_("This link has expired. The release is on the newsroom's public site once it is published."),
                )
            if not path:
                first = next((r for r in mine if r.lang == link.lang), mine[0])
                response = RedirectResponse(f"/t/{token}/{page_path(first)}", status_code=303)
                response.headers.update(headers)
                return response
            sha = gitstore.last_commit(repo, [r.source for r in mine])
            site = await anyio.to_thread.run_sync(
                lambda: snapshot.ensure(settings, repo, link.release, sha, link.purpose, now())
            )
            wanted = (site / path).resolve()
            if wanted != site and site not in wanted.parents:
                return plain(404, link.lang, N_("Not found"), N_("There is no such page behind this link."))
            is_page = wanted.is_dir() or wanted.suffix == ".html"
            folder = path.removesuffix("index.html").rstrip("/") + "/"
            pages = tuple(page_path(r) for r in mine)
            allowed = folder in pages if is_page else path.startswith("theme/") or path in _referenced(site, pages)
            if not allowed:
                return plain(404, link.lang, N_("Not found"), N_("There is no such page behind this link."))
            if wanted.is_dir():
                wanted = wanted / "index.html"
            if not wanted.is_file():
                return plain(404, link.lang, N_("Not found"), N_("There is no such page behind this link."))
            if is_page:
                sharelinks.opened(conn, link.id, datetime.now(UTC))
        finally:
            conn.close()
        kind = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
        data = wanted.read_bytes()
        if kind.startswith(TEXT_TYPES):
            data = data.replace(snapshot.KEY.encode(), token.encode())
        response = Response(data, media_type=kind)
        response.headers.update(headers)
        return response

    return [Route("/t/{token:str}/{path:path}", serve)]
