"""Secret links to one release before it is public: a review link for an approver, a press link for a journalist.

One link per recipient, each for one purpose and one release; the database keeps only the token's SHA-256 (the
token itself is in the recipient's email and nowhere else). A review link works until its own expiry time; a
press link until the release's embargo lifts plus a grace period, so moving the release's time moves it too.
Either can be revoked in the desk. They live in the newsroom's database beside the media lists (a press link may
belong to a journalist there), where the desk, the publisher and the advance send all reach them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsroom.mail import sharemail, store

PURPOSES = ("review", "press")
OK, EXPIRED, REVOKED = "ok", "expired", "revoked"


@dataclass(frozen=True)
class Link:
    id: int
    purpose: str
    release: str
    lang: str
    name: str
    email: str
    journalist_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Link:
        def moment(name: str) -> datetime | None:
            return store.unstamp(row[name]) if row[name] else None

        return cls(
            row["id"],
            row["purpose"],
            row["release"],
            row["lang"],
            row["name"],
            row["email"],
            row["journalist_id"],
            row["created_by"],
            store.unstamp(row["created_at"]),
            moment("expires_at"),
            moment("revoked_at"),
            row["revoked_by"],
        )

    def state(self, now: datetime, lift: datetime | None = None, grace: timedelta = timedelta(0)) -> str:
        """OK, REVOKED or EXPIRED at `now`; a press link's end is the lift (the release's date) plus `grace`."""
        if self.revoked_at is not None:
            return REVOKED
        end = self.expires_at if self.purpose == "review" else (lift + grace if lift else None)
        return OK if end is not None and now < end else EXPIRED


def issue(
    conn: sqlite3.Connection,
    purpose: str,
    release: str,
    lang: str,
    email: str,
    name: str,
    created_by: str,
    now: datetime,
    expires_at: datetime | None = None,
    journalist_id: int | None = None,
) -> tuple[str, Link]:
    """A new link; the token is returned once, for the email, and only its hash is stored."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    token, digest = store.new_token()
    with store.transaction(conn):
        cursor = conn.execute(
            "INSERT INTO share_links (hash, purpose, release, lang, name, email, journalist_id, created_by, "
            "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                digest,
                purpose,
                release,
                lang,
                name,
                email,
                journalist_id,
                created_by,
                store.stamp(now),
                store.stamp(expires_at) if expires_at else None,
            ),
        )
    return token, get(conn, cursor.lastrowid)


def issue_and_queue(
    conn: sqlite3.Connection,
    purpose: str,
    release: str,
    recipients: Iterable[tuple[str, str, str, int | None]],
    created_by: str,
    now: datetime,
    email: Callable[[Link, str], bytes],
    expires_at: datetime | None = None,
) -> None:
    """A link for each (address, name, language, journalist) and the email that carries it, `email(link, token)`,
    queued in the link's own transaction: an email goes out if and only if its link was made."""
    for address, name, lang, journalist_id in recipients:
        with store.transaction(conn):
            token, link = issue(conn, purpose, release, lang, address, name, created_by, now, expires_at, journalist_id)
            sharemail.queue(conn, address, email(link, token), now)


def get(conn: sqlite3.Connection, link_id: int) -> Link:
    return Link.from_row(conn.execute("SELECT * FROM share_links WHERE id = ?", (link_id,)).fetchone())


def find(conn: sqlite3.Connection, token: str, purpose: str) -> Link | None:
    """The link a token opens, if it is one and for this purpose (a review link is no press link, and back)."""
    if not token or len(token) > 100:
        return None
    row = conn.execute(
        "SELECT * FROM share_links WHERE hash = ? AND purpose = ?", (store.token_hash(token), purpose)
    ).fetchone()
    return Link.from_row(row) if row else None


def revoke(conn: sqlite3.Connection, link_id: int, by: str, now: datetime) -> bool:
    with store.transaction(conn):
        return bool(
            conn.execute(
                "UPDATE share_links SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
                (store.stamp(now), by, link_id),
            ).rowcount
        )


def opened(conn: sqlite3.Connection, link_id: int, now: datetime) -> None:
    """One opening of the link's page (its pictures and style sheets are not counted)."""
    with store.transaction(conn):
        conn.execute("INSERT INTO share_openings (link_id, at) VALUES (?, ?)", (link_id, store.stamp(now)))


def openings(conn: sqlite3.Connection, link_id: int) -> list[datetime]:
    rows = conn.execute("SELECT at FROM share_openings WHERE link_id = ? ORDER BY at", (link_id,))
    return [store.unstamp(row[0]) for row in rows]


def for_release(conn: sqlite3.Connection, release: str, purpose: str) -> list[Link]:
    rows = conn.execute("SELECT * FROM share_links WHERE release = ? AND purpose = ? ORDER BY id", (release, purpose))
    return [Link.from_row(row) for row in rows]


def with_openings(conn: sqlite3.Connection, release: str, purpose: str) -> list[tuple[Link, list[datetime]]]:
    """The release's links of this purpose, each with when it was opened: the desk's table of them."""
    return [(link, openings(conn, link.id)) for link in for_release(conn, release, purpose)]


def unrevoked(conn: sqlite3.Connection) -> list[Link]:
    """Every link not withdrawn (some may have expired: Link.state says)."""
    return [Link.from_row(row) for row in conn.execute("SELECT * FROM share_links WHERE revoked_at IS NULL")]
