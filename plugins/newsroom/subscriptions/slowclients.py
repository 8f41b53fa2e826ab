"""A deadline for every request to arrive whole, headers and body: uvicorn times out only idle keep-alive
connections, so a client sending a byte now and then (slowloris) would hold its connection, and a worker, forever.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

# Long enough for a form post over a slow mobile link, short enough that held connections do not pile up.
REQUEST_SECONDS = 10.0
_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class DeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request is not whole `request_seconds` after it
    opened or after the request's first byte (408 when the headers never finished)."""

    request_seconds = REQUEST_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._start_clock()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._start_clock()
        super().data_received(data)
        cycle = self.cycle
        if self._deadline is not None and cycle is not None and cycle is not self._before and not cycle.more_body:
            self._stop_clock()  # this request is here whole

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def _start_clock(self) -> None:
        self._before = self.cycle
        self._deadline = self.loop.call_later(self.request_seconds, self._too_slow)

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle is self._before:
            self.transport.write(_TIMEOUT)
        self.transport.close()


def with_deadline(seconds: float) -> type[DeadlineProtocol]:
    """The protocol class for uvicorn's `http=` with its own deadline."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"request_seconds": seconds})
