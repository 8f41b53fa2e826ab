"""The running publisher's account of itself: what is live, the next lifts and their prebuilds, the last errors.

Written by the publisher (replaced in one step, so a reader never sees half of it) and printed by
`newsroom publisher status`, which needs nothing but the state dir.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from newsroom.core import records

STATUS = "publisher-status.json"  # in the state dir
LOCK = "publisher.lock"  # held by the running publisher for as long as it runs
KEEP_ERRORS = 10


@dataclass
class Status:
    pid: int = field(default_factory=os.getpid)
    state: str = "starting"
    updated: str = ""
    live: dict = field(default_factory=dict)
    lifts: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def error(self, when: datetime, message: str) -> None:
        self.errors = [*self.errors, {"at": when.isoformat(timespec="seconds"), "message": message}][-KEEP_ERRORS:]

    def save(self, state_dir: Path, when: datetime) -> None:
        self.updated = when.isoformat(timespec="seconds")
        records.write(state_dir / STATUS, asdict(self))


def read(state_dir: Path) -> Status | None:
    data = records.read(state_dir / STATUS)
    return Status(**data) if data else None


def running(state_dir: Path) -> bool:
    """Whether a publisher holds the lock now (the status file may be left by one that was killed)."""
    path = state_dir / LOCK
    if not path.exists():
        return False
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def lines(status: Status | None, is_running: bool) -> list[str]:
    """The status for an operator, one fact a line."""
    if status is None:
        return ["The publisher has not run here yet (no status file)."]
    head = (
        f"Publisher pid {status.pid}: {status.state} (status of {status.updated})"
        if is_running
        else f"No publisher is running; the last one (pid {status.pid}) wrote this at {status.updated}."
    )
    out = [head]
    live = status.live
    if live:
        out.append(
            f"Live: the site as of {live.get('now')}, {live.get('releases')} public version(s), at {live.get('target')}"
        )
        out.extend(f"  newest: {title}" for title in live.get("newest", []))
    else:
        out.append("Live: nothing published by this publisher yet.")
    if status.lifts:
        out.append("Next lifts:")
        out.extend(
            f"  {lift['at']}  prebuild {lift['prebuild']}: " + "; ".join(lift["releases"]) for lift in status.lifts
        )
    else:
        out.append("No embargoed releases are waiting.")
    if status.errors:
        out.append("Last errors:")
        out.extend(f"  {error['at']}  {error['message']}" for error in status.errors)
    else:
        out.append("No errors.")
    return out
