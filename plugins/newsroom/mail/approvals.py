"""Whether a release is approved: the one source the desk shows and the publisher obeys.

An approval is a reviewer's decision on one revision: the git commit they were shown and a digest of the bytes of
all the release's language files then. It holds only while the files are still exactly those bytes, so any later
edit (in the desk, an editor or a `git pull`) withdraws it without anyone having to remember to. A release is
approved when someone approved its current files and nobody asked for changes to them.

NEWSROOM_APPROVAL decides what follows: "required" holds an unapproved release at its time (the publisher builds
it as if it were a draft, so the audit proves it is nowhere public); "optional" (the default) records reviews and
holds nothing, since switching a running newsroom to "required" would hold every release nobody had asked to
review; "off" takes review out of the desk.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from newsroom.core.model import Catalog
from newsroom.core.settings import SettingsError
from newsroom.mail import sharemail, store
from newsroom.mail.sharelinks import Link

MODES = ("required", "optional", "off")
NONE, ASKED, APPROVED, WITHDRAWN, CHANGES = "none", "asked", "approved", "withdrawn", "changes"


def mode(settings: dict) -> str:
    value = str(settings.get("NEWSROOM_APPROVAL") or "optional")
    if value not in MODES:
        raise SettingsError(f"NEWSROOM_APPROVAL is '{value}'; write one of {', '.join(MODES)}")
    return value


def files(catalog: Catalog, release_id: str) -> list[Path]:
    return sorted(r.source for r in catalog.releases if r.release_id == release_id)


def writer(settings: dict, paths: list[Path]) -> str | None:
    """The author of the last commit that changed the release's files (the desk commits as the signed-in user):
    whom the hold and each reviewer's decision are told to."""
    done = subprocess.run(
        ["git", "-C", str(settings["PATH"]), "log", "-1", "--format=%ae", "--", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    email = done.stdout.strip()
    return email if done.returncode == 0 and "@" in email and not email.endswith(".invalid") else None


def digest(paths: list[Path]) -> str:
    """What exactly was reviewed: every language file's name and bytes."""
    hashed = hashlib.sha256()
    for path in sorted(paths):
        data = path.read_bytes()
        hashed.update(f"{path.name}\0{len(data)}\0".encode() + data)
    return hashed.hexdigest()


class Digests:
    """digest() for a page that asks for every release on every load (the desk's board): a release's files are read
    again only when one's size, times or inode changed, so an edit by any means is still seen at once.

    A digest is trusted only when it was computed RACY seconds after its files' stats were first seen (git's
    "racy clean" rule): a file written again within one timestamp tick of being read can keep its stat. The clock is
    monotonic, so a shifted wall clock (make test-dates) changes nothing."""

    RACY = 2.0  # seconds: more than the coarsest file timestamp (FAT's 2 s)
    MAX_ENTRIES = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # release files -> (their stats, digest, when those stats were first seen, trusted)
        self._known: dict[tuple[Path, ...], tuple[tuple, str, float, bool]] = {}

    def __call__(self, paths: list[Path]) -> str:
        files = tuple(sorted(paths))
        stats = tuple((s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino) for s in map(Path.stat, files))
        now = self.clock()
        known = self._known.get(files)
        if known is not None and known[0] == stats:
            if known[3]:
                return known[1]
            seen = known[2]
        else:
            seen = now
        if len(self._known) >= self.MAX_ENTRIES:
            self._known.clear()
        value = digest(list(files))
        self._known[files] = (stats, value, seen, now - seen >= self.RACY)
        return value


@dataclass(frozen=True)
class Decision:
    decision: str
    name: str
    email: str
    comment: str
    revision: str
    digest: str
    at: datetime


@dataclass(frozen=True)
class Status:
    state: str  # NONE, ASKED, APPROVED, WITHDRAWN (approved, then edited) or CHANGES (changes asked)
    decisions: tuple[Decision, ...]

    @property
    def approved(self) -> bool:
        return self.state == APPROVED

    @property
    def approval(self) -> Decision | None:
        return next((d for d in reversed(self.decisions) if d.decision == "approved"), None)


def decide(
    conn: sqlite3.Connection,
    link: Link,
    decision: str,
    comment: str,
    revision: str,
    digest_now: str,
    now: datetime,
    tell: tuple[str, bytes] | None = None,
) -> None:
    """Record the decision; `tell` (recipient, email) is queued in the same transaction, so the writer hears of
    exactly the decisions recorded."""
    if decision not in ("approved", "changes"):
        raise ValueError(f"unknown decision {decision!r}")
    with store.transaction(conn):
        conn.execute(
            "INSERT INTO review_decisions (link_id, release, decision, comment, revision, digest, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (link.id, link.release, decision, comment, revision, digest_now, store.stamp(now)),
        )
        if tell:
            sharemail.queue(conn, *tell, now)


def status(conn: sqlite3.Connection, release_id: str, digest_now: str) -> Status:
    rows = conn.execute(
        "SELECT d.*, l.name, l.email FROM review_decisions d JOIN share_links l ON l.id = d.link_id "
        "WHERE d.release = ? ORDER BY d.id",
        (release_id,),
    )
    decisions = tuple(
        Decision(r["decision"], r["name"], r["email"], r["comment"], r["revision"], r["digest"], store.unstamp(r["at"]))
        for r in rows
    )
    current = [d for d in decisions if d.digest == digest_now]
    if any(d.decision == "changes" for d in current):
        state = CHANGES
    elif current:
        state = APPROVED
    elif any(d.decision == "approved" for d in decisions):
        state = WITHDRAWN
    elif decisions and decisions[-1].decision == "changes":
        state = CHANGES
    elif conn.execute(
        "SELECT 1 FROM share_links WHERE release = ? AND purpose = 'review' LIMIT 1", (release_id,)
    ).fetchone():
        state = ASKED
    else:
        state = NONE
    return Status(state, decisions)


def decisions_stamp(settings: dict) -> str:
    """What changes whenever a review decision is made or removed; "" unless approval is required. A prebuild made
    before a decision may hold (or show) a release the decision now shows (or holds), so the publisher compares it."""
    if mode(settings) != "required":
        return ""
    conn = store.connect(store.db_path(settings))
    try:
        count, last = conn.execute("SELECT COUNT(*), MAX(id) FROM review_decisions").fetchone()
    finally:
        conn.close()
    return f"{count}:{last}"


def held(conn: sqlite3.Connection, settings: dict, catalog: Catalog, live: set[str]) -> list[str]:
    """The releases "required" holds: meant to be published, no version live yet, their current files unapproved.

    A version already live stays live (a correction is not taken down while it waits for review).
    """
    if mode(settings) != "required":
        return []
    ids = sorted({r.release_id for r in catalog.releases if r.status == "published"} - live)
    return [rid for rid in ids if not status(conn, rid, digest(files(catalog, rid))).approved]
