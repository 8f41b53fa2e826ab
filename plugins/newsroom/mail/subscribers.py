"""Subscriber records: addresses, preferences, consent, tokens, and the operator's add, import, export and erase."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from newsroom.core import urls
from newsroom.core.model import TYPES
from newsroom.core.text import split_list
from newsroom.mail import store
from newsroom.mail.addresses import SubscriberError, normalize_address

FREQUENCIES = ("immediate", "daily")
CONFIRM_DAYS = 7
CSV_COLUMNS = ("email", "languages", "types", "keywords", "frequency")
# A spreadsheet takes a cell starting with one of these as a formula (CSV injection); "'" is the escape itself.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


@dataclass(frozen=True)
class Preferences:
    """What a subscriber wants: languages (the first is the language of digests), optional filters, how often."""

    languages: tuple[str, ...]
    types: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    frequency: str = "immediate"

    def checked(self, allowed_langs: Iterable[str]) -> Preferences:
        allowed = tuple(allowed_langs)
        if not self.languages:
            raise SubscriberError(f"languages: give at least one of {', '.join(allowed)}")
        for lang in self.languages:
            if lang not in allowed:
                raise SubscriberError(
                    f"languages: '{lang}' is not a language of this newsroom; use {', '.join(allowed)}"
                )
        for kind in self.types:
            if kind not in TYPES:
                raise SubscriberError(f"types: '{kind}' is not a release type; use {', '.join(TYPES)}")
        if self.frequency not in FREQUENCIES:
            raise SubscriberError(f"frequency: '{self.frequency}' is not known; use immediate or daily")
        return self


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    status: str
    preferences: Preferences
    confirmed_at: datetime | None
    keyword_slugs: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscriber:
        keywords = tuple(json.loads(row["keywords"]))
        prefs = Preferences(
            tuple(json.loads(row["languages"])), tuple(json.loads(row["types"])), keywords, row["frequency"]
        )
        confirmed = store.unstamp(row["confirmed_at"]) if row["confirmed_at"] else None
        return cls(
            row["id"], row["email"], row["status"], prefs, confirmed, frozenset(map(urls.keyword_slug, keywords))
        )


def address_hash(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()


@lru_cache(maxsize=1024)
def _columns(prefs: Preferences) -> tuple[str, str, str, str]:
    return (
        json.dumps(list(prefs.languages)),
        json.dumps(list(prefs.types)),
        json.dumps(list(prefs.keywords)),
        prefs.frequency,
    )


def _consent(
    conn: sqlite3.Connection,
    subscriber_id: int,
    action: str,
    source: str,
    now: datetime,
    text_version: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO consents (subscriber_id, at, action, source, text_version) VALUES (?, ?, ?, ?, ?)",
        (subscriber_id, store.stamp(now), action, source, text_version or None),
    )


def find(conn: sqlite3.Connection, email: str) -> Subscriber | None:
    row = conn.execute("SELECT * FROM subscribers WHERE email = ?", (normalize_address(email),)).fetchone()
    return Subscriber.from_row(row) if row else None


def get(conn: sqlite3.Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
    return Subscriber.from_row(row) if row else None


def every(conn: sqlite3.Connection, status: str | None = None) -> Iterator[Subscriber]:
    query, args = "SELECT * FROM subscribers ORDER BY email", ()
    if status:
        query, args = "SELECT * FROM subscribers WHERE status = ? ORDER BY email", (status,)
    for row in conn.execute(query, args):
        yield Subscriber.from_row(row)


def add(
    conn: sqlite3.Connection, email: str, prefs: Preferences, now: datetime, source: str = "operator"
) -> tuple[Subscriber, bool]:
    """Add a confirmed subscriber, or confirm and update an existing one; consent is recorded as given by `source`.

    The operator's own word lifts an earlier erasure's suppression: they have the person's consent again.
    Returns the subscriber and whether the address is new.
    """
    address = normalize_address(email)
    stamp = store.stamp(now)
    with store.transaction(conn):
        conn.execute("DELETE FROM suppressions WHERE address_hash = ?", (address_hash(address),))
        row = conn.execute("SELECT id FROM subscribers WHERE email = ?", (address,)).fetchone()
        if row is None:
            subscriber_id = conn.execute(
                "INSERT INTO subscribers (email, status, languages, types, keywords, frequency, created_at, "
                "confirmed_at, changed_at) VALUES (?, 'confirmed', ?, ?, ?, ?, ?, ?, ?)",
                (address, *_columns(prefs), stamp, stamp, stamp),
            ).lastrowid
        else:
            subscriber_id = row["id"]
            conn.execute(
                "UPDATE subscribers SET status = 'confirmed', languages = ?, types = ?, keywords = ?, frequency = ?, "
                "confirmed_at = CASE WHEN status = 'confirmed' THEN confirmed_at ELSE ? END, changed_at = ?, "
                "note = '' WHERE id = ?",
                (*_columns(prefs), stamp, stamp, subscriber_id),
            )
        _consent(conn, subscriber_id, "given", source, now)
    return get(conn, subscriber_id), row is None


def create_pending(
    conn: sqlite3.Connection, email: str, prefs: Preferences, now: datetime, source: str, text_version: str
) -> str | None:
    """A sign-up waiting for its confirmation link: returns the link's token, or None when already confirmed.

    The request (preferences, where, which consent text) travels with the token and is applied only when the
    link is used, so a stranger signing up someone's address changes nothing of theirs: a pending owner keeps
    their choices and their own earlier link. An erased address gets a record holding only its hash; the
    address itself is sealed with the token, so only the link in its owner's mailbox can bring it back.
    The caller answers every case the same way, so a form cannot tell who is subscribed.
    """
    address = normalize_address(email)
    stamp = store.stamp(now)
    token, digest = store.new_token()
    request = {"preferences": _columns(prefs), "source": source, "text_version": text_version or None}
    with store.transaction(conn):
        stored = address
        if erased(conn, address):
            stored = erased_placeholder(address)
            request["sealed"] = seal(address, token)
        row = conn.execute("SELECT id, status FROM subscribers WHERE email = ?", (stored,)).fetchone()
        if row is not None and row["status"] == "confirmed":
            return None
        if row is None:
            subscriber_id = conn.execute(
                "INSERT INTO subscribers (email, status, languages, types, keywords, frequency, created_at, "
                "changed_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
                (stored, *_columns(prefs), stamp, stamp),
            ).lastrowid
        else:
            subscriber_id = row["id"]
        conn.execute(
            "INSERT INTO tokens (hash, subscriber_id, purpose, created_at, expires_at, request) "
            "VALUES (?, ?, 'confirm', ?, ?, ?)",
            (digest, subscriber_id, stamp, store.stamp(now + timedelta(days=CONFIRM_DAYS)), json.dumps(request)),
        )
    return token


ERASED_PREFIX = "erased:"


def erased(conn: sqlite3.Connection, address: str) -> bool:
    """Whether the address was erased on request (only its hash is kept)."""
    return (
        conn.execute("SELECT 1 FROM suppressions WHERE address_hash = ?", (address_hash(address),)).fetchone()
        is not None
    )


def erased_placeholder(address: str) -> str:
    """What an erased address's pending record holds instead of the address."""
    return ERASED_PREFIX + address_hash(address)


def _keystream(token: str, length: int) -> bytes:
    blocks = (hashlib.sha256(f"newsroom seal {n} {token}".encode()).digest() for n in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def seal(text: str, token: str) -> str:
    """`text` readable only with `token` (a single-use 256-bit secret): XOR with a SHA-256 counter keystream."""
    data = text.encode()
    return bytes(a ^ b for a, b in zip(data, _keystream(token, len(data)), strict=True)).hex()


def unseal(sealed: str, token: str) -> str:
    data = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(data, _keystream(token, len(data)), strict=True)).decode()


def confirm(conn: sqlite3.Connection, token: str, now: datetime) -> Subscriber | None:
    """Confirm a sign-up once: the request its token carries is applied, consent recorded with the text agreed to,
    and every confirmation link of the address used up; an unknown or expired token confirms nothing."""
    with store.transaction(conn):
        row = conn.execute(
            "SELECT subscriber_id, request FROM tokens WHERE hash = ? AND purpose = 'confirm' AND expires_at > ?",
            (store.token_hash(token), store.stamp(now)),
        ).fetchone()
        if row is None:
            return None
        request = json.loads(row["request"]) if row["request"] else {}
        subscriber_id = row["subscriber_id"]
        email = conn.execute("SELECT email FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()[0]
        if email.startswith(ERASED_PREFIX):
            address = unseal(request["sealed"], token)
            if erased_placeholder(address) != email:
                return None
            existing = conn.execute("SELECT id FROM subscribers WHERE email = ?", (address,)).fetchone()
            if existing is None:
                conn.execute("UPDATE subscribers SET email = ? WHERE id = ?", (address, subscriber_id))
            else:  # the operator added it again meanwhile: that record is the one
                conn.execute("DELETE FROM subscribers WHERE id = ?", (subscriber_id,))
                subscriber_id = existing["id"]
            email = address
        conn.execute("DELETE FROM tokens WHERE subscriber_id = ? AND purpose = 'confirm'", (subscriber_id,))
        conn.execute("DELETE FROM suppressions WHERE address_hash = ?", (address_hash(email),))
        stamp = store.stamp(now)
        if "preferences" in request:
            conn.execute(
                "UPDATE subscribers SET languages = ?, types = ?, keywords = ?, frequency = ? WHERE id = ?",
                (*request["preferences"], subscriber_id),
            )
        conn.execute(
            "UPDATE subscribers SET status = 'confirmed', confirmed_at = ?, changed_at = ?, note = '' WHERE id = ?",
            (stamp, stamp, subscriber_id),
        )
        _consent(
            conn, subscriber_id, "given", request.get("source", "confirmation link"), now, request.get("text_version")
        )
    return get(conn, subscriber_id)


# The token of one email's preferences and unsubscribe links.
MANAGE_TOKENS = store.StandingTokens(
    "INSERT INTO tokens (hash, subscriber_id, purpose, created_at) VALUES (?, ?, 'manage', ?)",
    "SELECT s.* FROM tokens t JOIN subscribers s ON s.id = t.subscriber_id WHERE t.hash = ? AND t.purpose = 'manage'",
    Subscriber.from_row,
)
issue_manage_token, by_token = MANAGE_TOKENS.issue, MANAGE_TOKENS.find


def unsubscribe(conn: sqlite3.Connection, token: str, now: datetime, source: str = "link") -> Subscriber | None:
    """Unsubscribe the owner of an email's token at once; emails already queued for them are not sent."""
    subscriber = by_token(conn, token)
    if subscriber is None:
        return None
    _withdraw(conn, subscriber.id, "unsubscribed", source, now)
    return get(conn, subscriber.id)


def update_preferences(conn: sqlite3.Connection, token: str, prefs: Preferences, now: datetime) -> Subscriber | None:
    """Change what the token's owner receives; releases held for a digest go out at once if they leave digests."""
    subscriber = by_token(conn, token)
    if subscriber is None:
        return None
    with store.transaction(conn):
        conn.execute(
            "UPDATE subscribers SET languages = ?, types = ?, keywords = ?, frequency = ?, changed_at = ? WHERE id = ?",
            (*_columns(prefs), store.stamp(now), subscriber.id),
        )
        if prefs.frequency == "immediate":
            conn.execute(
                "UPDATE outbox SET status = 'pending' WHERE subscriber_id = ? AND status = 'held'", (subscriber.id,)
            )
    return get(conn, subscriber.id)


def remove(conn: sqlite3.Connection, email: str, now: datetime) -> bool:
    """The operator unsubscribes an address (the record and its consent history stay)."""
    subscriber = find(conn, email)
    if subscriber is None:
        return False
    _withdraw(conn, subscriber.id, "unsubscribed", "operator", now)
    return True


def suppress(conn: sqlite3.Connection, subscriber_id: int, reason: str, now: datetime) -> None:
    """The mail server refused the address for good: stop sending to it, keeping why."""
    _withdraw(conn, subscriber_id, "suppressed", "mail server", now, reason)


def _withdraw(
    conn: sqlite3.Connection, subscriber_id: int, status: str, source: str, now: datetime, note: str = ""
) -> None:
    with store.transaction(conn):
        conn.execute(
            "UPDATE subscribers SET status = ?, changed_at = ?, note = ? WHERE id = ?",
            (status, store.stamp(now), note, subscriber_id),
        )
        conn.execute(
            "UPDATE outbox SET status = 'skipped', last_error = ? WHERE subscriber_id = ? "
            "AND status IN ('held', 'pending')",
            (status, subscriber_id),
        )
        _consent(conn, subscriber_id, "withdrawn", source, now)


def erase(conn: sqlite3.Connection, email: str, now: datetime) -> bool:
    """Delete everything about an address (record, consents, tokens, its emails) but a hash that keeps it off imports."""
    address = normalize_address(email)
    with store.transaction(conn):
        conn.execute(
            "INSERT INTO suppressions (address_hash, reason, at) VALUES (?, 'erased on request', ?) "
            "ON CONFLICT (address_hash) DO NOTHING",
            (address_hash(address), store.stamp(now)),
        )
        known = conn.execute("DELETE FROM subscribers WHERE email = ?", (address,)).rowcount > 0
    # Older copies of the pages still sit in the write-ahead log until it is written back and emptied.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return known


@dataclass
class ImportReport:
    added: int = 0
    existing: int = 0
    problems: list[str] = field(default_factory=list)


def _utf8_text(path: Path) -> str:
    """The file's text; a spreadsheet's Latin-1 or Windows-1252 export is refused at its first such line, before any
    row is imported, rather than guessed at (a guess would store misspelt names and keywords)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SubscriberError(
            f"{path}:{line}: is not UTF-8 text (a spreadsheet's 'CSV' is often Latin-1 or Windows-1252); save it as "
            "'CSV UTF-8' and import it again; nothing was imported"
        ) from None


def import_csv(conn: sqlite3.Connection, path: Path, allowed_langs: Iterable[str], now: datetime) -> ImportReport:
    """Add every good row of a CSV file as a confirmed subscriber (consent: imported); bad rows are reported by line.

    Addresses already known keep their record as it is: an import never resubscribes someone who left.
    """
    allowed = tuple(allowed_langs)
    report = ImportReport()
    with io.StringIO(_utf8_text(path), newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("email", "languages") if c not in (reader.fieldnames or ())]
        if missing:
            raise SubscriberError(
                f"{path}: the first row must name the columns; missing: {', '.join(missing)} "
                f"(columns: {', '.join(CSV_COLUMNS)})"
            )
        rows = list(_good_rows(reader, path, allowed, report))
    stamp = store.stamp(now)
    source = f"import:{path.name}"
    with store.transaction(conn):
        known = {r[0] for r in conn.execute("SELECT email FROM subscribers")}
        erased = {r[0] for r in conn.execute("SELECT address_hash FROM suppressions")}
        seen: dict[str, int] = {}
        new = []
        for line, address, prefs in rows:
            if address in seen:
                report.problems.append(
                    f"{path}:{line}: email: {address} is also on line {seen[address]}; only the first was used"
                )
                continue
            seen[address] = line
            if address in known:
                report.existing += 1
            elif address_hash(address) in erased:
                report.problems.append(f"{path}:{line}: email: {address} was erased on request; not imported")
            else:
                new.append((address, *_columns(prefs), stamp, stamp, stamp))
        last = conn.execute("SELECT coalesce(max(id), 0) FROM subscribers").fetchone()[0]
        conn.executemany(
            "INSERT INTO subscribers (email, status, languages, types, keywords, frequency, created_at, "
            "confirmed_at, changed_at) VALUES (?, 'confirmed', ?, ?, ?, ?, ?, ?, ?)",
            new,
        )
        conn.execute(
            "INSERT INTO consents (subscriber_id, at, action, source) "
            "SELECT id, ?, 'given', ? FROM subscribers WHERE id > ?",
            (stamp, source, last),
        )
        report.added = len(new)
    return report


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading quote before what would start a formula (or a quote)."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def from_csv_cell(value: str) -> str:
    """The value `csv_cell` wrote: an export read back is the same list; a quote before anything else stays."""
    return value[1:] if value[:1] == "'" and value[1:2] and value[1:].startswith(_FORMULA_START) else value


def _good_rows(
    reader: csv.DictReader, path: Path, allowed: tuple[str, ...], report: ImportReport
) -> Iterator[tuple[int, str, Preferences]]:
    for raw in reader:
        row = {key: from_csv_cell(value) if isinstance(value, str) else value for key, value in raw.items()}
        try:
            address = normalize_address(row.get("email") or "")
            prefs = Preferences(
                split_list(row.get("languages") or "", ";"),
                split_list(row.get("types") or "", ";"),
                split_list(row.get("keywords") or "", ";"),
                (row.get("frequency") or "immediate").strip(),
            ).checked(allowed)
        except SubscriberError as exc:
            report.problems.append(f"{path}:{reader.line_num}: {exc}")
            continue
        yield reader.line_num, address, prefs


def export_csv(conn: sqlite3.Connection, out: TextIO) -> int:
    """Write the confirmed subscribers in the import format (plus when they subscribed); returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, "subscribed_at"))
    count = 0
    for subscriber in every(conn, "confirmed"):
        prefs = subscriber.preferences
        since = subscriber.confirmed_at.isoformat(timespec="seconds") if subscriber.confirmed_at else ""
        cells = (
            subscriber.email,
            ";".join(prefs.languages),
            ";".join(prefs.types),
            ";".join(prefs.keywords),
            prefs.frequency,
            since,
        )
        writer.writerow(map(csv_cell, cells))
        count += 1
    return count
