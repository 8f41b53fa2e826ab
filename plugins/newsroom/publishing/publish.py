"""The publish pipeline: build fresh, audit, deploy, notify; a run with nothing new stops before building."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsroom.build import manifest
from newsroom.build.run import build
from newsroom.content.catalog import ContentError, catalog_for
from newsroom.core.embargo import is_public, next_lift
from newsroom.core.model import Release
from newsroom.core.settings import Settings
from newsroom.mail.notify import NotifyReport, notifier
from newsroom.publishing.deploy import deploy

Notify = Callable[[Path, datetime], NotifyReport]


@dataclass
class PublishResult:
    now: datetime
    deployed_to: str | None = None
    newly_public: list[dict] = field(default_factory=list)
    next_lift: Release | None = None
    notified: NotifyReport | None = None


class PublishBusy(Exception):
    """Another publish holds the lock (an overlapping cron run, say); this one did nothing."""


def publish(settings: dict, notify: Notify | None = None) -> PublishResult:
    """The whole pipeline, one run at a time; `notify` defaults to email and the webhook (newsroom.notify)."""
    state = Path(settings["NEWSROOM_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    with (state / "publish.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishBusy(
                f"another 'newsroom publish' is running (lock {state / 'publish.lock'}); "
                "this run did nothing, the next one will catch up"
            ) from None
        return _publish(settings, notify or notifier(settings))


def _publish(settings: dict, notify: Notify) -> PublishResult:
    settings = Settings.of(settings)
    now = settings.now
    catalog = catalog_for(settings)
    if catalog.problems:
        raise ContentError(catalog.problems)
    state = Path(settings["NEWSROOM_STATE_DIR"])
    previous = manifest.read(state) or {"releases": [], "fingerprint": None}
    result = PublishResult(now=now, next_lift=next_lift(catalog, now))
    if previous["fingerprint"] and _unchanged(settings, catalog, now, previous["fingerprint"]):
        result.notified = notify(state, now)  # nothing new, but earlier deliveries may be due for a retry
        return result
    staging = state / "build"
    if staging.exists():
        shutil.rmtree(staging)
    build(settings.replace(OUTPUT_PATH=str(staging), DELETE_OUTPUT_DIRECTORY=True), catalog)
    current = manifest.read(staging)
    result.deployed_to = deploy(staging, settings["NEWSROOM_DEPLOY"])
    shutil.copy2(staging / manifest.MANIFEST, state / manifest.MANIFEST)
    seen = {(r["release"], r["lang"]) for r in previous["releases"]}
    result.newly_public = [r for r in current["releases"] if (r["release"], r["lang"]) not in seen]
    result.notified = notify(staging, now)
    return result


def _unchanged(settings: dict, catalog, now: datetime, last: str) -> bool:
    """Whether a build now would read exactly what the last published build read."""
    return manifest.fingerprint(settings, [r.source for r in catalog.releases if is_public(r, now)]) == last
