"""Media lists: journalists the office sends releases to, by list; their CSV import and export, opt-out and suppression.

The legal basis is the office's legitimate interest, so there is no double opt-in; instead every email carries a
one-click opt-out, and the suppression is shared with the subscribers: an address that opted out or bounced for
good gets nothing from either (`blocked`).
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from newsroom.core.text import split_list
from newsroom.mail import store, subscribers
from newsroom.mail.addresses import SubscriberError, has_control, normalize_address
from newsroom.mail.subscribers import ImportReport, address_hash

CSV_COLUMNS = ("email", "name", "outlet", "languages", "beats")
_LIST_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A spreadsheet runs a cell that begins with one of these as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Journalist:
    id: int
    email: str
    name: str
    outlet: str
    languages: tuple[str, ...]
    beats: tuple[str, ...]
    status: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Journalist:
        return cls(
            row["id"],
            row["email"],
            row["name"],
            row["outlet"],
            tuple(json.loads(row["languages"])),
            tuple(json.loads(row["beats"])),
            row["status"],
        )


@dataclass(frozen=True)
class Entry:
    """One recipient as typed on the command line or read from a CSV row, checked."""

    email: str
    name: str
    outlet: str = ""
    languages: tuple[str, ...] = ()
    beats: tuple[str, ...] = ()

    @classmethod
    def checked(
        cls, email: str, name: str, outlet: str, languages: Iterable[str], beats: Iterable[str], allowed: Iterable[str]
    ) -> Entry:
        allowed = tuple(allowed)
        address = normalize_address(email)
        for label, text in (("name", name), ("outlet", outlet), *(("beats", b) for b in beats)):
            if has_control(text):
                raise SubscriberError(f"{label}: contains a line break or a control character")
        if not name.strip():
            raise SubscriberError("name: is empty; give the journalist's name (it is used in the greeting)")
        langs = tuple(languages)
        if not langs:
            raise SubscriberError(f"languages: give at least one of {', '.join(allowed)}")
        for lang in langs:
            if lang not in allowed:
                raise SubscriberError(
                    f"languages: '{lang}' is not a language of this newsroom; use {', '.join(allowed)}"
                )
        return cls(address, name.strip(), outlet.strip(), langs, tuple(beats))


class ListError(ValueError):
    """A list name or a command that cannot be used, with what to do instead."""


def check_name(name: str) -> str:
    if not _LIST_NAME.fullmatch(name):
        raise ListError(f"'{name}' is not a list name; use lowercase letters, digits and hyphens, like 'culture-desk'")
    return name


def names(conn: sqlite3.Connection) -> dict[str, int]:
    """Every list's name and how many journalists are on it."""
    return {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT l.name, count(m.journalist_id) FROM media_lists l LEFT JOIN list_members m ON m.list_id = l.id "
            "GROUP BY l.id ORDER BY l.name"
        )
    }


def members(conn: sqlite3.Connection, name: str) -> list[Journalist]:
    return [
        Journalist.from_row(r)
        for r in conn.execute(
            "SELECT j.* FROM journalists j JOIN list_members m ON m.journalist_id = j.id "
            "JOIN media_lists l ON l.id = m.list_id WHERE l.name = ? ORDER BY j.email",
            (name,),
        )
    ]


def get(conn: sqlite3.Connection, journalist_id: int) -> Journalist | None:
    row = conn.execute("SELECT * FROM journalists WHERE id = ?", (journalist_id,)).fetchone()
    return Journalist.from_row(row) if row else None


def _list_id(conn: sqlite3.Connection, name: str, now: datetime) -> int:
    conn.execute(
        "INSERT INTO media_lists (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (check_name(name), store.stamp(now)),
    )
    return conn.execute("SELECT id FROM media_lists WHERE name = ?", (name,)).fetchone()[0]


def _put(conn: sqlite3.Connection, list_id: int, entry: Entry, stamp: str) -> bool:
    """Add or update one journalist (by address) on a list; True when they were not on it. Opt-outs stay opted out."""
    conn.execute(
        "INSERT INTO journalists (email, name, outlet, languages, beats, created_at, changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET name = excluded.name, "
        "outlet = excluded.outlet, languages = excluded.languages, beats = excluded.beats, changed_at = excluded.changed_at",
        (entry.email, entry.name, entry.outlet, json.dumps(entry.languages), json.dumps(entry.beats), stamp, stamp),
    )
    journalist_id = conn.execute("SELECT id FROM journalists WHERE email = ?", (entry.email,)).fetchone()[0]
    return bool(
        conn.execute(
            "INSERT INTO list_members (list_id, journalist_id, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT (list_id, journalist_id) DO NOTHING",
            (list_id, journalist_id, stamp),
        ).rowcount
    )


def add(conn: sqlite3.Connection, name: str, entry: Entry, now: datetime) -> bool:
    """Put a journalist on a list (the list is made if new); True when they were not on it yet."""
    with store.transaction(conn):
        return _put(conn, _list_id(conn, name, now), entry, store.stamp(now))


def remove(conn: sqlite3.Connection, name: str, email: str) -> bool:
    """Take an address off a list; a journalist on no list any more is deleted, keeping no personal data."""
    address = normalize_address(email)
    with store.transaction(conn):
        gone = conn.execute(
            "DELETE FROM list_members WHERE list_id = (SELECT id FROM media_lists WHERE name = ?) "
            "AND journalist_id = (SELECT id FROM journalists WHERE email = ?)",
            (name, address),
        ).rowcount
        conn.execute(
            "DELETE FROM journalists WHERE email = ? AND status = 'active' "
            "AND NOT EXISTS (SELECT 1 FROM list_members m WHERE m.journalist_id = journalists.id)",
            (address,),
        )
    return bool(gone)


ERASED = "erased on request"


@dataclass(frozen=True)
class Erasure:
    """What erasing an address did: the lists it was taken off, the delivery records kept only as counts, and why
    its hash stays on the suppression list ('' when it does not)."""

    found: bool
    lists: int = 0
    deliveries: int = 0
    suppressed: str = ""


def erase(conn: sqlite3.Connection, email: str, now: datetime) -> Erasure:
    """Erase a journalist on request (GDPR article 17): off every list, name, outlet, languages, beats and address
    gone from the record and its delivery records, opt-out tokens deleted, nothing more queued for them.

    The record stays, holding only the address's hash, so the reports keep their counts. An opt-out or bounce
    stays on the suppression list (erasure must never start the mail again); an address that was still active is
    suppressed as erased, so an old spreadsheet cannot put it back (as `subscribers erase` does), unless it is a
    subscriber's, whose subscription is theirs to keep (`newsroom subscribers erase` removes that)."""
    address = normalize_address(email)
    row = conn.execute("SELECT * FROM journalists WHERE email = ?", (address,)).fetchone()
    if row is None:
        return Erasure(False)
    journalist = Journalist.from_row(row)
    digest, stamp = address_hash(address), store.stamp(now)
    with store.transaction(conn):
        lists = conn.execute("DELETE FROM list_members WHERE journalist_id = ?", (journalist.id,)).rowcount
        conn.execute("DELETE FROM press_tokens WHERE journalist_id = ?", (journalist.id,))
        conn.execute(
            "UPDATE outbox SET status = 'skipped', last_error = ? WHERE channel = 'press' AND recipient = ? "
            "AND status IN ('held', 'pending')",
            (ERASED, str(journalist.id)),
        )
        pattern = re.compile(re.escape(address), re.IGNORECASE)
        for outbox_id, error in conn.execute(
            "SELECT id, last_error FROM outbox WHERE channel = 'press' AND recipient = ?", (str(journalist.id),)
        ).fetchall():
            if pattern.search(error):  # a mail server's answer naming the address
                conn.execute(
                    "UPDATE outbox SET last_error = ? WHERE id = ?", (pattern.sub("[erased]", error), outbox_id)
                )
        deliveries = conn.execute(
            "SELECT COUNT(*) FROM press_recipients WHERE journalist_id = ?", (journalist.id,)
        ).fetchone()[0]
        conn.execute(
            "UPDATE journalists SET email = ?, name = '', outlet = '', languages = '[]', beats = '[]', note = ?, "
            "changed_at = ? WHERE id = ?",
            (subscribers.erased_placeholder(address), ERASED, stamp, journalist.id),
        )
        kept = conn.execute("SELECT reason FROM suppressions WHERE address_hash = ?", (digest,)).fetchone()
        subscriber = subscribers.find(conn, address)
        if kept is None and (subscriber is None or subscriber.status not in ("confirmed", "pending")):
            conn.execute(
                "INSERT INTO suppressions (address_hash, reason, at) VALUES (?, ?, ?)", (digest, ERASED, stamp)
            )
            kept = (ERASED,)
    # Older copies of the pages still sit in the write-ahead log until it is written back and emptied.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Erasure(True, lists, deliveries, kept[0] if kept else "")


def blocked(conn: sqlite3.Connection, address: str) -> str | None:
    """Why nothing may go to this address (opted out, bounced, erased; as journalist or subscriber), or None."""
    row = conn.execute("SELECT reason FROM suppressions WHERE address_hash = ?", (address_hash(address),)).fetchone()
    if row:
        return row[0]
    row = conn.execute("SELECT status FROM journalists WHERE email = ? AND status != 'active'", (address,)).fetchone()
    if row:
        return row[0]
    row = conn.execute(
        "SELECT status FROM subscribers WHERE email = ? AND status IN ('unsubscribed', 'suppressed')", (address,)
    ).fetchone()
    return f"{row[0]} as a subscriber" if row else None


# The opt-out link's token for one email.
OPT_OUT_TOKENS = store.StandingTokens(
    "INSERT INTO press_tokens (hash, journalist_id, created_at) VALUES (?, ?, ?)",
    "SELECT j.* FROM press_tokens t JOIN journalists j ON j.id = t.journalist_id WHERE t.hash = ?",
    Journalist.from_row,
)
issue_token, by_token = OPT_OUT_TOKENS.issue, OPT_OUT_TOKENS.find


def opt_out(conn: sqlite3.Connection, token: str, now: datetime, source: str = "one-click") -> Journalist | None:
    """The journalist leaves every list's mail at once; the address is suppressed for the subscriptions too."""
    journalist = by_token(conn, token)
    if journalist is None:
        return None
    _stop(conn, journalist, "opted-out", f"opted out ({source})", now)
    return get(conn, journalist.id)


def bounced(conn: sqlite3.Connection, journalist: Journalist, reason: str, now: datetime) -> None:
    """The mail server refused the address for good: no more mail to it from the lists or the subscriptions."""
    _stop(conn, journalist, "bounced", f"bounced: {reason}", now)


def _stop(conn: sqlite3.Connection, journalist: Journalist, status: str, reason: str, now: datetime) -> None:
    stamp = store.stamp(now)
    with store.transaction(conn):
        conn.execute(
            "UPDATE journalists SET status = ?, note = ?, changed_at = ? WHERE id = ?",
            (status, reason, stamp, journalist.id),
        )
        conn.execute(
            "INSERT INTO suppressions (address_hash, reason, at) VALUES (?, ?, ?) ON CONFLICT (address_hash) DO NOTHING",
            (address_hash(journalist.email), reason, stamp),
        )
        conn.execute(
            "UPDATE outbox SET status = 'skipped', last_error = ? WHERE channel = 'press' AND recipient = ? "
            "AND status = 'pending'",
            (status, str(journalist.id)),
        )
    subscriber = subscribers.find(conn, journalist.email)
    if subscriber is not None and subscriber.status in ("confirmed", "pending"):
        if status == "bounced":
            subscribers.suppress(conn, subscriber.id, reason, now)
        else:
            subscribers.remove(conn, journalist.email, now)


def import_csv(
    conn: sqlite3.Connection, name: str, path: Path, allowed_langs: Iterable[str], now: datetime
) -> ImportReport:
    """Put every good row of a CSV file on the list; bad rows, repeats and erased addresses are reported by line.

    A known journalist's details are updated from the file; an opted-out or bounced one stays so.
    """
    allowed = tuple(allowed_langs)
    report = ImportReport()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("email", "name", "languages") if c not in (reader.fieldnames or ())]
        if missing:
            raise SubscriberError(
                f"{path}: the first row must name the columns; missing: {', '.join(missing)} "
                f"(columns: {', '.join(CSV_COLUMNS)})"
            )
        rows = list(_good_rows(reader, path, allowed, report))
    stamp = store.stamp(now)
    with store.transaction(conn):
        list_id = _list_id(conn, name, now)
        erased = {r[0] for r in conn.execute("SELECT address_hash FROM suppressions WHERE reason = ?", (ERASED,))}
        seen: dict[str, int] = {}
        for line, entry in rows:
            if entry.email in seen:
                report.problems.append(
                    f"{path}:{line}: email: {entry.email} is also on line {seen[entry.email]}; only the first was used"
                )
                continue
            seen[entry.email] = line
            if address_hash(entry.email) in erased:
                report.problems.append(f"{path}:{line}: email: {entry.email} was erased on request; not imported")
            elif _put(conn, list_id, entry, stamp):
                report.added += 1
            else:
                report.existing += 1
    return report


def _good_rows(
    reader: csv.DictReader, path: Path, allowed: tuple[str, ...], report: ImportReport
) -> Iterator[tuple[int, Entry]]:
    for row in reader:
        if None in row:
            report.problems.append(f"{path}:{reader.line_num}: has more cells than the first row names columns")
            continue
        try:
            entry = Entry.checked(
                row.get("email") or "",
                row.get("name") or "",
                row.get("outlet") or "",
                split_list(row.get("languages") or "", ";"),
                split_list(row.get("beats") or "", ";"),
                allowed,
            )
        except SubscriberError as exc:
            report.problems.append(f"{path}:{reader.line_num}: {exc}")
            continue
        yield reader.line_num, entry


def neutral(cell: str) -> str:
    """A cell a spreadsheet shows as text: one beginning with a formula character gets a leading apostrophe."""
    return f"'{cell}" if cell.startswith(_FORMULA) else cell


def export_csv(conn: sqlite3.Connection, name: str, out: TextIO) -> int:
    """Write a list in the import format, plus each journalist's status; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, "status"))
    people = members(conn, name)
    for journalist in people:
        writer.writerow(
            map(
                neutral,
                (
                    journalist.email,
                    journalist.name,
                    journalist.outlet,
                    ";".join(journalist.languages),
                    ";".join(journalist.beats),
                    journalist.status,
                ),
            )
        )
    return len(people)


@dataclass
class Audience:
    """Who a release's lists reach: each journalist once, with every list that named them."""

    journalists: dict[int, Journalist] = field(default_factory=dict)
    lists: dict[int, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def audience(conn: sqlite3.Connection, list_names: Iterable[str]) -> Audience:
    result = Audience()
    known = names(conn)
    for name in list_names:
        if name not in known:
            result.unknown.append(name)
            continue
        for journalist in members(conn, name):
            result.journalists.setdefault(journalist.id, journalist)
            result.lists.setdefault(journalist.id, []).append(name)
    return result
