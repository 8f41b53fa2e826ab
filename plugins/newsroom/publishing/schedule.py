"""When the publisher acts: embargo lifts grouped by the second, and a sleep that cannot be fooled by a clock step.

The wait runs on the monotonic clock in short steps and asks the wall clock again after each, so an NTP step back
does not publish early (the wall clock is what decides) and a step forward does not skip a lift (it is seen within a
step).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsroom.core.embargo import is_public
from newsroom.core.model import Catalog, Release

STEP = 0.25  # the longest the publisher sleeps without looking at the wall clock again, in seconds


class Clock:
    """The wall clock in the newsroom's time zone and a monotonic sleep; a test injects another wall clock."""

    def __init__(self, tz):
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def sleep(self, seconds: float, wake: threading.Event) -> None:
        """Sleep on the monotonic clock (Event.wait uses it), returning early when `wake` is set."""
        wake.wait(max(0.0, seconds))

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class Lift:
    """The moment one or more embargoed versions become public; versions lifting in the same second are one lift."""

    at: datetime
    releases: tuple[Release, ...]


def lifts(catalog: Catalog, since: datetime, limit: int | None = 5) -> list[Lift]:
    """The next `limit` lifts (None: all) after `since` (the moment the live site shows), earliest first, those
    already due included (drafts never lift by themselves)."""
    by_second: dict[datetime, list[Release]] = {}
    for release in catalog.releases:
        if release.status == "published" and not is_public(release, since):
            by_second.setdefault(lift_instant(release.date), []).append(release)
    return [Lift(at, tuple(by_second[at])) for at in sorted(by_second)[:limit]]


def lift_instant(date: datetime) -> datetime:
    """The whole second at or after the release's date: a build at it shows the release, none before it does."""
    whole = date.replace(microsecond=0)
    return whole if whole == date else whole + timedelta(seconds=1)


def wait_until(clock: Clock, moment: datetime, wake: threading.Event) -> bool:
    """Sleep until the wall clock reaches `moment`; False when woken first (something changed)."""
    while not wake.is_set():
        left = (moment - clock.now()).total_seconds()
        if left <= 0:
            return True
        clock.sleep(min(left, STEP), wake)
    return False
