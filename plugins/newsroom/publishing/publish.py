"""The publish pipeline: a warm build, audited, deployed, announced; a run with nothing new stops before building.

Every publish builds into the same staging folder of the state dir with its own caches (Pelican's reader cache, the
page cache, the audit and search records), so a publish after one new release reads and renders only what changed.
With a local deploy target that folder is a link to a copy beside the target: the build is made there, so the deploy
moves a link and copies nothing.
The warm build keeps no leak guarantee of its own: the audit reads its whole output against every hidden version, and
a warm build the audit refuses is built once more from nothing before the publish gives up.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsroom.build import manifest, pagecache
from newsroom.build.run import LeakError, build
from newsroom.build.staging import COPIES
from newsroom.content.catalog import ContentError, catalog_for
from newsroom.core.embargo import is_public, next_lift
from newsroom.core.model import Catalog, Release
from newsroom.core.settings import Settings, local_deploy
from newsroom.mail.notify import NotifyReport, notifier
from newsroom.publishing.deploy import deploy, kept_copies
from newsroom.publishing.holding import hold
from newsroom.publishing.renames import renamed_problems

Notify = Callable[[Path, datetime], NotifyReport]
LOCK = "publish.lock"  # held while a publish (cron's or the resident publisher's) builds, deploys and announces
STAGING = "build"  # in the state dir: the warm build of the site as it is now (its caches in STAGING-cache)
PREBUILD = "prebuild"  # and of the site as it will be at the next lift (the publisher's)

logger = logging.getLogger(__name__)


@dataclass
class PublishResult:
    now: datetime
    deployed_to: str | None = None
    newly_public: list[dict] = field(default_factory=list)
    next_lift: Release | None = None
    notified: NotifyReport | None = None


class PublishBusy(Exception):
    """Another publish holds the lock (an overlapping cron run, or the publisher at work); this one did nothing."""


@contextmanager
def publish_lock(state: Path, wait: bool = False) -> Iterator[None]:
    """One build-deploy-announce at a time per newsroom; `wait` blocks (the publisher), else a busy lock is refused
    (cron: the next run catches up)."""
    state.mkdir(parents=True, exist_ok=True)
    with (state / LOCK).open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise PublishBusy(
                f"another 'newsroom publish' is running, or the resident publisher is building (lock {state / LOCK}); "
                "this run did nothing, the next one will catch up"
            ) from None
        yield


def publish(settings: dict, notify: Notify | None = None) -> PublishResult:
    """The whole pipeline, one run at a time; `notify` defaults to email and the webhook (newsroom.notify)."""
    with publish_lock(Path(settings["NEWSROOM_STATE_DIR"])):
        return publish_at(settings, notify or notifier(settings))


def publish_at(
    settings: dict,
    notify: Notify | None,
    now: datetime | None = None,
    catalog: Catalog | None = None,
) -> PublishResult:
    """Publish the site as it is at `now` (the clock when None); the caller holds the publish lock. A caller that has
    read the content already (the publisher, which keeps it) passes the catalog `checked_catalog(settings, now)` gives.
    Content as the last publish read it is built again only to bring up to date the pages a quick build
    (pagecache.DEFER_MORE) left outdated, when this one is not quick."""
    settings = Settings.of(settings)
    now = now or settings.now
    catalog = catalog or checked_catalog(settings, now)
    state = settings.state_dir
    previous = manifest.read(state) or {"releases": [], "fingerprint": None}
    result = PublishResult(now=now, next_lift=next_lift(catalog, now))
    outdated = not settings.get(pagecache.DEFER_MORE) and pagecache.deferred(staging_settings(settings, now))
    if not outdated and previous["fingerprint"] and _unchanged(settings, catalog, now, previous["fingerprint"]):
        if notify:
            result.notified = notify(state, now)  # nothing new, but earlier deliveries may be due for a retry
        return result
    staging = build_public(settings, catalog, now)
    result.deployed_to = deploy(staging, settings["NEWSROOM_DEPLOY"])
    result.newly_public = record_published(state, staging, previous)
    if notify:
        result.notified = notify(staging, now)
    return result


def checked_catalog(settings: dict, now: datetime | None = None, tell: bool = True) -> Catalog:
    """The content, refused with every problem a publish must not go ahead with; given `now`, as a publish at that
    moment sees it: a release held for approval is a draft (publishing/holding.py)."""
    catalog = catalog_for(settings)
    problems = (*catalog.problems, *renamed_problems(catalog, settings))
    if problems:
        raise ContentError(problems)
    return catalog if now is None else hold(settings, catalog, now, tell)[0]


def record_published(state: Path, output: Path, previous: dict | None = None) -> list[dict]:
    """Keep the deployed build's manifest in the state dir (what is live); returns the versions it made public."""
    previous = previous or manifest.read(state) or {"releases": []}
    temporary = state / f"{manifest.MANIFEST}.{os.getpid()}.tmp"
    shutil.copy2(output / manifest.MANIFEST, temporary)
    os.replace(temporary, state / manifest.MANIFEST)
    seen = {(r["release"], r["lang"]) for r in previous["releases"]}
    return [r for r in manifest.read(state)["releases"] if (r["release"], r["lang"]) not in seen]


def staging_settings(settings: dict, now: datetime, folder: str = STAGING, cold: bool = False) -> Settings:
    """The build of the site at `now` into `folder` of the state dir, with caches of its own beside it.

    With a local deploy target the build of the site as it is now is made among the target's copies, and `folder` is
    a link to it: the deploy puts it in front of readers without copying it (build/staging.py)."""
    state = Path(settings["NEWSROOM_STATE_DIR"])
    target = settings["NEWSROOM_DEPLOY"]
    copies = str(kept_copies(Path(target))) if folder == STAGING and local_deploy(target) else None
    return Settings.of(settings).replace(
        OUTPUT_PATH=str(state / folder),
        CACHE_PATH=str(state / f"{folder}-cache"),
        NEWSROOM_NOW=now,
        DELETE_OUTPUT_DIRECTORY=cold,
        **{COPIES: copies},
    )


def build_public(settings: dict, catalog: Catalog, now: datetime, folder: str = STAGING) -> Path:
    """Build the public site as it is at `now` into `folder` of the state dir, warm; returns the folder.

    A warm build the audit refuses (a page an earlier build left, of a release since withdrawn or hidden again) is
    built once more from nothing; only if that leaks too does the LeakError go up.
    """
    try:
        build(staging_settings(settings, now, folder), catalog)
    except LeakError as exc:
        logger.warning("The warm build was refused (%s); building again from nothing", exc.leaks[0])
        build(staging_settings(settings, now, folder, cold=True), catalog)
    return Path(settings["NEWSROOM_STATE_DIR"]) / folder


def _unchanged(settings: dict, catalog, now: datetime, last: str) -> bool:
    """Whether a build now would read exactly what the last published build read."""
    return manifest.fingerprint(settings, [r.source for r in catalog.releases if is_public(r, now)]) == last
