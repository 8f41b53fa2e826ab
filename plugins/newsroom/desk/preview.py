"""Preview in the real theme: a NEWSROOM_PREVIEW build into the desk's own folder, served from a second origin.

The preview is the public page exactly as the build will write it, drafts and embargoed releases marked, so it
goes into state/desk/preview (never the deploy target). It is served on another port, behind a one-time ticket
the desk hands out, with `Content-Security-Policy: sandbox` (no allow-same-origin): a script in a release body
runs in an opaque origin, which can neither read the desk's pages nor send its Strict session cookie.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from newsroom.build.run import build
from newsroom.core.settings import Settings
from newsroom.desk import accounts

COOKIE = "desk_preview"
SANDBOX = "sandbox allow-scripts allow-popups allow-forms allow-popups-to-escape-sandbox"
_build_lock = threading.Lock()


def folder(settings: dict) -> Path:
    return Path(settings["NEWSROOM_STATE_DIR"]) / "desk" / "preview"


def build_preview(settings: dict, now: datetime) -> Path:
    """Build everything, drafts and embargoed too, into the desk's preview folder; ContentError if it cannot."""
    output = folder(settings)
    with _build_lock:
        build(
            Settings.of(settings).replace(
                OUTPUT_PATH=str(output),
                CACHE_PATH=str(output.with_name(".preview-cache")),
                NEWSROOM_PREVIEW=True,
                DELETE_OUTPUT_DIRECTORY=True,
                NEWSROOM_NOW=now,
            )
        )
    return output


def ticket_url(settings: dict, ticket: str, page: str) -> str:
    return f"{settings['NEWSROOM_DESK_PREVIEW_URL'].rstrip('/')}/_ticket?t={quote(ticket)}&next={quote(page)}"


class _Guarded:
    """The preview files, only for a browser holding a preview session; every answer sandboxed."""

    def __init__(self, app, db: Path, clock):
        self.app, self.db, self.clock = app, db, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        conn = accounts.connect(self.db)
        try:
            allowed = accounts.session(conn, request.cookies.get(COOKIE), self.clock(), "preview")
        finally:
            conn.close()
        if allowed is None:
            response = PlainTextResponse("Open the preview from the desk.", status_code=403)
            await _sandboxed(response)(scope, receive, send)
            return

        async def send_sandboxed(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_sandboxed)


_HEADERS = [
    (b"content-security-policy", SANDBOX.encode()),
    (b"x-robots-tag", b"noindex"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
]


def _sandboxed(response: Response) -> Response:
    for name, value in _HEADERS:
        response.headers[name.decode()] = value.decode()
    return response


def create_preview_app(settings: dict, clock) -> Starlette:
    db = accounts.db_path(settings)
    output = folder(settings)
    output.mkdir(parents=True, exist_ok=True)

    async def ticket(request: Request) -> Response:
        conn = accounts.connect(db)
        try:
            token = accounts.redeem_ticket(conn, request.query_params.get("t", ""), clock())
        finally:
            conn.close()
        if token is None:
            return _sandboxed(PlainTextResponse("This preview link has been used or has expired.", status_code=403))
        page = request.query_params.get("next", "/")
        if not page.startswith("/") or page.startswith("//"):
            page = "/"
        response = _sandboxed(RedirectResponse(page, status_code=303))
        secure = settings["NEWSROOM_DESK_PREVIEW_URL"].startswith("https:")
        # Lax: pages of the sandboxed preview link to each other, and an opaque origin's navigation is cross-site.
        response.set_cookie(COOKIE, token, max_age=3600, httponly=True, secure=secure, samesite="lax")
        return response

    files = StaticFiles(directory=str(output), html=True, check_dir=False)
    return Starlette(routes=[Route("/_ticket", ticket), Mount("/", app=_Guarded(files, db, clock))])
