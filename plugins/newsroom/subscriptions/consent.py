"""The consent texts a service shows, kept in the database: a consent record's version can always be read back as
the words agreed to."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from newsroom.mail import store


def record_texts(conn: sqlite3.Connection, shown: dict[str, tuple[str, str]], now: datetime) -> None:
    """Keep each version's words, so a consent record's version can always be read back as the text agreed to."""
    with store.transaction(conn):
        conn.executemany(
            "INSERT INTO consent_texts (version, lang, text, recorded_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (version) DO NOTHING",
            [(ver, lang, text, store.stamp(now)) for lang, (ver, text) in shown.items()],
        )


def text_kept(conn: sqlite3.Connection, version: str) -> bool:
    """Whether the words of a consent text version are stored."""
    return conn.execute("SELECT 1 FROM consent_texts WHERE version = ?", (version,)).fetchone() is not None
