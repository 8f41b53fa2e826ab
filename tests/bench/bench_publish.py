"""`make bench-publish`: how soon a release is in front of readers and in subscribers' mail, with the resident publisher
and with cron-style `newsroom publish`, on one synthetic newsroom; bare Pelican's cold build of the same corpus is the
yardstick, measured in the same run.

The deploy target is served over HTTP on loopback, mail goes to a real SMTP server on loopback (aiosmtpd), and a
poller requests the release page every 50 ms (and, before each lift, the front page and the Atom feed too, to prove
nothing shows early). Figures are from the wall clock of this process, which the publisher shares.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402
from synthetic import TZ, district, write_corpus  # noqa: E402

from smtpsink import RecordingHandler, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
READERS = 3
POLL = 0.05


class TimedHandler(RecordingHandler):
    """The SMTP sink, noting when each message was accepted and its subject."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[tuple[float, str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self.accepted.append((time.time(), self.received[-1].message["Subject"] or ""))
        return answer

    def first(self, title: str) -> float | None:
        return min((t for t, subject in self.accepted if title in subject), default=None)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Bench:
    def __init__(self, work: Path, releases: int, ahead: int):
        self.work, self.releases = work, releases
        # A build takes longer the larger the newsroom (about 15 s for 2,000 releases on an idle machine, more for a
        # first, cold one): every wait scales with it, so --releases 10000 does not time out on a busy machine.
        self.patience = max(300.0, releases * 0.15)
        self.content = work / "content"
        self.state, self.target = work / "state", work / "site"
        self.sink = TimedHandler()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(self.target)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.settings = work / "settings.py"
        self.settings.write_text(
            f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom publishconf import *\n"
            f"PATH = {str(self.content)!r}\nTHEME = {str(ROOT / 'theme')!r}\n"
            f"PLUGIN_PATHS = [{str(ROOT / 'plugins')!r}]\nNEWSROOM_PREBUILD_AHEAD = {ahead}\n"
            f"SITEURL = 'http://127.0.0.1:{self.server.server_port}'\n",
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "NEWSROOM_STATE_DIR": str(self.state),
            "NEWSROOM_DEPLOY": str(self.target),
            "NEWSROOM_SMTP_URL": f"smtp://127.0.0.1:{self.controller.port}",
            "NEWSROOM_IMAGE_CACHE": str(work / "image-cache"),
        }
        self.env.pop("NEWSROOM_NOW", None)
        self.early: list[str] = []
        self.number = 0

    def cli(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "newsroom.cli", "--settings", str(self.settings), *args]
        return subprocess.run(command, cwd=self.work, env=self.env, capture_output=True, text=True, **kwargs)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.server.server_port}/{path}", timeout=5) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except (urllib.error.URLError, ConnectionError):
            return 0, ""

    def write(self, when: datetime) -> tuple[str, str]:
        """A new release dated `when`; returns its title and page address."""
        self.number += 1
        title = f"Mittausjulkaisu numero {self.number} {random.Random(self.number).randrange(10**6)}"
        slug = title.lower().replace(" ", "-")
        place = district(10_000 + self.number)  # a made-up word of its own: no sentence is shared with another release
        body = f"{place} saa uuden kirjaston ja {place} kertoo siitä asukkaille tänään.\n"
        header = (
            f"Title: {title}\nDate: {when.astimezone(TZ).isoformat(timespec='seconds')}\nType: news\nLang: fi\n"
            f"Release: bench-{self.number}\nLead: {title}.\nContacts: {self._contact()}\n\n"
        )
        path = self.content / "releases" / f"bench-{self.number}.fi.md"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(header + body, encoding="utf-8")
        os.replace(temporary, path)  # saved in one step, as an editor or git does
        return title, f"fi/releases/{slug}/"

    def _contact(self) -> str:
        return next((self.content / "contacts").glob("*.yaml")).stem

    def served_at(self, page: str, title: str, instant: float | None) -> float:
        """Poll every 50 ms until the page is served; before `instant` also check it, the front page and the feed."""
        timeout = self.patience
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            asked = time.time()
            code, _ = self.get(page)
            if instant is not None and asked < instant:
                if code == 200:
                    self.early.append(f"{page} at {instant - asked:.3f} s before the lift")
                for other in ("fi/", "fi/feeds/all.atom.xml"):
                    if title in self.get(other)[1] and time.time() < instant:
                        self.early.append(f"'{title}' in {other} before the lift")
            elif code == 200:
                return time.time()
            time.sleep(POLL)
        raise SystemExit(f"{page} was not served within {timeout} s")

    def mail_at(self, title: str) -> float:
        timeout = self.patience
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sink.first(title)
            if found:
                return found
            time.sleep(0.02)
        raise SystemExit(f"no email for '{title}' within {timeout} s")

    def idle(self) -> None:
        """Wait until the publisher has nothing to do (its status file says so): its catch-up run is over."""
        status = self.state / "publisher-status.json"
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            try:
                if json.loads(status.read_text(encoding="utf-8")).get("state") == "idle":
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"the publisher was not idle within {self.patience:.0f} s")

    def close(self) -> None:
        self.server.shutdown()
        self.controller.stop()


def bare_cold(work: Path) -> float:
    """Bare Pelican's cold build of the same corpus, in a fresh process (bench_build's builder)."""
    folder = work / "bare"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    command = [
        sys.executable,
        str(Path(__file__).with_name("bench_build.py")),
        "_build",
        "bare",
        str(folder),
        "fi",
        "0",
    ]
    shutil.copytree(work / "content", folder / "content")
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def lifts_with_publisher(bench: Bench, count: int, gap: float, saves: int) -> dict:
    process = subprocess.Popen(
        [sys.executable, "-m", "newsroom.cli", "--settings", str(bench.settings), "publisher", "run"],
        cwd=bench.work,
        env=bench.env,
        stdout=subprocess.DEVNULL,
        stderr=(bench.work / "publisher.log").open("w"),
    )
    try:
        bench.idle()  # its catch-up run: nothing new, the site is as the first publish left it
        saved = []
        for _ in range(saves):
            written = time.time()
            title, page = bench.write(datetime.now(TZ) - timedelta(minutes=1))
            saved.append(bench.served_at(page, title, None) - written)
            time.sleep(2)
        # One lift not measured: the publisher's first prebuild is a build from nothing (its folder is new), as after
        # an install; what is measured is the publisher running, its prebuilds warm.
        warmup = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=gap)
        title, page = bench.write(warmup)
        bench.served_at(page, title, warmup.timestamp())
        bench.idle()
        measured_from = len((bench.work / "publisher.log").read_text())
        first = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=gap + 20)
        planned = [
            (first + timedelta(seconds=gap * i), *bench.write(first + timedelta(seconds=gap * i))) for i in range(count)
        ]
        served, mailed = [], []
        for when, title, page in planned:
            instant = when.timestamp()
            served.append(bench.served_at(page, title, instant) - instant)
            mailed.append((title, instant))
        mail = [bench.mail_at(title) - instant for title, instant in mailed]
    finally:
        process.terminate()
        process.wait(bench.patience)  # it finishes the build under way first
    log = (bench.work / "publisher.log").read_text()[measured_from:]
    return {
        "served": served,
        "mail": mail,
        "saved": saved,
        "swaps": log.count("swapped the prebuild in"),
        "at_instant": log.count("building at the instant"),
    }


def lifts_with_cron(bench: Bench, count: int, saves: int) -> dict:
    """`newsroom publish` started at the very second of each lift: cron's best case (its interval comes on top)."""
    served, mail, saved, took = [], [], [], []
    started = time.perf_counter()
    bench.cli("publish")  # what the publisher published last is what this path starts from
    lead = max(3.0, 2 * (time.perf_counter() - started))  # room for the run before the lift, larger with N
    for _ in range(count):
        when = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=lead)
        title, page = bench.write(when)
        bench.cli("publish")  # the embargoed release is read, nothing public changed
        instant = when.timestamp()
        time.sleep(max(0.0, instant - time.time()))
        started = time.perf_counter()
        result = bench.cli("publish")
        took.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(result.stderr)
        served.append(bench.served_at(page, title, instant) - instant)
        mail.append(bench.mail_at(title) - instant)
    for _ in range(saves):
        written = time.time()
        title, page = bench.write(datetime.now(TZ) - timedelta(minutes=1))
        bench.cli("publish")
        saved.append(bench.served_at(page, title, None) - written)
    return {"served": served, "mail": mail, "saved": saved, "publish": took}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(releases: int, bare: float, cold_publish: float, resident: dict, cron: dict) -> str:
    def row(name: str, values: list[float], target: str) -> str:
        return f"| {name} | {len(values)} | {_p(values, 0.5):.2f} | {_p(values, 0.99):.2f} | {target} |"

    lines = [
        f"Synthetic newsroom of {releases} releases (fi); bare Pelican cold build {bare:.2f} s; "
        f"first (cold) `newsroom publish` {cold_publish:.2f} s.",
        "",
        "| path: figure | n | p50 s | p99 s | target |",
        "|---|---:|---:|---:|---|",
        row("publisher: lift to page served", resident["served"], "p99 <= 1 s"),
        row("publisher: lift to first email accepted", resident["mail"], "<= 5 s"),
        row("publisher: public release saved to page served", resident["saved"], f"<= {0.35 * bare:.2f} s (0.35x)"),
        row("cron publish at the lift: lift to page served", cron["served"], "+ cron interval"),
        row("cron publish at the lift: lift to first email", cron["mail"], "+ cron interval"),
        row("cron publish: public release saved to page served", cron["saved"], "+ cron interval"),
        "",
        f"publisher saved-to-served / bare cold: {statistics.median(resident['saved']) / bare:.2f}x; "
        f"cron publish saved-to-served / bare cold: {statistics.median(cron['saved']) / bare:.2f}x",
        f"publisher lifts: {resident['swaps']} swapped from a prebuild, {resident['at_instant']} built at the instant",
        f"never early: {'yes' if not resident['early'] and not cron['early'] else 'NO: ' + '; '.join(resident['early'] + cron['early'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-publish", description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=2000)
    parser.add_argument("--lifts", type=int, default=10, help="embargo lifts with the publisher (default 10)")
    parser.add_argument(
        "--gap", type=float, help="seconds between lifts (default 40, or 0.01 s a release if more: a warm build fits)"
    )
    parser.add_argument("--ahead", type=int, help="NEWSROOM_PREBUILD_AHEAD for the run (default twice the gap)")
    parser.add_argument("--cron-lifts", type=int, default=3, help="lifts published by cron-style runs (default 3)")
    parser.add_argument("--saves", type=int, default=3, help="public releases saved, per path (default 3)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-publish")
    args = parser.parse_args(argv)
    args.gap = args.gap or max(40.0, args.releases / 100)
    args.ahead = args.ahead or int(2 * args.gap)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    write_corpus(args.work / "content", args.releases, ("fi",))
    print("bare Pelican, cold ...", file=sys.stderr, flush=True)
    bare = bare_cold(args.work)
    bench = Bench(args.work, args.releases, args.ahead)
    try:
        from newsroom.mail import store, subscribers
        from newsroom.mail.subscribers import Preferences

        bench.state.mkdir(parents=True)
        conn = store.connect(bench.state / "newsroom.sqlite3")
        for number in range(READERS):
            subscribers.add(conn, f"reader{number}@bench.example", Preferences(("fi",)), datetime.now(TZ))
        conn.close()
        print("first publish (cold) ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        first = bench.cli("publish")
        cold_publish = time.perf_counter() - started
        if first.returncode != 0:
            raise SystemExit(first.stderr)
        print("the resident publisher ...", file=sys.stderr, flush=True)
        resident = lifts_with_publisher(bench, args.lifts, args.gap, args.saves)
        resident["early"], bench.early = bench.early, []
        print("cron-style publish ...", file=sys.stderr, flush=True)
        cron = lifts_with_cron(bench, args.cron_lifts, args.saves)
        cron["early"] = bench.early
    finally:
        bench.close()
    print(table(args.releases, bare, cold_publish, resident, cron))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
