"""The ledger of announced release versions and the outbox: every delivery queued once, claimed, sent, then marked.

One row per (channel, recipient, item), unique, so queueing twice is harmless; a row is marked sent only
after the server accepted it, so a run killed at any point leaves at most the row in flight to repeat. A row the
server took without confirming is tried once more, in a later run, and never a third time: at most one duplicate.
Email and the publish webhook are channels of this one mechanism.

A subscriber of several languages gets one email for a release whose versions are announced together: a row
per recipient and release (item `release:<id>`) that sends, and under it the row of each version, folded in as a
digest folds its releases ('digested', pointing at it), so each version stays queued exactly once.
"""

from __future__ import annotations

import fcntl
import json
import re
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from newsroom.core import urls
from newsroom.mail import store, subscribers
from newsroom.mail.subscribers import Subscriber

MAX_ATTEMPTS = 12
BATCH = 100
# This many recipients in a row refused with the same words is the server refusing us, not them.
SAME_REFUSALS = 3
_ADDRESS = re.compile(r"<?[^\s<>]+@[^\s<>]+>?")


class TemporaryFailure(Exception):
    """The recipient's server said try later (4xx, a timeout): the row is retried with backoff in a later run."""


class PermanentFailure(Exception):
    """The recipient can never take this delivery (5xx): the row fails and is not retried."""


class ChannelDown(Exception):
    """The channel cannot deliver anything now (server unreachable, login refused): stop, keep the rows queued."""


class Unconfirmed(Exception):
    """The server took the whole delivery and then went silent: it may have it, so it is not sent again this run."""


class NotWanted(Exception):
    """The recipient left between queueing and sending: the row is skipped."""


def retry_delay(attempts: int) -> timedelta:
    """5, 10, 20 ... minutes, at most six hours apart: twelve attempts span about two days."""
    return timedelta(minutes=min(5 * 2 ** (attempts - 1), 360))


@dataclass(frozen=True)
class Publication:
    """One public release version from a build's manifest, as the ledger records it."""

    entry: dict

    @property
    def key(self) -> tuple[str, str]:
        return self.entry["release"], self.entry["lang"]

    @cached_property
    def date(self) -> datetime:
        return datetime.fromisoformat(self.entry["date"])

    @cached_property
    def keyword_slugs(self) -> frozenset[str]:
        return frozenset(map(urls.keyword_slug, self.entry["keywords"]))

    def wanted_by(self, subscriber: Subscriber) -> bool:
        """Language, type and keyword filters match, and the subscription is older than the release."""
        wants = subscriber.preferences
        return (
            self.entry["lang"] in wants.languages
            and (not wants.types or self.entry["type"] in wants.types)
            and (not wants.keywords or bool(subscriber.keyword_slugs & self.keyword_slugs))
            and subscriber.confirmed_at is not None
            and subscriber.confirmed_at <= self.date
        )


@dataclass
class Queued:
    """What one announcement put in the outbox for one publication."""

    publication: Publication
    emails: int = 0
    held: int = 0
    webhook: bool = False


@dataclass
class Announcement:
    first_run: bool = False
    recorded: int = 0
    queued: list[Queued] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """A claimed outbox row with what it announces: one manifest entry, or a digest's several."""

    id: int
    channel: str
    recipient: str
    subscriber_id: int | None
    message_id: str
    created_at: datetime
    entries: tuple[dict, ...]
    digest_day: str | None


@dataclass
class Tally:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    unconfirmed: int = 0
    down: str | None = None


class _DryRun(Exception):
    def __init__(self, result: Announcement):
        self.result = result


class Outbox:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._entries: dict[tuple[str, str], dict] = {}

    def announce(
        self, entries: list[dict], now: datetime, webhook: str | None = None, dry_run: bool = False
    ) -> Announcement:
        """Record each public version dated up to `now` once, queueing its deliveries in the same transaction.

        The very first run records everything as announced and queues nothing: the archive is not news.
        """
        publications = sorted((Publication(e) for e in entries), key=lambda p: (p.date, p.key))
        publications = [p for p in publications if p.date <= now]
        try:
            with store.transaction(self.conn):
                result = self._announce(publications, now, webhook)
                if dry_run:
                    raise _DryRun(result)
        except _DryRun as rolled_back:
            return rolled_back.result
        return result

    def _announce(self, publications: list[Publication], now: datetime, webhook: str | None) -> Announcement:
        stamp = store.stamp(now)
        first_run = self.conn.execute("SELECT 1 FROM meta WHERE key = 'first_run'").fetchone() is None
        result = Announcement(first_run=first_run)
        if first_run:
            self.conn.execute("INSERT INTO meta (key, value) VALUES ('first_run', ?)", (stamp,))
        audience: list[Subscriber] | None = None
        fresh: list[Publication] = []
        for publication in publications:
            inserted = self.conn.execute(
                "INSERT INTO announced (release, lang, entry, announced_at, first_run) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (release, lang) DO NOTHING",
                (*publication.key, json.dumps(publication.entry, ensure_ascii=False), stamp, int(first_run)),
            )
            if not inserted.rowcount:
                continue
            result.recorded += 1
            if first_run:
                continue
            if audience is None:
                audience = list(subscribers.every(self.conn, "confirmed"))
            result.queued.append(self._queue(publication, audience, webhook, stamp))
            fresh.append(publication)
        self._group_by_release(fresh, stamp)
        return result

    def _group_by_release(self, fresh: list[Publication], stamp: str) -> None:
        """Where one subscriber got two or more versions of one release in this announcement, fold them into one
        row for that release: one email with every version, sent once."""
        for release in dict.fromkeys(p.entry["release"] for p in fresh):
            keys = [p.key[1] for p in fresh if p.entry["release"] == release]
            if len(keys) < 2:
                continue
            marks = ",".join("?" * len(keys))
            several = self.conn.execute(
                f"SELECT subscriber_id FROM outbox WHERE channel = 'email' AND status = 'pending' AND release = ? "
                f"AND lang IN ({marks}) GROUP BY subscriber_id HAVING count(*) > 1",
                (release, *keys),
            ).fetchall()
            for (subscriber_id,) in several:
                self._fold(
                    subscriber_id,
                    f"release:{release}",
                    stamp,
                    f"status = 'pending' AND release = ? AND lang IN ({marks})",
                    (release, *keys),
                )

    def _fold(self, subscriber_id: int, item: str, stamp: str, rows: str, params: tuple) -> bool:
        """Queue one email `item` for a subscriber and fold into it their rows matching `rows` ('digested', pointing
        at it); False when that item was queued before (a second run makes nothing)."""
        parent = self.conn.execute(
            "INSERT INTO outbox (channel, recipient, item, subscriber_id, status, message_id, due_at, "
            "created_at) VALUES ('email', ?, ?, ?, 'pending', ?, ?, ?) "
            "ON CONFLICT (channel, recipient, item) DO NOTHING",
            (str(subscriber_id), item, subscriber_id, uuid.uuid4().hex, stamp, stamp),
        )
        if parent.rowcount:
            self.conn.execute(
                f"UPDATE outbox SET status = 'digested', digest_id = ? WHERE channel = 'email' AND subscriber_id = ? "
                f"AND {rows}",
                (parent.lastrowid, subscriber_id, *params),
            )
        return bool(parent.rowcount)

    def _queue(self, publication: Publication, audience: list[Subscriber], webhook: str | None, stamp: str) -> Queued:
        release, lang = publication.key
        item = f"release:{release}:{lang}"
        queued = Queued(publication)
        rows = []
        for subscriber in audience:
            if publication.wanted_by(subscriber):
                daily = subscriber.preferences.frequency == "daily"
                rows.append(
                    (
                        "email",
                        str(subscriber.id),
                        item,
                        subscriber.id,
                        release,
                        lang,
                        "held" if daily else "pending",
                        uuid.uuid4().hex,
                        stamp,
                        stamp,
                    )
                )
                queued.held += daily
                queued.emails += not daily
        if webhook:
            rows.append(("webhook", webhook, item, None, release, lang, "pending", uuid.uuid4().hex, stamp, stamp))
            queued.webhook = True
        self.conn.executemany(
            "INSERT INTO outbox (channel, recipient, item, subscriber_id, release, lang, status, message_id, due_at, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, recipient, item) DO NOTHING",
            rows,
        )
        return queued

    def gather_digests(self, day: str, now: datetime) -> int:
        """One digest row per subscriber with held releases, unique per day: a second run that day makes none."""
        stamp = store.stamp(now)
        made = 0
        with store.transaction(self.conn):
            waiting = [
                r[0]
                for r in self.conn.execute(
                    "SELECT DISTINCT subscriber_id FROM outbox WHERE channel = 'email' AND status = 'held'"
                )
            ]
            for subscriber_id in waiting:
                made += self._fold(subscriber_id, f"digest:{day}", stamp, "status = 'held'", ())
        return made

    def claim(self, channel: str, now: datetime, limit: int = BATCH) -> list[Delivery]:
        """Take the next due rows of a channel for sending; they stay 'sending' until marked."""
        with store.transaction(self.conn):
            rows = self.conn.execute(
                "SELECT * FROM outbox WHERE channel = ? AND status = 'pending' AND due_at <= ? ORDER BY id LIMIT ?",
                (channel, store.stamp(now), limit),
            ).fetchall()
            self.conn.executemany("UPDATE outbox SET status = 'sending' WHERE id = ?", [(r["id"],) for r in rows])
        return [self._delivery(row) for row in rows]

    def _delivery(self, row: sqlite3.Row) -> Delivery:
        if row["release"] is not None:
            keys = [(row["release"], row["lang"])]
        else:
            keys = [
                (r[0], r[1])
                for r in self.conn.execute(
                    "SELECT release, lang FROM outbox WHERE digest_id = ? ORDER BY id", (row["id"],)
                )
            ]
        item = row["item"]
        return Delivery(
            row["id"],
            row["channel"],
            row["recipient"],
            row["subscriber_id"],
            row["message_id"],
            store.unstamp(row["created_at"]),
            tuple(map(self._entry, keys)),
            item.removeprefix("digest:") if item.startswith("digest:") else None,
        )

    def _entry(self, key: tuple[str, str]) -> dict:
        if key not in self._entries:
            row = self.conn.execute("SELECT entry FROM announced WHERE release = ? AND lang = ?", key).fetchone()
            self._entries[key] = json.loads(row[0])
        return self._entries[key]

    def _mark(
        self,
        delivery_id: int,
        status: str,
        now: datetime,
        error: str = "",
        attempt: int = 1,
        due: datetime | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE outbox SET status = ?, attempts = attempts + ?, last_error = ?, "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, due_at = COALESCE(?, due_at) WHERE id = ?",
            (status, attempt, error, status, store.stamp(now), store.stamp(due) if due else None, delivery_id),
        )

    def deliver(
        self,
        channel: str,
        send: Callable[[Delivery], None],
        now: datetime,
        refused: Callable[[Delivery, str], None] | None = None,
    ) -> Tally:
        """Send every due row of a channel; each row is marked by how its send ended, one at a time.

        `refused` hears of each row that failed for good (email suppresses the address). A permanent refusal is
        only final once a different outcome follows: the same words for SAME_REFUSALS recipients in a row are the
        server refusing us, which stops the run with everyone kept.
        """
        tally, streak = Tally(), _Streak()
        while batch := self.claim(channel, now):
            for position, delivery in enumerate(batch):
                try:
                    send(delivery)
                except PermanentFailure as exc:
                    if not streak.add(delivery, str(exc)):
                        self._settle(streak, now, tally, refused)
                        streak.add(delivery, str(exc))
                    if len(streak.rows) >= SAME_REFUSALS:
                        self._refused_us(streak, batch[position + 1 :], now, tally)
                        return tally
                except ChannelDown as exc:
                    self._back(streak, batch[position:], now, tally)
                    tally.down = str(exc)
                    return tally
                except Exception as exc:  # noqa: BLE001 - sorted below
                    self._settle(streak, now, tally, refused)
                    if self._outcome(delivery, exc, now, tally):
                        self._back(streak, batch[position + 1 :], now, tally)
                        return tally
                else:
                    self._settle(streak, now, tally, refused)
                    self._mark(delivery.id, "sent", now)
                    tally.sent += 1
        self._settle(streak, now, tally, refused)
        return tally

    def _outcome(self, delivery: Delivery, exc: Exception, now: datetime, tally: Tally) -> bool:
        """Mark a row whose send failed other than for good; True when the run must stop."""
        if isinstance(exc, NotWanted):
            self._mark(delivery.id, "skipped", now, str(exc), attempt=0)
            tally.skipped += 1
        elif isinstance(exc, TemporaryFailure):
            self._retry_later(delivery, now, str(exc), tally)
        elif isinstance(exc, Unconfirmed):
            self._unconfirmed(delivery, now, str(exc), tally)
            return True
        else:  # one broken message must not stall the rest
            self._retry_later(delivery, now, f"could not build or send it: {type(exc).__name__}: {exc}", tally)
        return False

    def _settle(
        self, streak: _Streak, now: datetime, tally: Tally, refused: Callable[[Delivery, str], None] | None
    ) -> None:
        """The refusals held back were about their recipients after all: they fail for good."""
        for delivery, error in streak.rows:
            self._mark(delivery.id, "failed", now, error)
            if refused is not None:
                refused(delivery, error)
            tally.failed += 1
        streak.rows.clear()

    def _refused_us(self, streak: _Streak, rest: list[Delivery], now: datetime, tally: Tally) -> None:
        said = streak.rows[0][1]
        tally.down = (
            f"the mail server gave {len(streak.rows)} recipients in a row the same refusal, '{said}', "
            "so it is refusing us, not them; nobody was unsubscribed"
        )
        for delivery, error in streak.rows:
            self._retry_later(delivery, now, f"refused like the recipients before and after it: {error}", tally)
        streak.rows.clear()
        self._back(streak, rest, now, tally)

    def _back(self, streak: _Streak, rest: list[Delivery], now: datetime, tally: Tally) -> None:
        """The run stops: rows not tried (and refusals held back) wait, due as they were, for the next run."""
        rows = [d.id for d in rest] + [d.id for d, _ in streak.rows]
        self.conn.executemany("UPDATE outbox SET status = 'pending' WHERE id = ?", [(i,) for i in rows])
        streak.rows.clear()

    def _unconfirmed(self, delivery: Delivery, now: datetime, error: str, tally: Tally) -> None:
        """Not again in this run; once more in a later one; after a second silence, never (one duplicate at most)."""
        row = self.conn.execute("SELECT unconfirmed FROM outbox WHERE id = ?", (delivery.id,)).fetchone()
        tally.unconfirmed += 1
        if row["unconfirmed"] >= 1:
            self._mark(delivery.id, "failed", now, f"not sent a third time: {error}")
        else:
            self._mark(delivery.id, "pending", now, error, due=now + retry_delay(1))
        self.conn.execute("UPDATE outbox SET unconfirmed = unconfirmed + 1 WHERE id = ?", (delivery.id,))
        tally.down = f"{error}; it is not sent again in this run, and at most once more later"

    def _retry_later(self, delivery: Delivery, now: datetime, error: str, tally: Tally) -> None:
        """Count an attempt and try again after a back-off; give up after MAX_ATTEMPTS."""
        attempts = self.conn.execute("SELECT attempts FROM outbox WHERE id = ?", (delivery.id,)).fetchone()[0] + 1
        if attempts >= MAX_ATTEMPTS:
            self._mark(delivery.id, "failed", now, f"gave up after {attempts} attempts: {error}")
            tally.failed += 1
        else:
            self._mark(delivery.id, "pending", now, error, due=now + retry_delay(attempts))
            tally.retrying += 1

    def recover(self) -> int:
        """Requeue rows left 'sending' by a run that died; call only while holding `sending_lock`."""
        return self.conn.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'").rowcount

    def waiting(self, now: datetime) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND due_at <= ?", (store.stamp(now),)
        ).fetchone()[0]

    def counts(self) -> Counter:
        return Counter(
            {
                (r[0], r[1]): r[2]
                for r in self.conn.execute("SELECT channel, status, count(*) FROM outbox GROUP BY channel, status")
            }
        )

    def problems(self, limit: int = 50) -> Iterator[sqlite3.Row]:
        """Failed rows and rows waiting for a retry, with their last error and what they were for."""
        yield from self.conn.execute(
            "SELECT o.channel, o.status, o.item, o.attempts, o.due_at, o.last_error, "
            "COALESCE(s.email, o.recipient) AS recipient FROM outbox o LEFT JOIN subscribers s ON s.id = o.subscriber_id "
            "WHERE o.status = 'failed' OR (o.status = 'pending' AND o.attempts > 0) ORDER BY o.id DESC LIMIT ?",
            (limit,),
        )


@dataclass
class _Streak:
    """Permanent refusals held back while each says the same as the one before (addresses left out)."""

    rows: list[tuple[Delivery, str]] = field(default_factory=list)

    def add(self, delivery: Delivery, error: str) -> bool:
        """Hold a refusal if it says what the held ones say (or none is held); False when it differs."""
        if self.rows and _gist(self.rows[0]) != _gist((delivery, error)):
            return False
        self.rows.append((delivery, error))
        return True


def _gist(row: tuple[Delivery, str]) -> str:
    return _ADDRESS.sub("", row[1]).lower()


@contextmanager
def sending_lock(db: Path) -> Iterator[None]:
    """One sender at a time per database; the lock dies with its process, so rows still 'sending' are orphans."""
    path = db.with_name(db.name + ".send-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
