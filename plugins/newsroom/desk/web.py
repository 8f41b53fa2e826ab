"""The desk's request machinery: settings it runs with, the signed-in user, the checks every page passes.

Every POST needs the session's CSRF token and, when the browser says where it comes from, the desk's own origin;
a refusal is a page in the user's language, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import markdown
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from newsroom.content.catalog import load_catalog
from newsroom.core.clock import timestamp
from newsroom.core.i18n import TYPE_NAMES, catalog_dir, file_size, language_name
from newsroom.core.model import TYPES, Attachment, Catalog
from newsroom.core.settings import Settings
from newsroom.desk import accounts, gitstore, i18n, oidc, problemtext
from newsroom.desk.labels import FIELD_LABELS, ROLE_NAMES
from newsroom.subscriptions.ratelimit import Limit, RateLimiter

log = logging.getLogger("newsroom.desk")

HERE = Path(__file__).parent
SESSION_COOKIE = "desk_session"
LOGIN_COOKIE = "desk_login"
LANG_COOKIE = "desk_lang"
# Sign-in attempts per user name (guessing one password) and per client address (trying many names).
USER_LIMITS = (Limit(5, timedelta(minutes=1)), Limit(30, timedelta(hours=1)))
CLIENT_LIMITS = (Limit(60, timedelta(minutes=1)), Limit(600, timedelta(hours=1)))
MAX_FORM = 2 * 1024 * 1024
# htmx as npm installed it in the newsroom checkout (package.json pins it); never from a CDN.
HTMX = HERE.parents[2] / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"


class DeskError(Exception):
    """A setting the desk cannot run with; the message says which and what to write."""


class Refused(Exception):
    """A request answered with an explanation page (403, 404, 409...), never a traceback."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_urls(settings: dict) -> None:
    for name in ("NEWSROOM_DESK_URL", "NEWSROOM_DESK_PREVIEW_URL"):
        parts = urlsplit(str(settings[name]))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeskError(f"{name} is '{settings[name]}'; write an address like https://desk.example.org")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise DeskError(
                f"{name} is plain http on {parts.hostname}: sign-in cookies would travel unencrypted; "
                "use https:// (a reverse proxy in front of the desk), or 127.0.0.1 for a desk on this machine"
            )
    if _origin(settings["NEWSROOM_DESK_URL"]) == _origin(settings["NEWSROOM_DESK_PREVIEW_URL"]):
        raise DeskError(
            "NEWSROOM_DESK_PREVIEW_URL must be another origin than NEWSROOM_DESK_URL (another port or host), "
            "so a script in a release cannot act in the desk"
        )


class Desk:
    """What every request needs: settings, content folder, repository, clock, templates."""

    def __init__(self, settings: dict, htmx: Path | None = None):
        check_urls(settings)
        self.settings = Settings.of(settings)
        self.content = Path(settings["PATH"]).resolve()
        self.repo = gitstore.toplevel(self.content)
        self.tz = ZoneInfo(settings["TIMEZONE"])
        self.langs = tuple(settings["NEWSROOM_LANGUAGES"])
        self.db = accounts.db_path(settings)
        self.origin = _origin(settings["NEWSROOM_DESK_URL"])
        self.secure = settings["NEWSROOM_DESK_URL"].startswith("https:")
        self.htmx = htmx or HTMX
        self.upload_limit = int(self.settings["NEWSROOM_ATTACHMENT_MAX_MB"]) * 1_000_000  # the largest file taken
        if not self.htmx.is_file():
            raise DeskError(f"htmx is not at {self.htmx}; run 'npm ci' in the newsroom folder")
        config = oidc.Config.from_settings(self.settings)
        self.sign_on = oidc.SignOn(config) if config else None
        self.limiters = ((RateLimiter(USER_LIMITS), "desk-user"), (RateLimiter(CLIENT_LIMITS), "desk-client"))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            TYPES=TYPES, LANGS=self.langs, language_name=language_name, catalog_attachments=self.attachments
        )
        md = settings.get("MARKDOWN") or {}
        self.md_extensions = list(md.get("extension_configs", {}))
        self.md_configs = md.get("extension_configs", {})

    def attachments(self, catalog: Catalog, chosen: tuple[str, ...]) -> list[tuple[str, Attachment | None]]:
        """The files a release may attach, with their titles, and any it names that cannot be attached (not there,
        or with a problem), so the check can point at them."""
        present = sorted(catalog.attachments.items())
        return [(name, None) for name in chosen if name not in catalog.attachments] + present

    def now(self) -> datetime:
        """The content's clock (NEWSROOM_NOW when pinned, else now): what is scheduled and what is public."""
        return self.settings.now if self.settings.pinned else datetime.now(self.tz)

    @staticmethod
    def wall() -> datetime:
        """The real clock, for sessions, sign-in limits and the action log: those never follow NEWSROOM_NOW."""
        return datetime.now(UTC)

    def connect(self):
        return accounts.connect(self.db)

    def catalog(self) -> Catalog:
        return load_catalog(
            self.content,
            self.tz,
            self.langs,
            self.settings["SLUG_REGEX_SUBSTITUTIONS"],
            self.settings["NEWSROOM_ATTACHMENT_MAX_MB"],
        )

    def markdown(self, text: str) -> str:
        return markdown.markdown(
            text, extensions=self.md_extensions, extension_configs=self.md_configs, output_format="html5"
        )


# --- requests ---------------------------------------------------------------------------------


class Context:
    """One request as a handler sees it: the desk, the user (if signed in), the UI language, the form."""

    def __init__(self, desk: Desk, request: Request, session: accounts.Session | None, form: FormData | None):
        self.desk, self.request, self.session, self.form = desk, request, session, form
        self.lang = i18n.pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", ""))
        self._ = i18n.translator(self.lang, catalog_dir(desk.settings))

    def query(self, name: str) -> str:
        return self.request.query_params.get(name, "")

    @property
    def user(self) -> accounts.User:
        assert self.session is not None
        return self.session.user

    def render(self, template: str, status: int = 200, **values) -> HTMLResponse:
        values.update(
            _=self._,
            ui_lang=self.lang,
            user=self.session.user if self.session else None,
            sign_on=self.desk.sign_on is not None,
            csrf=self.session.csrf if self.session else values.get("csrf", ""),
            path=self.request.url.path,
            type_name=lambda kind: self._(TYPE_NAMES.get(kind, kind)),
            field_label=lambda name: self._(FIELD_LABELS.get(name, name)),
            role_name=lambda role: self._(ROLE_NAMES.get(role, role)),
            say=lambda message: problemtext.translate(message, self._),
            when=lambda moment: timestamp(moment, self.desk.tz, seconds=False) if moment else "",
            file_size=lambda size: file_size(size, self.lang),
            attachment_limit=self.desk.upload_limit,
        )
        return HTMLResponse(self.desk.env.get_template(template).render(**values), status_code=status)

    def log(self, action: str, detail: str = "") -> None:
        conn = self.desk.connect()
        try:
            accounts.log(conn, self.user.username, action, detail, self.desk.wall())
        finally:
            conn.close()
        log.info("%s %s %s", self.user.username, action, detail)


Handler = Callable[[Context], Awaitable[Response]]


def _same_origin(desk: Desk, request: Request) -> bool:
    """A POST must come from the desk's own pages: Origin (or Sec-Fetch-Site) says so when the browser sends it."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == desk.origin
    return request.headers.get("sec-fetch-site", "same-origin") == "same-origin"


def page(desk: Desk, role: str | None = "writer") -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wraps a handler: session (when role is given), role, origin and CSRF checks, errors as pages."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form = None
            session = None
            try:
                if request.method == "POST":
                    if int(request.headers.get("content-length") or 0) > MAX_FORM + max(
                        64 * 1024 * 1024, 2 * desk.upload_limit
                    ):
                        raise Refused(413, "too-large")
                    if not _same_origin(desk, request):
                        raise Refused(403, "cross-origin")
                    form = await request.form(max_part_size=max(32 * 1024 * 1024, desk.upload_limit + 1024))
                if role is not None:
                    conn = desk.connect()
                    try:
                        session = accounts.session(conn, request.cookies.get(SESSION_COOKIE), desk.wall())
                    finally:
                        conn.close()
                    if session is None:
                        if request.method == "POST":
                            raise Refused(403, "signed-out")
                        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
                    if form is not None and form.get("csrf") != session.csrf:
                        raise Refused(403, "csrf")
                    if not session.user.may(role):
                        raise Refused(403, "role")
                return await handler(Context(desk, request, session, form))
            except Refused as exc:
                ctx = Context(desk, request, session, None)
                return ctx.render("error.html", status=exc.status, reason=exc.message)

        return endpoint

    return wrap


def security_headers(desk: Desk):
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
        f"form-action 'self' {_origin(desk.settings['NEWSROOM_DESK_PREVIEW_URL'])}; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )

    class Headers:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            async def send_with(message):
                if message["type"] == "http.response.start":
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"content-security-policy", policy.encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"same-origin"),
                        (b"cache-control", b"no-store"),
                        (b"x-robots-tag", b"noindex"),
                    ]
                await send(message)

            await self.app(scope, receive, send_with)

    return Headers


def author(user: accounts.User) -> tuple[str, str]:
    return user.name, user.email or f"{user.username}@desk.invalid"
