"""`make bench-subscriptions`: the subscription service under a bounded sign-up load on loopback.

The service runs as `newsroom subscriptions serve` in its own process, with a fresh database and an aiosmtpd sink
here that only counts the confirmation emails. Each stage sends a fixed number of sign-ups (each a new address
from a new client address, as a reverse proxy would report them) with a fixed number in flight, and reports
requests per second, latency percentiles and every answer that was not 200. Every loop is bounded in count and in
time, and all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from smtpsink import free_port  # noqa: E402

STAGE_SECONDS = 60.0  # a stage stops sending after this long, whatever its count


class Counting:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        return "250 OK"


def start_service(state: Path, smtp_port: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NEWSROOM_DB": str(state / "bench.sqlite3"), "NEWSROOM_SUBSCRIBE_URL": url,
           "NEWSROOM_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "NEWSROOM_MAIL_FROM": "bench@bench.test"}
    process = subprocess.Popen([sys.executable, "-m", "newsroom.cli", "--settings", "pelicanconf.py", "subscriptions",
                                "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
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


async def stage(url: str, requests: int, in_flight: int, numbers: itertools.count) -> dict:
    """`requests` sign-ups with at most `in_flight` at once; latencies in milliseconds and the answers counted."""
    latencies: list[float] = []
    answers: Counter = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for _ in range(requests):
        queue.put_nowait(next(numbers))
    stop_at = time.monotonic() + STAGE_SECONDS

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty() and time.monotonic() < stop_at:
            n = queue.get_nowait()
            started = time.perf_counter()
            try:
                response = await http.post("/subscribe", data={
                    "email": f"reader{n}@bench.test", "languages": "fi", "consent": "yes", "lang": "fi",
                    "source": "/fi/subscribe/"}, headers={"X-Forwarded-For": f"127.{n // 62500 % 250 + 1}."
                                                                           f"{n // 250 % 250}.{n % 250 + 1}"})
                answers[response.status_code] += 1
            except httpx.HTTPError as exc:
                answers[type(exc).__name__] += 1
            latencies.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"in_flight": in_flight, "sent": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50": statistics.median(latencies), "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max": latencies[-1], "answers": dict(answers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="sign-ups per stage (default 2000)")
    parser.add_argument("--in-flight", default="1,8,32,64", help="concurrency of each stage (default 1,8,32,64)")
    args = parser.parse_args()
    sink = Counting()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    with tempfile.TemporaryDirectory() as state:
        process, url = start_service(Path(state), controller.port)
        numbers = itertools.count()
        try:
            asyncio.run(stage(url, 200, 8, numbers))  # warm-up, not reported
            results = [asyncio.run(stage(url, args.requests, int(n), numbers)) for n in args.in_flight.split(",")]
            sent = next(numbers)
            deadline = time.monotonic() + 120
            while sink.count < sent and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(30)
            controller.stop()
    print(f"Sign-ups to the subscription service on 127.0.0.1 ({os.cpu_count()} cores, client and service on the "
          f"same machine; load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'in flight':>9} {'sent':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  answers")
    for r in results:
        print(f"{r['in_flight']:>9} {r['sent']:>6} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
              f"{r['max']:>8.1f}  {r['answers']}")
    clean = [r for r in results if r["answers"] == {200: r["sent"]} and r["sent"] == args.requests]
    if clean:
        best = max(clean, key=lambda r: r["rps"])
        print(f"Held with no errors: {best['rps']:.0f} sign-ups/s at {best['in_flight']} in flight, "
              f"p99 {best['p99']:.1f} ms.")
    print(f"Confirmation emails accepted by the sink: {sink.count} of {sent} sign-ups.")


if __name__ == "__main__":
    main()
