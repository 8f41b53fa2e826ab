"""`newsroom publisher run`: one resident process that publishes a newsroom the moment anything becomes public.

It keeps the build warm (the staging folder and its caches in the state dir, as `newsroom publish` uses them), so a
saved release is live after a rebuild of only what changed. It prebuilds every embargo lift due within
NEWSROOM_PREBUILD_AHEAD, earliest first, each as soon as the one before it is built (not when it is live): the site as
it must look at that lift's instant, so it holds every earlier lift's releases too, built into a second warm folder
(each prebuild is the last one plus its lift), audited against every version still hidden after the lift, and staged
beside the deploy target (hard links). At a lift its copy is renamed onto the target (one atomic step) and the mail
starts. A content change drops every prebuild (they were made from the old content); a lift with no prebuild ready
is built at the instant.

Locks: the publisher holds publisher.lock for as long as it runs (one publisher per newsroom) and the publish lock
only while it builds, swaps or records, so `newsroom publish` from cron still runs between them, and is refused with
a message (doing nothing; the next run catches up) while the publisher is at work. A prebuild is a copy of its own,
so a cron publish before the lift cannot spoil it.

Crash safety: the deploy target only ever points at a whole, audited copy; on start the publisher publishes what
became due while it was down, and the outbox announces each version once however often it is asked.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import signal
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import watchfiles

from newsroom.build import manifest, pagecache
from newsroom.build.run import BuildError, LeakError
from newsroom.build.search import SearchIndexError
from newsroom.build.staging import files, link_tree
from newsroom.content.catalog import ContentError
from newsroom.core import records
from newsroom.core.model import Catalog, Release
from newsroom.core.settings import Settings, local_deploy
from newsroom.mail import approvals
from newsroom.mail.notify import NotifyError, notifier
from newsroom.publishing import status as status_file
from newsroom.publishing.deploy import DeployError, Staged, deploy, drop_waiting, stage
from newsroom.publishing.holding import hold
from newsroom.publishing.publish import (
    PREBUILD,
    Notify,
    build_public,
    checked_catalog,
    publish_at,
    publish_lock,
    record_published,
    staging_settings,
)
from newsroom.publishing.schedule import Clock, Lift, lift_instant, lifts, wait_until

logger = logging.getLogger("newsroom.publisher")

PROBLEMS = (ContentError, BuildError, LeakError, DeployError, SearchIndexError, NotifyError, OSError)
REFRESH_QUIET = 5  # seconds without a content change before the pages a quick publish left outdated are rewritten
RETRY = 10  # seconds before a failed lift is tried again (unless the content changes first)
MAIL_RETRY = 300  # seconds between outbox rounds when nothing new is published (deliveries waiting for a retry)
STATUS_LIFTS = 5  # the next lifts the status shows
PREBUILT = "prebuilt"  # in the state dir: the prebuild's own copy, when the target is reached by rsync


class PublisherRunning(Exception):
    """Another publisher holds this newsroom's lock."""


@dataclass
class Prebuild:
    """The site as it must look at `at`, made from the content as it was (`content`); None `staged` = it failed."""

    at: datetime
    content: str
    staged: Staged | Path | None

    def ready(self) -> bool:
        if isinstance(self.staged, Staged):
            return self.staged.ready()
        return self.staged is not None and (self.staged / manifest.MANIFEST).is_file()

    def discard(self) -> None:
        if isinstance(self.staged, Staged):
            self.staged.discard()
        elif self.staged is not None:
            shutil.rmtree(self.staged, ignore_errors=True)


def content_stamp(settings: dict) -> str:
    """Names, sizes and modification times of the content folder, and the review decisions when approval is
    required: a prebuild is good only for the content and the approvals it read."""
    found = [f"approvals\0{approvals.decisions_stamp(settings)}\n"]
    for path in files(Path(settings["PATH"]), skip=".git"):  # one stat a file (the lift waits for this)
        found.append(f"{path}\0{records.stamp(path)}\n")
    return hashlib.sha256("".join(found).encode()).hexdigest()


class Mail:
    """The mail fan-out in a thread of its own: a lift is not held up by sending, and asks coalesce."""

    def __init__(self, notify: Notify, state: Path, clock: Clock, report):
        self.notify, self.state, self.clock, self.report = notify, state, clock, report
        self.asked = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="publisher-mail", daemon=True)

    def ask(self) -> None:
        self.asked.set()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.asked.wait(MAIL_RETRY)
            self.asked.clear()
            if self.stop.is_set() or manifest.read(self.state) is None:
                continue
            try:
                for line in self.notify(self.state, self.clock.now()).lines():
                    logger.info("mail: %s", line)
            except Exception as exc:  # noqa: BLE001 - a failed round is reported and tried again, never fatal
                self.report(f"mail: {exc}")


class Publisher:
    def __init__(self, settings: dict, clock: Clock | None = None, notify: Notify | None = None):
        self.settings = Settings.of(settings)
        self.state = Path(settings["NEWSROOM_STATE_DIR"])
        self.tz = ZoneInfo(settings["TIMEZONE"])
        self.clock = clock or Clock(self.tz)
        self.ahead = timedelta(seconds=settings["NEWSROOM_PREBUILD_AHEAD"])
        self.target = settings["NEWSROOM_DEPLOY"]
        self.changed = threading.Event()  # the content changed (or the publisher is asked to stop): wakes the loop
        self.stop = threading.Event()
        self.status = status_file.Status()
        self.catalog: Catalog | None = None
        self.prebuilds: dict[datetime, Prebuild] = {}  # by lift instant, earliest first
        self.prebuild_took: timedelta | None = None  # how long the last prebuild took
        self.live_stamp: list[int] | None = None  # of the live manifest the status shows
        self.live_at: datetime | None = None  # the moment the live site shows: lifts after it are still to come
        self.refresh_at: datetime | None = None  # when to rewrite what a quick publish left outdated (None: nothing)
        self.publish_took: timedelta | None = None  # how long the last publish took
        self.held: list[Release] = []  # versions held for approval (publishing/holding.py) at the last publish
        self.approval_poll = timedelta(seconds=settings["NEWSROOM_APPROVAL_POLL"])
        approvals.mode(settings)  # a wrong NEWSROOM_APPROVAL stops the publisher before it starts, not at a lift
        self.mail = Mail(notify or notifier(settings), self.state, self.clock, self.error)

    # The loop ---------------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Publish until stopped (SIGTERM, SIGINT, or `stop`); raises PublisherRunning if another one runs."""
        with self._own_lock():
            if local_deploy(self.target):
                drop_waiting(Path(self.target))  # copies a killed publisher staged and never swapped in
            for copy in self.state.glob(f"{PREBUILT}-*"):
                shutil.rmtree(copy, ignore_errors=True)
            threads = [threading.Thread(target=self._watch, name="publisher-watch", daemon=True), self.mail.thread]
            if self.settings["NEWSROOM_GIT_PULL_INTERVAL"]:
                threads.append(threading.Thread(target=self._pull, name="publisher-git", daemon=True))
            for thread in threads:
                thread.start()
            logger.info("Publisher started for %s (prebuilds %ss ahead)", self.settings["PATH"], self.ahead.seconds)
            self.publish_now("start: catching up")
            while not self.stop.is_set():
                self.step()
            self.mail.stop.set()
            self.mail.ask()
            self._save("stopped")

    def request_stop(self, *_args) -> None:
        self.stop.set()
        self.changed.set()

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def step(self) -> None:
        """One decision: publish a change, lift an embargo, prebuild the next lift, or sleep until one of these."""
        if self.changed.is_set():
            self.changed.clear()
            if self.stop.is_set():
                return
            self._drop_prebuilds("the content changed")
            self.publish_now("content changed")
            return
        now = self.clock.now()
        upcoming = lifts(self.catalog, self.live_at, limit=None) if self.catalog and self.live_at else []
        self._save("idle", upcoming)
        check = self._approval_check(now)
        if check is not None and now >= check:
            self.publish_now("approval check")
            return
        refresh = self.refresh_at
        if refresh is not None and now >= refresh and (not upcoming or self._fits(self.publish_took, upcoming[0], now)):
            self.publish_now("bringing 'more from the publisher' up to date", refresh=True)
            return
        if not upcoming:
            day = now + timedelta(days=1)
            wait_until(self.clock, min(day, check or day, refresh or day), self.changed)
            return
        lift = upcoming[0]
        if now >= lift.at:
            self.lift(lift)
            return
        waiting = [later for later in upcoming if later.at not in self.prebuilds]
        due = bool(waiting) and now >= waiting[0].at - self.ahead
        if due and self._in_time(waiting[0], lift, now):
            self.prebuild_for(waiting[0], upcoming)
        else:
            wake = lift.at if due or not waiting else min(lift.at, waiting[0].at - self.ahead)
            if refresh is not None and refresh > now:  # one past due waits for the swap, which brings it up to date
                wake = min(wake, refresh)
            wait_until(self.clock, min(wake, check or wake), self.changed)

    def _in_time(self, later: Lift, first: Lift, now: datetime) -> bool:
        """Whether a prebuild for `later` would be done before the `first` lift to come, judged by the last one's
        time: a prebuild holds the build, and must not hold up the swap before it (that one comes first)."""
        return later is first or self._fits(self.prebuild_took, first, now)

    @staticmethod
    def _fits(took: timedelta | None, lift: Lift, now: datetime) -> bool:
        """Whether a build that last took `took` would be done before the lift, with room to spare."""
        return took is not None and now + 1.5 * took + timedelta(seconds=1) < lift.at

    def _approval_check(self, now: datetime) -> datetime | None:
        """When to look again at releases held for approval: every NEWSROOM_APPROVAL_POLL while one is due (it goes
        out at the first look after its approval), and at the time of the next one (its writer is told then)."""
        if not self.held:
            return None
        due = [r.date for r in self.held if r.date <= (self.live_at or now)]
        if due:
            return (self.live_at or now) + self.approval_poll
        return min(lift_instant(r.date) for r in self.held)

    # What it does ---------------------------------------------------------------------------------------------

    def publish_now(self, why: str, refresh: bool = False) -> None:
        """Build, deploy and record the site as it is now, if anything public changed. Quick: "more from the
        publisher" is rewritten only where it shows what is no longer public (pagecache.DEFER_MORE), and a build
        after REFRESH_QUIET quiet seconds (`refresh`) brings the rest up to date."""
        self._save(f"publishing ({why})")
        settings = self.settings if refresh else self.settings.replace(**{pagecache.DEFER_MORE: True})
        started = self.clock.monotonic()
        try:
            with publish_lock(self.state, wait=True):
                now = self.clock.now()
                self.catalog, self.held = hold(self.settings, checked_catalog(self.settings), now)
                result = publish_at(settings, None, now, self.catalog)
        except PROBLEMS as exc:
            self.error(f"publish ({why}): {exc}")
            self.refresh_at = None if refresh else self.refresh_at
            return
        self.live_at = now
        if result.deployed_to:
            self.publish_took = timedelta(seconds=self.clock.monotonic() - started)
            outdated = pagecache.deferred(staging_settings(self.settings, now))
            quiet_from = self.clock.now()  # the quiet spell starts when this publish is out, not when it began
            self.refresh_at = quiet_from + timedelta(seconds=REFRESH_QUIET) if outdated else None
            logger.info("Published (%s) to %s: %d newly public", why, result.deployed_to, len(result.newly_public))
            for item in result.newly_public:
                logger.info("  now public: %s (%s) %s", item["title"], item["lang"], item["url"])
        self.mail.ask()

    def prebuild_for(self, lift: Lift, upcoming: list[Lift]) -> None:
        """Build the site as it must be at the lift (every earlier lift included), audited against everything still
        hidden then, and stage it beside the target."""
        self._save("prebuilding", upcoming, building=lift.at)
        stamp = content_stamp(self.settings)
        started = self.clock.monotonic()
        try:
            with publish_lock(self.state, wait=True):
                output = build_public(
                    self.settings, checked_catalog(self.settings, lift.at, tell=False), lift.at, PREBUILD
                )
                staged = self._stage(output, lift)
        except PROBLEMS as exc:
            self.error(f"prebuild for {lift.at.isoformat()}: {exc}; the lift will be built at its instant")
            self.prebuilds[lift.at] = Prebuild(lift.at, stamp, None)
            return
        self.prebuilds[lift.at] = Prebuild(lift.at, stamp, staged)
        self.prebuild_took = timedelta(seconds=self.clock.monotonic() - started)
        logger.info("Prebuilt the site for the lift at %s (%d version(s))", lift.at.isoformat(), len(lift.releases))

    def lift(self, lift: Lift) -> None:
        """At (never before) the lift: swap the prebuild in, or build now if it is missing or stale; then mail."""
        self._save("lifting")
        try:
            with publish_lock(self.state, wait=True):
                now = self.clock.now()
                if now < lift.at:
                    return  # the clock stepped back while we waited for the lock: the loop waits again
                prebuild = self.prebuilds.pop(lift.at, None)
                if prebuild and prebuild.ready():
                    if prebuild.content == content_stamp(self.settings):
                        self._swap(prebuild, lift)
                        self.live_at = lift.at
                        return
                    why = "the content or a review decision changed after the prebuild"
                    self._drop_prebuilds(why)
                else:
                    why = "no prebuild was ready"
                if prebuild:
                    prebuild.discard()
                logger.warning("Lift at %s: %s, building at the instant", lift.at.isoformat(), why)
                self.catalog, self.held = hold(self.settings, checked_catalog(self.settings), now)
                result = publish_at(self.settings, None, now, self.catalog)
                self.live_at = now
                self._drop_prebuilds("the live site is past it", before=now)
                logger.info(
                    "Lifted %s by building at %s (%s), %d newly public",
                    lift.at.isoformat(),
                    now.isoformat(),
                    result.deployed_to,
                    len(result.newly_public),
                )
        except PROBLEMS as exc:
            self.error(f"lift at {lift.at.isoformat()}: {exc}; trying again in {RETRY} s")
            wait_until(self.clock, self.clock.now() + timedelta(seconds=RETRY), self.changed)
            return
        finally:
            self.mail.ask()

    def _swap(self, prebuild: Prebuild, lift: Lift) -> None:
        if isinstance(prebuild.staged, Staged):
            deployed = prebuild.staged.swap()
            folder = prebuild.staged.target
        else:
            deployed = deploy(prebuild.staged, self.target)
            folder = prebuild.staged
        newly = record_published(self.state, folder)
        self.refresh_at = None  # the prebuild was a whole build: nothing on the live site is outdated
        if not isinstance(prebuild.staged, Staged):
            prebuild.discard()
        logger.info(
            "Lifted %s: swapped the prebuild in at %s (%s), %d newly public",
            lift.at.isoformat(),
            self.clock.now().isoformat(),
            deployed,
            len(newly),
        )

    def _stage(self, output: Path, lift: Lift) -> Staged | Path:
        """The prebuild's own copy (hard links: the prebuild folder's next build writes a fresh folder)."""
        if local_deploy(self.target):
            return stage(output, Path(self.target))
        copy = self.state / f"{PREBUILT}-{lift.at.strftime('%Y%m%dT%H%M%S')}"
        shutil.rmtree(copy, ignore_errors=True)
        link_tree(output, copy)
        return copy

    def _drop_prebuilds(self, why: str, before: datetime | None = None) -> None:
        """Drop every prebuild (the content changed), or only those for lifts at or `before` a moment the live site
        already shows."""
        for at in sorted(self.prebuilds):
            if before is None or at <= before:
                logger.info("Dropped the prebuild for %s: %s", at.isoformat(), why)
                self.prebuilds.pop(at).discard()

    # Around it ------------------------------------------------------------------------------------------------

    def _watch(self) -> None:
        for _changes in watchfiles.watch(self.settings["PATH"], stop_event=self.stop, debounce=400, step=30):
            self.changed.set()

    def _pull(self) -> None:
        interval = self.settings["NEWSROOM_GIT_PULL_INTERVAL"]
        while not self.stop.wait(interval):
            result = subprocess.run(
                ["git", "-C", self.settings["PATH"], "pull", "--ff-only", "--quiet"], capture_output=True, text=True
            )
            if result.returncode != 0:
                self.error(f"git pull in {self.settings['PATH']}: {result.stderr.strip() or result.returncode}")

    @contextmanager
    def _own_lock(self):
        self.state.mkdir(parents=True, exist_ok=True)
        with (self.state / status_file.LOCK).open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PublisherRunning(
                    f"a publisher already runs for this newsroom (lock {self.state / status_file.LOCK}); "
                    "'newsroom publisher status' shows it"
                ) from None
            yield

    def error(self, message: str) -> None:
        logger.error("%s", message)
        self.status.error(self.clock.now(), message)
        self._save()

    def _save(self, state: str | None = None, upcoming: list[Lift] | None = None, building=None) -> None:
        if state:
            self.status.state = state
        if upcoming is not None:
            self.status.lifts = [self._lift_line(lift, building) for lift in upcoming[:STATUS_LIFTS]]
        stamp = records.stamp(self.state / manifest.MANIFEST)
        live = manifest.read(self.state) if stamp != self.live_stamp else None  # read again only when it changed
        self.live_stamp = stamp
        if live:
            newest = sorted(live["releases"], key=lambda r: r["date"], reverse=True)[:3]
            self.status.live = {
                "now": live["built_at"],
                "releases": len(live["releases"]),
                "target": self.target,
                "newest": [f"{r['date']} {r['title']} ({r['lang']})" for r in newest],
            }
        self.status.save(self.state, self.clock.now())

    def _lift_line(self, lift: Lift, building) -> dict:
        prebuild = self.prebuilds.get(lift.at)
        if building == lift.at:
            state = "building"
        elif prebuild:
            state = "ready" if prebuild.ready() else "failed (will build at the instant)"
        else:
            state = f"not yet (starts at {(lift.at - self.ahead).isoformat()})"
        return {
            "at": lift.at.isoformat(),
            "releases": [f"{r.title} ({r.lang})" for r in lift.releases],
            "prebuild": state,
        }
