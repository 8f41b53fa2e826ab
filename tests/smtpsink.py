"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can misbehave on request.

Recipients choose the answer: `tempfail...@` gets 451 for its first message and 250 after, `reject...@` gets 550
at RCPT, everyone else 250. `hold_at` makes the server sit on the Nth message until `release()`, so a test can
kill a sender with a message in flight.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    sender: str
    recipient: str
    data: bytes
    answer: str

    @property
    def accepted(self) -> bool:
        return self.answer.startswith("250")

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default)


class RecordingHandler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.tries: Counter[str] = Counter()
        self.hold_at: int | None = None
        self._released = threading.Event()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if address.startswith("reject"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        recipient = envelope.rcpt_tos[0]
        with self._lock:
            self.tries[recipient] += 1
            answer = (
                "451 4.3.0 Try again later"
                if recipient.startswith("tempfail") and self.tries[recipient] == 1
                else "250 OK"
            )
            self.received.append(Received(envelope.mail_from, recipient, envelope.original_content, answer))
            hold = self.hold_at is not None and len(self.received) >= self.hold_at
        while hold and not self._released.is_set():
            await asyncio.sleep(0.01)
        return answer

    def hold(self, more: int) -> None:
        """Answer nothing to the `more`-th message from now until `release()`."""
        self._released.clear()
        self.hold_at = len(self.received) + more

    def release(self) -> None:
        self.hold_at = None
        self._released.set()

    def wait_for(self, count: int, domain: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.to(domain, accepted_only=False)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the server got {len(self.to(domain, False))} of {count} messages for {domain}")
            time.sleep(0.01)

    def to(self, domain: str, accepted_only: bool = True) -> list[Received]:
        with self._lock:
            return [
                r for r in self.received if r.recipient.endswith("@" + domain) and (r.accepted or not accepted_only)
            ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int | None = None, **options) -> tuple[Controller, RecordingHandler]:
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    return controller, handler


@dataclass(frozen=True)
class SmtpServer:
    url: str
    handler: RecordingHandler


@pytest.fixture(scope="session")
def smtp_server() -> SmtpServer:
    """One server for the whole session: each test reads only the mail for its own recipient domain."""
    controller, handler = start_server()
    yield SmtpServer(f"smtp://127.0.0.1:{controller.port}", handler)
    handler.release()
    controller.stop()
