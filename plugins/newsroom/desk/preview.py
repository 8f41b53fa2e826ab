"""Preview in the real theme: a NEWSROOM_PREVIEW build into the desk's own folder, served from a second origin.

The preview is the public page exactly as the build will write it, drafts and embargoed releases marked, so it
goes into state/desk/preview (never the deploy target). It is served on another port with
`Content-Security-Policy: sandbox` (no allow-same-origin): a script in a release body runs in an opaque origin,
which can neither read the desk's pages nor send its session cookie. An opaque origin's requests carry no
cookies either, so the preview is reached by a secret in its address instead: every build gets a new random key,
its links all start with /p/<key>/, and only the desk hands the key out, to a signed-in user. A key lasts until
the next preview build or an hour, whichever comes first.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from newsroom.build.run import build
from newsroom.core import records
from newsroom.core.settings import Settings
from newsroom.desk import pressview

SANDBOX = "sandbox allow-scripts allow-popups allow-forms allow-popups-to-escape-sandbox"
KEY_SECONDS = 3600
HEADERS = {
    "content-security-policy": SANDBOX,
    "x-robots-tag": "noindex",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}
_build_lock = threading.Lock()


def folder(settings: dict) -> Path:
    return Path(settings["NEWSROOM_STATE_DIR"]) / "desk" / "preview"


def _key_file(settings: dict) -> Path:
    return Path(settings["NEWSROOM_STATE_DIR"]) / "desk" / "preview-key.json"


def build_preview(settings: dict, now: datetime) -> str:
    """Build everything, drafts and embargoed too, into the desk's preview folder; the address it is served at
    (ContentError if the content has problems: then the previous preview stays as it was)."""
    output = folder(settings)
    key = secrets.token_urlsafe(24)
    base = f"{str(settings['NEWSROOM_DESK_PREVIEW_URL']).rstrip('/')}/p/{key}"
    with _build_lock:
        build(
            Settings.of(settings).replace(
                OUTPUT_PATH=str(output),
                CACHE_PATH=str(output.with_name(".preview-cache")),
                SITEURL=base,
                NEWSROOM_FEED_SITEURL=base,
                NEWSROOM_PREVIEW=True,
                DELETE_OUTPUT_DIRECTORY=True,
                NEWSROOM_NOW=now,
            )
        )
        records.write(_key_file(settings), {"key": key, "built": time.time()})
    return base


def current_key(settings: dict) -> str | None:
    record = records.read(_key_file(settings))
    return record.get("key") if time.time() - record.get("built", 0) < KEY_SECONDS else None


def _with_headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


def create_preview_app(settings: dict) -> Starlette:
    output = folder(settings).resolve()

    async def serve(request: Request) -> Response:
        key = current_key(settings)
        if key is None or not hmac.compare_digest(key, request.path_params["key"]):
            return _with_headers(PlainTextResponse("This preview has expired; open it again from the desk.", 403))
        wanted = (output / request.path_params["path"]).resolve()
        if wanted != output and output not in wanted.parents:
            return _with_headers(PlainTextResponse("Not found", 404))
        if wanted.is_dir():
            wanted = wanted / "index.html"
        if not wanted.is_file():
            return _with_headers(PlainTextResponse("Not found", 404))
        return _with_headers(FileResponse(wanted))

    async def nothing(request: Request) -> Response:
        return _with_headers(PlainTextResponse("Open the preview from the desk.", 403))

    # Shared links (desk/pressview.py) are served here too: the same sandbox, and no desk session to reach.
    shared = pressview.preview_routes(settings, HEADERS)
    return Starlette(routes=[Route("/p/{key:str}/{path:path}", serve), *shared, Route("/{path:path}", nothing)])
