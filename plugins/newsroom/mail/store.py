"""The newsroom's SQLite database: where it lives, how it is opened, its versioned schema and its tokens."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypeVar

DB_NAME = "newsroom.sqlite3"
BUSY_TIMEOUT_MS = 30_000
Owner = TypeVar("Owner")

# Each entry moves the schema one version on; PRAGMA user_version records how far a database has come.
# Never edit an entry once released: add a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'suppressed')),
        languages TEXT NOT NULL,
        types TEXT NOT NULL DEFAULT '[]',
        keywords TEXT NOT NULL DEFAULT '[]',
        frequency TEXT NOT NULL DEFAULT 'immediate' CHECK (frequency IN ('immediate', 'daily')),
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        changed_at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE consents (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('given', 'withdrawn')),
        source TEXT NOT NULL,
        text_version TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX consents_subscriber ON consents(subscriber_id);
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN ('confirm', 'manage')),
        created_at TEXT NOT NULL,
        expires_at TEXT
    );
    CREATE INDEX tokens_subscriber ON tokens(subscriber_id);
    CREATE TABLE suppressions (address_hash TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL);
    CREATE TABLE announced (
        release TEXT NOT NULL,
        lang TEXT NOT NULL,
        entry TEXT NOT NULL,
        announced_at TEXT NOT NULL,
        first_run INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (release, lang)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
        recipient TEXT NOT NULL,
        item TEXT NOT NULL,
        subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
        release TEXT,
        lang TEXT,
        digest_id INTEGER REFERENCES outbox(id) ON DELETE CASCADE,
        status TEXT NOT NULL
            CHECK (status IN ('held', 'pending', 'sending', 'sent', 'failed', 'skipped', 'digested')),
        message_id TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at TEXT NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (channel, recipient, item),
        FOREIGN KEY (release, lang) REFERENCES announced(release, lang)
    );
    CREATE INDEX outbox_due ON outbox(status, due_at);
    CREATE INDEX outbox_subscriber ON outbox(subscriber_id, status);
    CREATE INDEX outbox_digest ON outbox(digest_id);
    """,
    # The subscription service: sign-ups counted per hashed client and address, and each consent text shown.
    """
    CREATE TABLE rate_hits (key TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX rate_hits_key ON rate_hits(key, at);
    CREATE TABLE consent_texts (version TEXT PRIMARY KEY, lang TEXT NOT NULL, text TEXT NOT NULL, recorded_at TEXT NOT NULL);
    """,
    # How often a server took a delivery whole without confirming it: once means one more try, later; twice, none.
    """
    ALTER TABLE outbox ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
    """,
    # Confirmation emails wait here until the server took them, so a restart or a kill loses none. The link's
    # token is kept only until then (the row is deleted when sent; tokens keeps its hash). `address` is set only
    # for an erased address, whose record holds no address until its owner confirms. A confirmation token
    # carries the request it confirms (preferences, consent text), applied only when its owner confirms.
    """
    CREATE TABLE confirmations (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        address TEXT,
        lang TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('confirm', 'preferences')),
        token TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX confirmations_due ON confirmations(due_at);
    ALTER TABLE tokens ADD COLUMN request TEXT;
    """,
    # Every consent record names the stored text agreed to (NULL only where no text was shown: the operator's
    # word, an import); a version with no stored text cannot be recorded.
    """
    CREATE TABLE consents_v5 (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('given', 'withdrawn')),
        source TEXT NOT NULL,
        text_version TEXT REFERENCES consent_texts(version),
        CHECK (text_version IS NOT NULL OR action = 'withdrawn' OR source NOT LIKE 'web form%')
    );
    INSERT INTO consents_v5 (id, subscriber_id, at, action, source, text_version)
        SELECT c.id, c.subscriber_id, c.at, c.action,
            CASE WHEN t.version IS NULL AND c.source LIKE 'web form%' AND c.action = 'given'
                THEN 'unknown text: ' || c.source ELSE c.source END,
            t.version
        FROM consents c LEFT JOIN consent_texts t ON t.version = c.text_version;
    DROP TABLE consents;
    ALTER TABLE consents_v5 RENAME TO consents;
    CREATE INDEX consents_subscriber ON consents(subscriber_id);
    """,
    # Media lists (mail/medialists.py) and their sends (mail/distribution.py): the outbox gains the 'press' channel.
    # SQLite cannot change a CHECK, so the outbox is copied into a new table; checks of its own references wait
    # for the commit, as a digested row points at a digest row copied after it.
    """
    PRAGMA defer_foreign_keys = ON;
    ALTER TABLE outbox RENAME TO outbox_before_press;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'press')),
        recipient TEXT NOT NULL,
        item TEXT NOT NULL,
        subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
        release TEXT,
        lang TEXT,
        digest_id INTEGER REFERENCES outbox(id) ON DELETE CASCADE,
        status TEXT NOT NULL
            CHECK (status IN ('held', 'pending', 'sending', 'sent', 'failed', 'skipped', 'digested')),
        message_id TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at TEXT NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        sent_at TEXT,
        unconfirmed INTEGER NOT NULL DEFAULT 0,
        UNIQUE (channel, recipient, item),
        FOREIGN KEY (release, lang) REFERENCES announced(release, lang)
    );
    INSERT INTO outbox SELECT * FROM outbox_before_press;
    DROP TABLE outbox_before_press;
    CREATE INDEX outbox_due ON outbox(status, due_at);
    CREATE INDEX outbox_subscriber ON outbox(subscriber_id, status);
    CREATE INDEX outbox_digest ON outbox(digest_id);
    CREATE TABLE media_lists (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
    CREATE TABLE journalists (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        outlet TEXT NOT NULL DEFAULT '',
        languages TEXT NOT NULL,
        beats TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'opted-out', 'bounced')),
        created_at TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE list_members (
        list_id INTEGER NOT NULL REFERENCES media_lists(id) ON DELETE CASCADE,
        journalist_id INTEGER NOT NULL REFERENCES journalists(id) ON DELETE CASCADE,
        added_at TEXT NOT NULL,
        PRIMARY KEY (list_id, journalist_id)
    );
    CREATE INDEX list_members_journalist ON list_members(journalist_id);
    CREATE TABLE press_tokens (
        hash TEXT PRIMARY KEY,
        journalist_id INTEGER NOT NULL REFERENCES journalists(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE press_sends (
        release TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('advance', 'release')),
        queued_at TEXT NOT NULL,
        PRIMARY KEY (release, kind)
    );
    CREATE TABLE press_recipients (
        release TEXT NOT NULL,
        kind TEXT NOT NULL,
        list_name TEXT NOT NULL,
        journalist_id INTEGER NOT NULL REFERENCES journalists(id) ON DELETE CASCADE,
        outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
        PRIMARY KEY (release, kind, list_name, journalist_id)
    );
    """,
    # A correction subscribers are told of, once: unique on the version and the correction's time (Modified).
    """
    CREATE TABLE corrections (
        release TEXT NOT NULL,
        lang TEXT NOT NULL,
        modified TEXT NOT NULL,
        entry TEXT NOT NULL,
        announced_at TEXT NOT NULL,
        PRIMARY KEY (release, lang, modified),
        FOREIGN KEY (release, lang) REFERENCES announced(release, lang)
    );
    """,
    # Shared links (mail/sharelinks.py): one per recipient, a review link or a journalist's embargoed preview, kept as
    # a hash; each opening; the reviewers' decisions with the revision they saw (mail/approvals.py); the emails
    # carrying links, kept with their token only until the server took them; a held release told to its writer once.
    """
    CREATE TABLE share_links (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        purpose TEXT NOT NULL CHECK (purpose IN ('review', 'press')),
        release TEXT NOT NULL,
        lang TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL,
        journalist_id INTEGER REFERENCES journalists(id) ON DELETE SET NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        revoked_by TEXT
    );
    CREATE INDEX share_links_release ON share_links(release, purpose);
    CREATE TABLE share_openings (
        link_id INTEGER NOT NULL REFERENCES share_links(id) ON DELETE CASCADE,
        at TEXT NOT NULL
    );
    CREATE INDEX share_openings_link ON share_openings(link_id);
    CREATE TABLE review_decisions (
        id INTEGER PRIMARY KEY,
        link_id INTEGER NOT NULL REFERENCES share_links(id) ON DELETE CASCADE,
        release TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('approved', 'changes')),
        comment TEXT NOT NULL DEFAULT '',
        revision TEXT NOT NULL,
        digest TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX review_decisions_release ON review_decisions(release, id);
    CREATE TABLE share_mail (
        id INTEGER PRIMARY KEY,
        recipient TEXT NOT NULL,
        message BLOB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE held_notices (release TEXT NOT NULL, date TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (release, date));
    """,
)


def db_path(settings: dict) -> Path:
    """NEWSROOM_DB, else newsroom.sqlite3 in the state folder: state, never inside the site's output."""
    return Path(settings.get("NEWSROOM_DB") or Path(settings["NEWSROOM_STATE_DIR"]) / DB_NAME)


def connect(path: Path, migrations: tuple[str, ...] = MIGRATIONS) -> sqlite3.Connection:
    """Open (creating and migrating as needed) in autocommit mode: writers take `transaction()` explicitly.

    Another database of the newsroom (the desk's accounts) passes its own migrations and gets the same care."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # WAL with synchronous=NORMAL survives a killed process; only a power cut may lose the latest commits.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows are overwritten, so an erased address does not linger in free pages of the file.
    conn.execute("PRAGMA secure_delete = ON")
    migrate(conn, migrations)
    return conn


def migrate(conn: sqlite3.Connection, migrations: tuple[str, ...] = MIGRATIONS) -> None:
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(migrations):
            raise RuntimeError(
                f"the database is schema version {version}, newer than this newsroom knows; "
                "update the newsroom software"
            )
        for number, script in enumerate(migrations[version:], start=version + 1):
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction taken at once (BEGIN IMMEDIATE), so two writers queue instead of failing as busy.

    Inside another transaction it is part of that one: steps that must happen together can be composed."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def stamp(moment: datetime) -> str:
    """UTC in one fixed format, so stored times compare correctly as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unstamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def new_token() -> tuple[str, str]:
    """A random token for a link and the hash that is all the database keeps of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StandingTokens(Generic[Owner]):
    """Tokens that never expire, one an email, each naming one owner (a subscriber's manage link, a journalist's
    opt-out link), so old emails keep working: the table keeps only the hash, so a leaked database opens no link."""

    insert: str  # SQL taking (hash, owner id, created_at)
    select: str  # SQL selecting the owner's row by the hash
    owner: Callable[[sqlite3.Row], Owner]

    def issue(self, conn: sqlite3.Connection, owner_id: int, now: datetime) -> str:
        """A new token for the owner; returned once, for the email."""
        token, digest = new_token()
        conn.execute(self.insert, (digest, owner_id, stamp(now)))
        return token

    def find(self, conn: sqlite3.Connection, token: str) -> Owner | None:
        row = conn.execute(self.select, (token_hash(token),)).fetchone()
        return self.owner(row) if row else None
