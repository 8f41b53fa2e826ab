"""The resident publisher, as real processes on real time with short horizons: embargoes lift on their second and
never before, a prebuild is dropped when the content changes, a SIGKILL at any moment leaves a whole audited site and
mails each subscriber once, a clock step neither publishes early nor skips a lift, and cron's publish shares the lock.

No timing is asserted here (the benchmark measures it): only what is served before and after each instant.
"""

from __future__ import annotations

import logging
import os
import signal
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
from zoneinfo import ZoneInfo

import pytest

from newsroom.build.audit import audit
from newsroom.build.run import BuildOptions, load_settings
from newsroom.content.catalog import catalog_for
from newsroom.core import urls
from newsroom.mail import store, subscribers
from newsroom.mail.subscribers import Preferences
from newsroom.publishing import publisher as publisher_module
from newsroom.publishing import status
from newsroom.publishing.deploy import PARTIAL
from newsroom.publishing.publish import build_public, publish_lock
from newsroom.publishing.publisher import Publisher
from newsroom.publishing.schedule import Clock
from sitebuilder import ROOT, release, write_content

TZ = ZoneInfo("Europe/Helsinki")
READERS = ["aino", "bertta", "cecilia"]
pytestmark = pytest.mark.slow
# Lifts this many seconds ahead, prebuilt NEWSROOM_PREBUILD_AHEAD = 25 s before: room for a build on a busy machine.
HORIZON = 50


def _at(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Newsroom:
    """A content folder, a state dir, a deploy target served over HTTP on loopback, subscribers at a real SMTP sink."""

    def __init__(self, root: Path, smtp, domain: str, ahead: int = 25):
        self.root, self.smtp, self.domain = root, smtp, domain
        self.content = write_content(root / "content", {"old.fi.md": release("Vanha tiedote", "2026-01-10 09:00")})
        self.state, self.target = root / "state", root / "site"
        self.settings_file = root / "settings.py"
        self.settings_file.write_text(
            f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom publishconf import *\n"
            f"PATH = {str(self.content)!r}\nTHEME = {str(ROOT / 'theme')!r}\n"
            f"PLUGIN_PATHS = [{str(ROOT / 'plugins')!r}]\nNEWSROOM_PREBUILD_AHEAD = {ahead}\n"
            "SITEURL = 'http://127.0.0.1'\nNEWSROOM_PROCESSES = 1\n",
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "NEWSROOM_STATE_DIR": str(self.state),
            "NEWSROOM_DEPLOY": str(self.target),
            "NEWSROOM_SMTP_URL": smtp.url,
        }
        self.env.pop("NEWSROOM_NOW", None)
        self.processes: list[subprocess.Popen] = []
        self.log = root / "publisher.log"
        self.server: ThreadingHTTPServer | None = None

    def settings(self) -> dict:
        saved = {k: os.environ.get(k) for k in ("NEWSROOM_STATE_DIR", "NEWSROOM_DEPLOY", "NEWSROOM_SMTP_URL")}
        os.environ.update({k: self.env[k] for k in saved})
        try:
            return load_settings(BuildOptions(self.settings_file))
        finally:
            for key, value in saved.items():
                os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "newsroom.cli", "--settings", str(self.settings_file), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=300,
        )

    def subscribe(self) -> None:
        conn = store.connect(self.state / "newsroom.sqlite3")
        for name in READERS:
            subscribers.add(conn, f"{name}@{self.domain}", Preferences(languages=("fi",)), datetime.now(TZ))
        conn.close()

    def first_publish(self) -> None:
        """The newsroom as it is before the tests: published once, the archive recorded as announced."""
        self.state.mkdir(parents=True, exist_ok=True)
        self.subscribe()
        result = self.cli("publish")
        assert result.returncode == 0, result.stderr
        self.serve()

    def serve(self) -> None:
        handler = partial(_Quiet, directory=str(self.target))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.server.server_port}/{path}", timeout=5) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except (urllib.error.URLError, ConnectionError):
            return 0, ""  # the test server's backlog was full: nothing was shown

    def start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsroom.cli", "--settings", str(self.settings_file), "publisher", "run"],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("a"),
        )
        self.processes.append(process)
        return process

    def wait(self, condition, timeout: float = 300, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}\n{self.log.read_text() if self.log.exists() else ''}"
                )
            time.sleep(0.02)

    def prebuild(self) -> str:
        found = status.read(self.state)
        return found.lifts[0]["prebuild"] if found and found.lifts else ""

    def live(self) -> Path:
        return self.target.resolve()

    def add(self, name: str, title: str, when: datetime, **fields) -> Path:
        path = self.content / "releases" / name
        path.write_text(release(title, _at(when), release_id=name.split(".")[0], **fields), encoding="utf-8")
        return path

    def hidden_audit(self, folder: Path, moment: datetime) -> list:
        """The audit of a deployed copy against every version hidden at `moment`."""
        settings = self.settings()
        catalog = catalog_for(settings)
        hidden = [r for r in catalog.releases if r.date > moment]
        return audit(folder, settings, hidden)

    def message_ids(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for received in self.smtp.handler.to(self.domain):
            found.setdefault(received.recipient, set()).add(received.message["Message-ID"])
        return found

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def newsroom(tmp_path, smtp_server, request):
    room = Newsroom(tmp_path, smtp_server, f"{request.node.name.replace('_', '-')[:40].strip('-')}.example")
    room.first_publish()
    yield room
    room.stop()


class Poller:
    """Requests a page (and its listing and feed) every 20 ms; remembers what it saw before `instant`."""

    def __init__(self, room: Newsroom, slug: str, title: str, instant: datetime):
        self.room, self.slug, self.title, self.instant = room, slug, title, instant
        self.early: list[str] = []
        self.served_after = False
        self.copies_before: set[Path] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        paths = [f"fi/releases/{self.slug}/", "fi/", urls.feed("fi", "atom"), urls.feed("fi", "rss"), "sitemap.xml"]
        while not self.stop.is_set():
            copy = self.room.live()
            seen = [path for path in paths if self._shows(path)]
            if datetime.now(TZ) < self.instant:
                self.copies_before.add(copy)
                self.early += seen
            elif paths[0] in seen:
                self.served_after = True
            time.sleep(0.02)

    def _shows(self, path: str) -> bool:
        code, text = self.room.get(path)
        return code == 200 and (path.startswith("fi/releases/") or self.title in text or self.slug in text)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join()


def test_an_embargo_lifts_on_its_second_never_before_and_two_lifts_in_one_second_are_one_swap(newsroom):
    lift = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=HORIZON)
    newsroom.add("kaksi.fi.md", "Toinen samalla sekunnilla", lift)
    newsroom.add("yksi.fi.md", "Ensimmäinen salainen tiedote", lift)
    newsroom.start()
    poller = Poller(newsroom, "ensimmainen-salainen-tiedote", "Ensimmäinen salainen tiedote", lift)
    newsroom.wait(lambda: poller.served_after, what="the page after the lift")
    poller.finish()
    assert poller.early == []
    for copy in poller.copies_before:  # everything readers could reach before the lift: pages, feeds, search, sitemap
        assert copy.is_dir() and newsroom.hidden_audit(copy, lift - timedelta(seconds=1)) == []
    code, page = newsroom.get("fi/releases/toinen-samalla-sekunnilla/")
    assert code == 200 and "Toinen samalla sekunnilla" in page
    lifted = [line for line in newsroom.log.read_text().splitlines() if " INFO Lifted " in line]
    assert len(lifted) == 1 and lifted[0].endswith("2 newly public"), lifted  # one swap for both
    newsroom.smtp.handler.wait_for(2 * len(READERS), newsroom.domain)
    subjects = sorted(r.message["Subject"] for r in newsroom.smtp.handler.to(newsroom.domain))
    assert subjects == sorted(
        [f"Tiedote: {t}" for t in ("Ensimmäinen salainen tiedote", "Toinen samalla sekunnilla")] * len(READERS)
    )
    lines = newsroom.cli("publisher", "status").stdout
    assert "Publisher pid" in lines and "Ensimmäinen salainen tiedote" in lines and "No errors." in lines


def test_an_edit_between_prebuild_and_lift_is_what_goes_out(newsroom):
    lift = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=HORIZON)
    source = newsroom.add("muokattu.fi.md", "Alkuperäinen otsikko", lift)
    newsroom.start()
    newsroom.wait(lambda: newsroom.prebuild() == "ready", what="the prebuild")
    source.write_text(source.read_text().replace("Alkuperäinen otsikko", "Korjattu otsikko"), encoding="utf-8")
    poller = Poller(newsroom, "korjattu-otsikko", "Korjattu otsikko", lift)  # the address follows the title
    newsroom.wait(lambda: poller.served_after, what="the edited page after the lift")
    poller.finish()
    assert poller.early == []
    assert newsroom.get("fi/releases/alkuperainen-otsikko/")[0] == 404
    code, page = newsroom.get("fi/releases/korjattu-otsikko/")
    assert "Korjattu otsikko" in page and "Alkuperäinen otsikko" not in page
    assert "Dropped the prebuild" in newsroom.log.read_text()
    newsroom.smtp.handler.wait_for(len(READERS), newsroom.domain)
    assert {r.message["Subject"] for r in newsroom.smtp.handler.to(newsroom.domain)} == {"Tiedote: Korjattu otsikko"}


def test_sigkill_before_and_after_the_swap_leaves_a_whole_site_and_mails_each_subscriber_once(newsroom):
    lift = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=HORIZON)
    newsroom.add("kesken.fi.md", "Keskeytetty julkaisu", lift)
    first = newsroom.start()
    newsroom.wait(lambda: newsroom.prebuild() == "ready", what="the first prebuild")
    before = newsroom.live()
    first.kill()  # just before the swap: a staged copy waits beside the target
    first.wait()
    assert newsroom.live() == before and not before.name.endswith(PARTIAL)
    second = newsroom.start()
    newsroom.wait(lambda: newsroom.live() != before, what="the swap")
    second.kill()  # just after it
    second.wait()
    live = newsroom.live()
    assert not live.name.endswith(PARTIAL) and (live / "index.html").is_file()
    assert newsroom.hidden_audit(live, lift) == []
    newsroom.start()
    newsroom.wait(lambda: len(newsroom.message_ids()) == len(READERS), what="the mail after the restart")
    time.sleep(3)  # anything sent twice would arrive by now
    assert all(len(ids) == 1 for ids in newsroom.message_ids().values()), newsroom.message_ids()
    code, page = newsroom.get("fi/releases/keskeytetty-julkaisu/")
    assert code == 200 and "Keskeytetty julkaisu" in page
    assert len([p for p in newsroom.target.parent.glob(".site.new-*")]) == 0


class SteppedClock(Clock):
    """The wall clock plus an offset the test moves: an NTP step, seen by the publisher's next look at the clock."""

    def __init__(self, tz, offset: timedelta):
        super().__init__(tz)
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(self.tz) + self.offset


def test_a_clock_step_back_does_not_publish_early_and_a_step_forward_does_not_skip_the_lift(newsroom):
    lift = datetime(2030, 5, 5, 9, 0, tzinfo=TZ)
    newsroom.add("askel.fi.md", "Kellon askel", lift)
    clock = SteppedClock(TZ, lift - timedelta(seconds=60) - datetime.now(TZ))
    publisher = Publisher({**newsroom.settings(), "NEWSROOM_PREBUILD_AHEAD": 58}, clock=clock)
    thread = threading.Thread(target=publisher.run, daemon=True)
    thread.start()
    try:
        newsroom.wait(lambda: newsroom.prebuild() == "ready", what="the prebuild")
        would_lift = time.monotonic() + (lift - clock.now()).total_seconds()
        clock.offset -= timedelta(minutes=10)  # the clock steps back: the lift is ten minutes further away
        seen_at = []
        deadline = would_lift + 5  # past when the lift would have come without the step
        while time.monotonic() < deadline:
            if newsroom.get("fi/releases/kellon-askel/")[0] == 200:
                seen_at.append(clock.now())
            time.sleep(0.05)
        assert seen_at == []
        clock.offset += lift + timedelta(seconds=2) - clock.now()  # and forward, past the lift
        newsroom.wait(lambda: newsroom.get("fi/releases/kellon-askel/")[0] == 200, what="the lift after the step")
        assert clock.now() >= lift
    finally:
        publisher.request_stop()
        thread.join(30)


class HeldClock(Clock):
    """A wall clock that stands still until the test moves it: builds take what they take, no lift comes meanwhile."""

    def __init__(self, tz, now: datetime):
        super().__init__(tz)
        self.at = now

    def now(self) -> datetime:
        return self.at


def test_every_lift_within_the_window_is_prebuilt_before_the_first_is_live_each_as_at_its_instant(newsroom, caplog):
    caplog.set_level(logging.INFO, logger="newsroom.publisher")
    first = datetime(2030, 5, 5, 9, 0, tzinfo=TZ)
    second = first + timedelta(seconds=5)
    newsroom.add("eka.fi.md", "Ensimmäinen nosto", first)
    newsroom.add("toka.fi.md", "Toinen nosto", second)
    clock = HeldClock(TZ, first - timedelta(seconds=50))
    publisher = Publisher({**newsroom.settings(), "NEWSROOM_PREBUILD_AHEAD": 58}, clock=clock)
    thread = threading.Thread(target=publisher.run, daemon=True)
    thread.start()
    try:

        def states() -> list[str]:
            found = status.read(newsroom.state)
            return [lift["prebuild"] for lift in found.lifts] if found else []

        newsroom.wait(lambda: states() == ["ready", "ready"], what="both prebuilds, before the first lift")
        staged = {at: prebuild.staged.folder for at, prebuild in publisher.prebuilds.items()}
        assert newsroom.hidden_audit(staged[first], first) == []  # the second is hidden in the first lift's copy
        assert newsroom.hidden_audit(staged[second], second) == []
        assert "Toinen nosto" in (staged[second] / "fi" / "index.html").read_text(encoding="utf-8")
        assert "Ensimmäinen nosto" in (staged[second] / "fi" / "index.html").read_text(encoding="utf-8")
        assert newsroom.get("fi/releases/ensimmainen-nosto/")[0] == 404
        clock.at = first
        newsroom.wait(lambda: newsroom.get("fi/releases/ensimmainen-nosto/")[0] == 200, what="the first lift")
        assert newsroom.get("fi/releases/toinen-nosto/")[0] == 404
        assert "Toinen nosto" not in newsroom.get("fi/")[1]
        clock.at = second
        newsroom.wait(lambda: newsroom.get("fi/releases/toinen-nosto/")[0] == 200, what="the second lift")

        def swaps() -> list[str]:
            return [r.getMessage() for r in caplog.records if "swapped the prebuild in" in r.getMessage()]

        newsroom.wait(lambda: len(swaps()) == 2, what="the second swap logged")  # the log line follows the rename
        assert not any("building at the instant" in r.getMessage() for r in caplog.records)
    finally:
        publisher.request_stop()
        thread.join(30)


def test_cron_publish_and_the_publisher_at_the_same_time_never_fight(newsroom):
    lift = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=HORIZON)
    newsroom.add("yhdessa.fi.md", "Cron ja julkaisija", lift)
    newsroom.start()
    outcomes = []
    poller = Poller(newsroom, "cron-ja-julkaisija", "Cron ja julkaisija", lift)
    while not poller.served_after:
        result = newsroom.cli("publish")
        outcomes.append(result.returncode)
        assert result.returncode == 0 or "another 'newsroom publish' is running" in result.stderr, result.stderr
    poller.finish()
    assert poller.early == [] and outcomes
    newsroom.smtp.handler.wait_for(len(READERS), newsroom.domain)
    time.sleep(2)
    assert all(len(ids) == 1 for ids in newsroom.message_ids().values())
    assert newsroom.hidden_audit(newsroom.live(), lift) == []
    second = newsroom.cli("publisher", "run")
    assert second.returncode == 1 and "a publisher already runs" in second.stderr


def test_a_cached_page_cannot_carry_a_hidden_release_into_a_public_build(newsroom):
    """The warm staging folder was last built for a later moment, when the release was public; a build for now must
    not keep its page, its title in a listing, or its link anywhere."""
    lift = datetime(2030, 5, 5, 9, 0, tzinfo=TZ)
    newsroom.add("myohemmin.fi.md", "Myöhemmin julkinen", lift, Keywords="kirjastot")
    settings = newsroom.settings()
    catalog = catalog_for(settings)
    with publish_lock(newsroom.state):
        later = build_public(settings, catalog, lift + timedelta(minutes=1))
        assert "Myöhemmin julkinen" in (later / "fi" / "index.html").read_text()
        output = build_public(settings, catalog, lift - timedelta(minutes=1))
    for path in output.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".xml", ".json", ".txt"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert "Myöhemmin julkinen" not in text and "myohemmin-julkinen" not in text, path
    assert not (output / "fi" / "releases" / "myohemmin-julkinen").exists()
    assert newsroom.hidden_audit(output, lift - timedelta(minutes=1)) == []


def test_a_saved_release_goes_out_in_a_quick_build_and_the_other_pages_list_it_after_a_quiet_spell(newsroom):
    """The publish after a save rewrites only the pages the new release is on (the older release pages keep their
    "more from the publisher"); a build after the quiet seconds puts it into every list."""
    newsroom.add("toinen.fi.md", "Toinen vanha tiedote", datetime(2026, 1, 11, 9, 0, tzinfo=TZ))
    assert newsroom.cli("publish").returncode == 0
    newsroom.start()
    newsroom.wait(lambda: (status.read(newsroom.state) or status.Status()).state == "idle", what="the catch-up")
    newsroom.add("uusi.fi.md", "Juuri tallennettu tiedote", datetime.now(TZ) - timedelta(minutes=1))
    newsroom.wait(lambda: newsroom.get("fi/releases/juuri-tallennettu-tiedote/")[0] == 200, what="the new page")
    newsroom.wait(
        lambda: "Juuri tallennettu tiedote" in newsroom.get("fi/releases/vanha-tiedote/")[1], what="the lists"
    )
    # The page is served a moment before the publisher writes its log line for that publish.
    newsroom.wait(lambda: "Published (bringing 'more from" in newsroom.log.read_text(), what="the update's log line")
    log = newsroom.log.read_text()
    quick, refresh = log.index("Published (content changed)"), log.index("Published (bringing 'more from")
    assert quick < refresh and "ERROR" not in log
    # A second save logs the same line again: Pelican's loggers drop a repeat, a service's log must not.
    newsroom.add("kolmas.fi.md", "Toinen tallennettu tiedote", datetime.now(TZ) - timedelta(minutes=1))
    newsroom.wait(lambda: newsroom.log.read_text().count("Published (content changed)") == 2, what="the second line")
    assert newsroom.hidden_audit(newsroom.live(), datetime.now(TZ)) == []


def test_the_quiet_spell_before_the_refresh_starts_when_the_quick_publish_is_out(newsroom, monkeypatch):
    """A quick publish that takes long on the clock is followed by REFRESH_QUIET quiet seconds from its end: counted
    from its start, a long build would leave no quiet spell and the refresh would follow it at once."""
    newsroom.add("toinen.fi.md", "Toinen vanha tiedote", datetime(2026, 1, 11, 9, 0, tzinfo=TZ))
    clock = HeldClock(TZ, datetime(2030, 5, 5, 10, 0, tzinfo=TZ))
    publisher = Publisher(newsroom.settings(), clock=clock)
    publisher.publish_now("catch-up", refresh=True)
    newsroom.add("uusi.fi.md", "Juuri tallennettu tiedote", clock.at - timedelta(minutes=1))
    build = publisher_module.publish_at

    def a_long_build(*args, **kwargs):
        result = build(*args, **kwargs)
        clock.at += timedelta(seconds=30)
        return result

    monkeypatch.setattr(publisher_module, "publish_at", a_long_build)
    started = clock.at
    publisher.publish_now("content changed")
    assert publisher.live_at == started
    assert publisher.refresh_at == started + timedelta(seconds=30 + publisher_module.REFRESH_QUIET)
