"""ASGI middleware in front of every route: a body size limit, security headers on every answer, and a log line
with no token in it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("newsroom.subscriptions.service")

MAX_BODY = 16 * 1024
# Path segments long enough to be tokens, left out of log lines.
LONG_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{20,}")
SECURITY_HEADERS = [
    (name.encode(), value.encode())
    for name, value in (
        (
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # Never a path (tokens are in paths), but still an Origin header on our own forms' posts.
        ("Referrer-Policy", "strict-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Permissions-Policy", "interest-cohort=()"),
    )
]


def loggable(path: str) -> str:
    """A request path as it may be logged: token-like segments replaced by an ellipsis."""
    return LONG_SEGMENT.sub("/…", path)


class ClientGone(Exception):
    """The connection closed before the whole body arrived."""


class Guard:
    """Reads the whole body first (refusing one over `max_body` with `too_large(request)`), then runs the app."""

    def __init__(self, app: ASGIApp, too_large: Callable[[Request], Response], max_body: int = MAX_BODY):
        self.app, self.too_large, self.max_body = app, too_large, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def secured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        try:
            body = await self._body(scope, receive)
        except ClientGone:  # it left (or was cut off as too slow) mid-body: a part of a form is no request
            log.info("%s %s: the client left before its body arrived", scope["method"], loggable(scope["path"])[:200])
            return
        if body is None:
            response = self.too_large(Request(scope))
            await response(scope, receive, secured)
        else:
            await self.app(scope, _replay(body, receive), secured)
        log.info("%s %s %s", scope["method"], loggable(scope["path"])[:200], status)

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole request body, or None when it is (or says it will be) larger than the limit."""
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_body:
            return None
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return None
            more = message.get("more_body", False)
        return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the client does next (such as disconnecting)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
