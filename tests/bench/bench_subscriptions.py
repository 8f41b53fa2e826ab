"""`make bench-subscriptions`: the subscription service under a bounded sign-up load on loopback.

The service runs as `newsroom subscriptions serve` in its own process, with a fresh database, and an aiosmtpd sink
in a third process only counts the confirmation emails, so only the load generator runs here. Each stage sends a
fixed number of sign-ups (each a new address from a new client address, as a reverse proxy would report them)
with a fixed number in flight, and reports requests per second, latency percentiles, the service's CPU time per
sign-up and every answer that was not 200. Every loop is bounded in count and in time, and all traffic stays on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from smtpsink import free_port  # noqa: E402

STAGE_SECONDS = 60.0  # a stage stops sending after this long, whatever its count


class Counting:
    def __init__(self, count) -> None:
        self.count = count

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def run_sink(port: int, count, ready, stop) -> None:
    controller = Controller(Counting(count), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait(600)
    controller.stop()


def start_service(state: Path, smtp_port: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NEWSROOM_DB": str(state / "bench.sqlite3"),
        "NEWSROOM_SUBSCRIBE_URL": url,
        "NEWSROOM_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NEWSROOM_MAIL_FROM": "bench@bench.test",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsroom.cli",
            "--settings",
            "pelicanconf.py",
            "subscriptions",
            "serve",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the service did not start")
        time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def stage(port: int, requests: int, in_flight: int, numbers: itertools.count) -> dict:
    """`requests` sign-ups over `in_flight` keep-alive connections; latencies in milliseconds, answers counted.

    A bare HTTP/1.1 client on asyncio streams: a full client library costs more CPU than the service under test
    and, on a machine of two cores, would measure itself.
    """
    latencies: list[float] = []
    answers: Counter = Counter()
    left = [requests]
    stop_at = time.monotonic() + STAGE_SECONDS

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left[0] > 0 and time.monotonic() < stop_at:
                left[0] -= 1
                n = next(numbers)
                body = urlencode(
                    {
                        "email": f"reader{n}@bench.test",
                        "languages": "fi",
                        "consent": "yes",
                        "lang": "fi",
                        "source": "/fi/subscribe/",
                    }
                ).encode()
                client = f"127.{n // 62500 % 250 + 1}.{n // 250 % 250}.{n % 250 + 1}"  # as a reverse proxy reports it
                head = (
                    f"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Content-Type: application/x-www-form-urlencoded\r\nX-Forwarded-For: {client}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                started = time.perf_counter()
                try:
                    writer.write(head + body)
                    await writer.drain()
                    status, length = await _response_head(reader)
                    await reader.readexactly(length)
                    answers[status] += 1
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    answers[type(exc).__name__] += 1
                    return
                finally:
                    latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "in_flight": in_flight,
        "sent": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max": latencies[-1],
        "answers": dict(answers),
    }


async def _response_head(reader: asyncio.StreamReader) -> tuple[int, int]:
    """The status code and Content-Length of an HTTP/1.1 response."""
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.partition(":")[2]) for line in lines[1:] if line.lower().startswith("content-length:"))
    return status, length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="sign-ups per stage (default 2000)")
    parser.add_argument("--in-flight", default="1,8,32,64", help="concurrency of each stage (default 1,8,32,64)")
    args = parser.parse_args()
    count, ready, stop, smtp_port = (
        multiprocessing.Value("i", 0),
        multiprocessing.Event(),
        multiprocessing.Event(),
        free_port(),
    )
    sink = multiprocessing.Process(target=run_sink, args=(smtp_port, count, ready, stop))
    sink.start()
    ready.wait(60)
    with tempfile.TemporaryDirectory() as state:
        process, url = start_service(Path(state), smtp_port)
        numbers = itertools.count()
        try:
            port = int(url.rpartition(":")[2])
            asyncio.run(stage(port, 200, 8, numbers))  # warm-up, not reported
            results = []
            for n in args.in_flight.split(","):
                before = cpu_seconds(process.pid)
                results.append(asyncio.run(stage(port, args.requests, int(n), numbers)))
                results[-1]["cpu_ms"] = (cpu_seconds(process.pid) - before) * 1000 / results[-1]["sent"]
            sent = next(numbers)
            deadline = time.monotonic() + 120
            while count.value < sent and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(30)
            stop.set()
            sink.join(30)
    print(
        f"Sign-ups to the subscription service on 127.0.0.1 ({os.cpu_count()} cores, client and service on the "
        f"same machine; load average {os.getloadavg()[0]:.1f} at the end)"
    )
    print(
        f"{'in flight':>9} {'sent':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'service CPU ms':>15}"
        "  answers"
    )
    for r in results:
        print(
            f"{r['in_flight']:>9} {r['sent']:>6} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
            f"{r['max']:>8.1f} {r['cpu_ms']:>15.2f}  {r['answers']}"
        )
    clean = [r for r in results if r["answers"] == {200: r["sent"]} and r["sent"] == args.requests]
    if clean:
        best = max(clean, key=lambda r: r["rps"])
        print(
            f"Held with no errors: {best['rps']:.0f} sign-ups/s at {best['in_flight']} in flight, "
            f"p99 {best['p99']:.1f} ms."
        )
    print(f"Confirmation emails accepted by the sink: {count.value} of {sent} sign-ups.")


if __name__ == "__main__":
    main()
