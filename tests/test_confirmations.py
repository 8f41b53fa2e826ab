"""Confirmation emails survive the service being stopped or killed: the real `newsroom subscriptions serve`
process, SIGTERM and SIGKILL with emails queued, then started again: every sign-up's email reaches the server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from newsroom.mail import store
from sitebuilder import ROOT
from smtpsink import RecordingHandler, free_port, start_server

SIGN_UPS = 200
CONFIRM = "/confirm/"


class _Service:
    """`newsroom subscriptions serve` as a process of its own, started and stopped as an operator's init would."""

    def __init__(self, db: Path, smtp_url: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "NEWSROOM_DB": str(db),
            "NEWSROOM_SMTP_URL": smtp_url,
            "NEWSROOM_SUBSCRIBE_URL": self.url,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "newsroom.cli", "subscriptions", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=5).text == "ok":
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)

    def stop(self, how: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(how)
        return self.process.wait(timeout=60)


def _sign_up_many(url: str, addresses: list[str]) -> None:
    async def run() -> list[int]:
        gate = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:

            async def one(n: int, address: str) -> int:
                async with gate:
                    response = await http.post(
                        "/subscribe",
                        data={"email": address, "languages": "fi", "consent": "yes", "lang": "fi"},
                        headers={"X-Forwarded-For": f"127.9.{n // 250}.{n % 250 + 1}"},
                    )
                    return response.status_code

            return await asyncio.gather(*(one(n, a) for n, a in enumerate(addresses)))

    assert asyncio.run(run()) == [200] * len(addresses)


def _arrived(handler: RecordingHandler, domain: str) -> set[str]:
    return {r.recipient for r in handler.to(domain) if CONFIRM.encode() in r.data}


def _wait_for_all(handler: RecordingHandler, domain: str, addresses: list[str]) -> None:
    deadline = time.monotonic() + 120
    while _arrived(handler, domain) != set(addresses):
        assert time.monotonic() < deadline, f"{len(_arrived(handler, domain))} of {len(addresses)} arrived"
        time.sleep(0.05)


def _wait_until_queue_is_empty(db) -> None:
    deadline = time.monotonic() + 60
    while True:
        conn = store.connect(db)
        try:
            left = conn.execute("SELECT count(*) FROM confirmations").fetchone()[0]
        finally:
            conn.close()
        if not left:
            return
        assert time.monotonic() < deadline, f"{left} confirmation(s) still queued"
        time.sleep(0.1)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_queued_confirmations_survive_a_stop_or_a_kill_and_go_out_after_a_restart(tmp_path, how):
    domain = f"{how.name.lower()}.example"
    addresses = [f"reader{n:03d}@{domain}" for n in range(SIGN_UPS)]
    controller, handler = start_server()
    db = tmp_path / "newsroom.sqlite3"
    service = _Service(db, f"smtp://127.0.0.1:{controller.port}?timeout=3")
    try:
        handler.hold(1)  # the mail server sits on the first email: the rest pile up in the queue
        service.start()
        _sign_up_many(service.url, addresses)
        code = service.stop(how)
        assert code == -how  # uvicorn shuts down on SIGTERM, then exits by the signal it was sent
        before = len(_arrived(handler, domain))
        handler.release()
        conn = store.connect(db)
        queued = conn.execute("SELECT count(*) FROM confirmations").fetchone()[0]
        conn.close()
        assert queued >= SIGN_UPS - before - 1 > 0
        print(f"{how.name}: {before} of {SIGN_UPS} sent before the signal, {queued} waiting in the database")
        service.start()
        _wait_for_all(handler, domain, addresses)
        # The email in flight at a kill is due again when its lease ends (2 x timeout + 1 s): it goes once more.
        _wait_until_queue_is_empty(db)
        assert service.stop(signal.SIGTERM) == -signal.SIGTERM
        copies = [r.recipient for r in handler.to(domain) if CONFIRM.encode() in r.data]
        assert len(copies) - len(set(copies)) <= 1  # at most the one in flight twice
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()
        handler.release()
        controller.stop()
    conn = store.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM confirmations").fetchone()[0] == 0  # no token left at rest
        live = {row[0] for row in conn.execute("SELECT hash FROM tokens WHERE purpose = 'confirm'")}
    finally:
        conn.close()
    links = {
        r.recipient: r.message.get_body(("plain",)).get_content().split(CONFIRM, 1)[1].split()[0]
        for r in handler.to(domain)
    }
    assert all(store.token_hash(token) in live for token in links.values())  # every email's link works


def test_a_stopped_service_first_sends_what_is_queued(tmp_path):
    domain = "drained.example"
    addresses = [f"reader{n:03d}@{domain}" for n in range(SIGN_UPS)]
    controller, handler = start_server()
    service = _Service(tmp_path / "newsroom.sqlite3", f"smtp://127.0.0.1:{controller.port}")
    try:
        service.start()
        _sign_up_many(service.url, addresses)
        assert service.stop(signal.SIGTERM) == -signal.SIGTERM
        arrived = _arrived(handler, domain)
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()
        controller.stop()
    print(f"SIGTERM with the server answering: {len(arrived)} of {SIGN_UPS} sent before the service exited")
    assert arrived == set(addresses)
