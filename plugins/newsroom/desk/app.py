"""The desk (Starlette): staff sign in, see every release, write, check, preview and schedule them in the browser.

The content stays Markdown files in git: the desk reads and writes the same files as `newsroom new` and a text
editor, checks them with the catalog `newsroom check` uses, and records every save as a commit by the user.
"""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from newsroom.build.run import BuildError
from newsroom.content import authoring
from newsroom.content.catalog import ContentError
from newsroom.core.model import TYPES, Problem
from newsroom.desk import (
    accounts,
    attachments,
    cards,
    checking,
    documents,
    gitstore,
    i18n,
    lists,
    oidc,
    pressview,
    preview,
    review,
)
from newsroom.desk.documents import Document
from newsroom.desk.web import (
    HERE,
    LANG_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Context,
    Desk,
    Refused,
    author,
    log,
    page,
    security_headers,
)
from newsroom.subscriptions.ratelimit import key

# --- the pages ----------------------------------------------------------------------------------


def _values(form: FormData) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {}
    for name in form:
        many = form.getlist(name)
        values[name] = [str(v) for v in many] if name in ("contacts", "images", "attachments") else str(many[-1])
    for name in ("contacts", "images", "attachments"):
        values.setdefault(name, [])
    return values


def _changed(before: Document, after: Document) -> list[str]:
    names = sorted(
        set(before.fields) | set(after.fields),
        key=lambda n: documents.RELEASE_FIELDS.index(n) if n in documents.RELEASE_FIELDS else 99,
    )
    changed = [n for n in names if before.get(n) != after.get(n) and n != "Status"]
    if before.body.strip() != after.body.strip():
        changed.append("body")
    return changed


def build_routes(desk: Desk) -> list[Route]:
    def find(release_id: str, lang: str) -> documents.Version:
        found = documents.versions(desk.content, desk.tz, desk.now()).get(release_id, {}).get(lang)
        if found is None:
            raise Refused(404, "no-release")
        return found

    async def login_page(ctx: Context) -> Response:
        token, _ = accounts.store.new_token()
        response = ctx.render("login.html", csrf=token, next=ctx.request.query_params.get("next", "/"), failed=False)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, secure=desk.secure, samesite="strict", path="/login")
        return response

    async def login(ctx: Context) -> Response:
        form = ctx.form
        assert form is not None
        cookie = ctx.request.cookies.get(LOGIN_COOKIE)
        if not cookie or form.get("csrf") != cookie:
            raise Refused(403, "csrf")
        username, password = str(form.get("username", "")).strip().lower(), str(form.get("password", ""))
        client = ctx.request.client.host if ctx.request.client else ""
        conn = desk.connect()
        try:
            names = {"desk-user": username, "desk-client": client}
            waits = [limiter.hit(conn, [key(kind, names[kind])], desk.wall()) for limiter, kind in desk.limiters]
            wait = max((w for w in waits if w is not None), default=None)
            if wait is not None:
                response = ctx.render("login.html", status=429, csrf=cookie, next="/", failed="limited")
                response.headers["Retry-After"] = str(int(wait.total_seconds()) + 1)
                return response
            user = accounts.authenticate(conn, username, password)
            if user is None:
                accounts.log(conn, username or "-", "sign-in refused", client, desk.wall())
                return ctx.render("login.html", status=401, csrf=cookie, next="/", failed="wrong")
            accounts.forgive(conn, key("desk-user", username))
            token = accounts.open_session(conn, user.username, desk.wall())
            accounts.log(conn, user.username, "signed in", client, desk.wall())
        finally:
            conn.close()
        target = str(form.get("next", "/"))
        response = RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", 303)
        _set_session(response, token)
        return response

    async def sso_start(ctx: Context) -> Response:
        if desk.sign_on is None:
            raise Refused(404, "no-sign-on")
        target = ctx.query("next") or "/"
        conn = desk.connect()
        try:
            url, state = await desk.sign_on.start(conn, target if target.startswith("/") else "/", desk.wall())
        except oidc.SignOnError as exc:
            raise Refused(502, str(exc)) from None
        finally:
            conn.close()
        response = RedirectResponse(url, status_code=303)
        # Lax: the provider sends the browser back with a top-level navigation from its own site.
        response.set_cookie(oidc.STATE_COOKIE, state, max_age=600, httponly=True, secure=desk.secure, samesite="lax")
        return response

    async def sso_finish(ctx: Context) -> Response:
        if desk.sign_on is None:
            raise Refused(404, "no-sign-on")
        if ctx.query("error"):
            raise Refused(403, "sign-on-refused")
        conn = desk.connect()
        try:
            user, target = await desk.sign_on.finish(
                conn, ctx.query("state"), ctx.request.cookies.get(oidc.STATE_COOKIE), ctx.query("code"), desk.wall()
            )
            token = accounts.open_session(conn, user.username, desk.wall())
            accounts.log(conn, user.username, "signed in (single sign-on)", user.role, desk.wall())
        except (oidc.SignOnError, accounts.AccountError) as exc:
            reason = {"state": "sign-on-state", "no-role": "sign-on-no-role"}.get(str(exc), "sign-on-failed")
            log.warning("single sign-on refused: %s", exc)
            return ctx.render("error.html", status=403, reason=reason)
        finally:
            conn.close()
        # A page, not a redirect: the Strict session cookie is sent only on a navigation the desk itself starts.
        response = ctx.render("signed_in.html", target=target)
        _set_session(response, token)
        response.delete_cookie(oidc.STATE_COOKIE)
        return response

    def _set_session(response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=accounts.SESSION_HOURS * 3600,
            httponly=True,
            secure=desk.secure,
            samesite="strict",
        )
        response.delete_cookie(LOGIN_COOKIE, path="/login")

    async def logout(ctx: Context) -> Response:
        conn = desk.connect()
        try:
            accounts.close_session(conn, ctx.request.cookies.get(SESSION_COOKIE))
        finally:
            conn.close()
        ctx.log("signed out")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def board(ctx: Context) -> Response:
        grouped = documents.versions(desk.content, desk.tz, desk.now())
        rows = [(rid, langs, documents.missing_languages(langs, desk.langs)) for rid, langs in grouped.items()]
        return ctx.render(
            "board.html", rows=rows, saved=ctx.request.query_params.get("saved"), reviews=review.board_states(desk)
        )

    async def new_page(ctx: Context) -> Response:
        return ctx.render("new.html", error=None, values={})

    async def new(ctx: Context) -> Response:
        form = ctx.form
        assert form is not None
        kind, lang, title = str(form.get("type", "")), str(form.get("lang", "")), str(form.get("title", "")).strip()
        values = {"type": kind, "lang": lang, "title": title}
        if kind not in TYPES or lang not in desk.langs or not title:
            return ctx.render("new.html", status=422, error="new-incomplete", values=values)
        try:
            with gitstore.locked():
                path = authoring.new_release(desk.content, kind, lang, title, desk.tz, desk.now())
                gitstore.commit(desk.repo, [path], f"New {kind} ({lang}): {title}", author(ctx.user))
        except authoring.AuthoringError:
            return ctx.render("new.html", status=409, error="new-exists", values=values)
        except gitstore.GitError as exc:
            return ctx.render("new.html", status=500, error=str(exc), values=values)
        doc, _ = documents.load(path)
        ctx.log("created", f"{path.name}")
        return RedirectResponse(f"/edit/{doc.get('Release')}/{lang}", status_code=303)

    def _editor(ctx: Context, version: documents.Version, doc: Document, blob: str, problems, status=200, **extra):
        catalog = desk.catalog()
        keywords = sorted({k for r in catalog.releases for k in r.keywords}, key=str.lower)
        by_field: dict[str, list[Problem]] = {}
        for problem in problems:
            by_field.setdefault(documents.FORM_NAMES.get(problem.field, "body"), []).append(problem)
        siblings = documents.versions(desk.content, desk.tz, desk.now()).get(version.release_id, {})
        return ctx.render(
            "edit.html",
            status=status,
            version=version,
            doc=doc,
            blob=blob,
            problems=problems,
            by_field=by_field,
            catalog=catalog,
            keywords=keywords,
            siblings=siblings,
            missing=documents.missing_languages(siblings, desk.langs),
            body_html=desk.markdown(doc.body),
            zone=desk.tz.key,
            **extra,
        )

    async def edit_page(ctx: Context) -> Response:
        version = find(ctx.request.path_params["release"], ctx.request.path_params["lang"])
        doc, blob = documents.load(version.path)
        problems, _ = checking.check(desk.content, desk.settings, {version.path: doc.text()})
        return _editor(ctx, version, doc, blob, problems, notice=ctx.request.query_params.get("saved"))

    async def edit(ctx: Context) -> Response:
        version = find(ctx.request.path_params["release"], ctx.request.path_params["lang"])
        form = ctx.form
        assert form is not None
        action = str(form.get("action", "draft"))
        if action == "attach":
            return await attach(ctx, version, form)
        with gitstore.locked():
            on_disk, current_blob = documents.load(version.path)
            doc = documents.from_form(_values(form), on_disk)
            doc.fields["Status"] = "published" if action == "schedule" else "draft"
            if str(form.get("blob", "")) != current_blob:
                ctx.log("save refused: changed meanwhile", version.path.name)
                history = gitstore.history(desk.repo, version.path, limit=1)
                diff = difflib.unified_diff(
                    on_disk.text().splitlines(), doc.text().splitlines(), "saved meanwhile", "yours", lineterm=""
                )
                return ctx.render(
                    "conflict.html",
                    status=409,
                    version=version,
                    theirs=on_disk.text(),
                    yours=doc.text(),
                    last=history[0] if history else None,
                    diff="\n".join(diff),
                )
            correcting = action == "schedule" and version.state == "public"
            if correcting:
                note = " ".join(str(form.get("correction", "")).split())
                if not note:
                    missing = Problem(version.path, 0, "Correction", "correction-needed")
                    return _editor(ctx, version, doc, current_blob, [missing], status=422, notice="not-saved")
                doc.fields.update(
                    {
                        "Modified": f"{desk.now():%Y-%m-%d %H:%M}",
                        "Correction": note,
                        "Correction-Notify": "yes" if form.get("correction_notify") == "yes" else "no",
                    }
                )
            problems, _ = checking.check(desk.content, desk.settings, {version.path: doc.text()})
            if action == "schedule" and problems:
                return _editor(ctx, version, doc, current_blob, problems, status=422, notice="not-scheduled")
            changed = _changed(on_disk, doc)
            state = "scheduled" if action == "schedule" else "draft"
            if on_disk.get("Status") != doc.get("Status"):
                changed.append(f"now {state}")
            what = ", ".join(changed) or "saved unchanged"
            message = f"{doc.get('Title') or version.path.name} ({version.lang}): {what}"
            if correcting:
                told = "subscribers to be told" if doc.get("Correction-Notify") == "yes" else "subscribers not told"
                message = f"{doc.get('Title')} ({version.lang}): corrected ({', '.join(changed)}): {doc.get('Correction')} [{told}]"
            elif action == "schedule":
                message += f"; public from {doc.get('Date')} {desk.tz.key}"
            try:
                gitstore.save(desk.repo, {version.path: doc.text()}, message, author(ctx.user))
            except gitstore.GitError as exc:
                return _editor(ctx, version, doc, current_blob, problems, status=500, git_error=str(exc))
        ctx.log(f"saved ({state})", f"{version.path.name}: {what}")
        return RedirectResponse(f"/edit/{version.release_id}/{version.lang}?saved={state}", status_code=303)

    async def attach(ctx: Context, version: documents.Version, form: FormData) -> Response:
        """An attachment uploaded from the editor: the editor comes back as typed (not saved), the file chosen."""
        doc = documents.from_form(_values(form), documents.load(version.path)[0])
        name, errors = await attachments.upload(desk, ctx, form)
        if name:
            doc.fields["Attachments"] = ", ".join([*doc.items("Attachments"), name])
        problems, _ = checking.check(desk.content, desk.settings, {version.path: doc.text()})
        typed = {k: str(form.get(k, "")) for k in map(attachments.title_field, desk.langs)} if errors else {}
        return _editor(
            ctx,
            version,
            doc,
            str(form.get("blob", "")),
            problems,
            status=422 if errors else 200,
            notice="not-attached" if errors else "attached",
            attached=name,
            upload_errors=errors,
            upload_titles=typed,
        )

    async def live_check(ctx: Context) -> Response:
        version = find(ctx.request.path_params["release"], ctx.request.path_params["lang"])
        assert ctx.form is not None
        on_disk, _ = documents.load(version.path)
        doc = documents.from_form(_values(ctx.form), on_disk)
        doc.fields["Status"] = "draft"
        problems, _ = checking.check(desk.content, desk.settings, {version.path: doc.text()})
        by_field: dict[str, list[Problem]] = {}
        for problem in problems:
            by_field.setdefault(documents.FORM_NAMES.get(problem.field, "body"), []).append(problem)
        return ctx.render(
            "checks.html", problems=problems, by_field=by_field, body_html=desk.markdown(doc.body), oob=True
        )

    async def translate(ctx: Context) -> Response:
        version = find(ctx.request.path_params["release"], ctx.request.path_params["lang"])
        assert ctx.form is not None
        target = str(ctx.form.get("to", ""))
        if target not in desk.langs:
            raise Refused(404, "no-release")
        try:
            with gitstore.locked():
                path = authoring.new_translation(version.path, target)
                gitstore.commit(
                    desk.repo,
                    [path],
                    f"{version.title}: {target} version started from {version.lang}",
                    author(ctx.user),
                )
        except authoring.AuthoringError as exc:
            raise Refused(409, str(exc)) from None
        ctx.log("translation started", path.name)
        return RedirectResponse(f"/release/{version.release_id}", status_code=303)

    async def side_by_side(ctx: Context) -> Response:
        release_id = ctx.request.path_params["release"]
        langs = documents.versions(desk.content, desk.tz, desk.now()).get(release_id)
        if not langs:
            raise Refused(404, "no-release")
        columns = []
        for lang in desk.langs:
            if lang in langs:
                doc, _ = documents.load(langs[lang].path)
                columns.append((lang, langs[lang], doc, desk.markdown(doc.body)))
        source = next(iter(langs.values()))
        return ctx.render(
            "release.html",
            release_id=release_id,
            columns=columns,
            source=source,
            missing=documents.missing_languages(langs, desk.langs),
        )

    async def history(ctx: Context) -> Response:
        version = find(ctx.request.path_params["release"], ctx.request.path_params["lang"])
        commits = gitstore.history(desk.repo, version.path)
        sha = ctx.request.query_params.get("sha", "")
        shown = None
        if sha:
            try:
                shown = gitstore.show(desk.repo, sha, version.path)
            except gitstore.GitError as exc:
                raise Refused(404, str(exc)) from None
        _, blob = documents.load(version.path)
        return ctx.render("history.html", version=version, commits=commits, sha=sha, shown=shown, blob=blob)

    async def restore(ctx: Context) -> Response:
        version = find(ctx.request.path_params["release"], ctx.request.path_params["lang"])
        assert ctx.form is not None
        sha = str(ctx.form.get("sha", ""))
        with gitstore.locked():
            _, blob = documents.load(version.path)
            if str(ctx.form.get("blob", "")) != blob:
                raise Refused(409, "changed-meanwhile")
            try:
                text = gitstore.show(desk.repo, sha, version.path)
                gitstore.save(
                    desk.repo,
                    {version.path: text},
                    f"{version.title} ({version.lang}): restored the version of {sha[:10]}",
                    author(ctx.user),
                )
            except gitstore.GitError as exc:
                raise Refused(500, str(exc)) from None
        ctx.log("restored", f"{version.path.name} to {sha[:10]}")
        return RedirectResponse(f"/edit/{version.release_id}/{version.lang}?saved=restored", status_code=303)

    async def preview_release(ctx: Context) -> Response:
        version = find(ctx.request.path_params["release"], ctx.request.path_params["lang"])
        try:
            base = await _in_thread(lambda: preview.build_preview(desk.settings, desk.now()))
        except (ContentError, BuildError) as exc:
            problems = getattr(exc, "problems", None) or [str(exc)]
            return ctx.render("error.html", status=422, reason="preview-problems", problems=problems)
        release = desk.catalog().release_at(version.path)
        page_url = f"/{version.lang}/releases/{release.slug}/" if release else f"/{version.lang}/"
        ctx.log("previewed", version.path.name)
        return RedirectResponse(base + page_url, status_code=303)

    async def users_page(ctx: Context) -> Response:
        conn = desk.connect()
        try:
            return ctx.render("users.html", users=accounts.every(conn), actions=accounts.recent_actions(conn))
        finally:
            conn.close()

    async def users_remove(ctx: Context) -> Response:
        assert ctx.form is not None
        username = str(ctx.form.get("username", ""))
        if username == ctx.user.username:
            raise Refused(409, "remove-self")
        conn = desk.connect()
        try:
            accounts.remove(conn, username)
        except accounts.AccountError:
            raise Refused(404, "no-user") from None
        finally:
            conn.close()
        ctx.log("removed user", username)
        return RedirectResponse("/users", status_code=303)

    async def set_lang(ctx: Context) -> Response:
        lang = ctx.request.path_params["lang"]
        target = ctx.request.query_params.get("next", "/")
        response = RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", 303)
        if lang in i18n.UI_LANGS:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, secure=desk.secure, samesite="strict")
        return response

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        files = {"desk.css": HERE / "static" / "desk.css", "desk.js": HERE / "static" / "desk.js", "htmx.js": desk.htmx}
        if name not in files:
            return Response(status_code=404)
        return FileResponse(files[name], headers={"cache-control": "no-cache"})

    r = "/{release:str}/{lang:str}"
    return cards.routes(desk) + [
        Route("/login", page(desk, None)(login_page), methods=["GET"]),
        Route("/login", page(desk, None)(login), methods=["POST"]),
        Route("/logout", page(desk)(logout), methods=["POST"]),
        Route("/login/oidc", page(desk, None)(sso_start)),
        Route("/login/oidc/callback", page(desk, None)(sso_finish)),
        Route("/", page(desk)(board)),
        Route("/new", page(desk)(new_page), methods=["GET"]),
        Route("/new", page(desk)(new), methods=["POST"]),
        Route(f"/edit{r}", page(desk)(edit_page), methods=["GET"]),
        Route(f"/edit{r}", page(desk)(edit), methods=["POST"]),
        Route(f"/check{r}", page(desk)(live_check), methods=["POST"]),
        Route(f"/translate{r}", page(desk)(translate), methods=["POST"]),
        Route(f"/history{r}", page(desk)(history)),
        Route(f"/restore{r}", page(desk)(restore), methods=["POST"]),
        Route(f"/preview{r}", page(desk)(preview_release), methods=["POST"]),
        Route("/release/{release:str}", page(desk)(side_by_side)),
        Route("/users", page(desk, "admin")(users_page)),
        Route("/users/remove", page(desk, "admin")(users_remove), methods=["POST"]),
        Route("/lang/{lang:str}", page(desk, None)(set_lang)),
        Route("/static/{name:str}", static),
    ]


async def _in_thread(work):
    return await anyio.to_thread.run_sync(work)


def create_app(settings: dict, htmx: Path | None = None, prune_every: float = pressview.PRUNE_SECONDS) -> Starlette:
    desk = Desk(settings, htmx)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(pressview.prune_snapshots_every, desk, prune_every)
            yield
            tasks.cancel_scope.cancel()

    routes = build_routes(desk) + lists.routes(desk) + review.routes(desk) + pressview.routes(desk)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(security_headers(desk))
    app.state.desk = desk
    pressview.prune_snapshots(desk)  # what expired while it was down
    return app
