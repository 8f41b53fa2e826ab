"""What the service refuses: a setting it cannot run with, and a request it answers with an explaining page."""

from __future__ import annotations


class ServiceError(Exception):
    """A setting the service cannot run with; the message says which and what to write."""


class Problem(Exception):
    """A request the service answers with a page explaining what went wrong (never a traceback)."""

    def __init__(self, status: int, code: str, lang: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status, self.code, self.lang, self.headers = status, code, lang, headers or {}
