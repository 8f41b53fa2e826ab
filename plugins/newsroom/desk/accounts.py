"""The desk's staff accounts, sessions and action log, in a database of their own (desk.sqlite3 in the state folder).

A separate file rather than a migration in mail/store.py: staff accounts and subscribers have different owners,
backups and retention (a subscriber export must never carry password hashes), and the desk's schema can move on
without touching the mail side's version numbers. The file is opened and migrated by mail.store all the same.
Passwords are argon2id hashes; a session id is random and the database keeps only its SHA-256.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from newsroom.mail import store

DB_NAME = "desk.sqlite3"
ROLES = ("writer", "approver", "admin")
# What each role may do; an admin may do everything an approver may, an approver everything a writer may.
RANK = {role: number for number, role in enumerate(ROLES)}
SESSION_HOURS = 8
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('writer', 'approver', 'admin')),
        password TEXT,
        source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc')),
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN ('desk', 'preview-ticket', 'preview')),
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(username);
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        username TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE rate_hits (key TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX rate_hits_key ON rate_hits(key, at);
    """,
    # Single sign-on: a sign-in under way at the provider (its state hashed, its nonce and PKCE verifier).
    """
    CREATE TABLE oidc_logins (
        state_hash TEXT PRIMARY KEY,
        nonce TEXT NOT NULL,
        verifier TEXT NOT NULL,
        next TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
)

_hasher = PasswordHasher()


class AccountError(Exception):
    """A request about an account that cannot be done as asked; the message says what to do instead."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    email: str
    role: str
    source: str

    def may(self, role: str) -> bool:
        """Whether this user holds `role` or a higher one."""
        return RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: datetime


def db_path(settings: dict) -> Path:
    return Path(settings["NEWSROOM_STATE_DIR"]) / DB_NAME


def connect(path: Path) -> sqlite3.Connection:
    return store.connect(path, MIGRATIONS)


def _user(row: sqlite3.Row) -> User:
    return User(row["username"], row["name"], row["email"], row["role"], row["source"])


def _checked(username: str, role: str) -> None:
    if not _USERNAME.match(username):
        raise AccountError(
            f"'{username}' cannot be a user name; use 2 to 40 lowercase letters, digits, dots, hyphens or underscores"
        )
    if role not in ROLES:
        raise AccountError(f"'{role}' is not a role; use one of {', '.join(ROLES)}")


def add(
    conn: sqlite3.Connection, username: str, name: str, email: str, role: str, password: str, now: datetime
) -> User:
    _checked(username, role)
    if len(password) < 12:
        raise AccountError("the password is too short; use at least 12 characters")
    with store.transaction(conn):
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise AccountError(f"there is already a user '{username}'; use 'reset' to give a new password")
        conn.execute(
            "INSERT INTO users (username, name, email, role, password, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (username, name or username, email, role, _hasher.hash(password), store.stamp(now)),
        )
    return get(conn, username)


def upsert_oidc(conn: sqlite3.Connection, username: str, name: str, email: str, role: str, now: datetime) -> User:
    """A single sign-on user as the provider describes them now: name, email and role follow the claims."""
    _checked(username, role)
    with store.transaction(conn):
        row = conn.execute("SELECT source FROM users WHERE username = ?", (username,)).fetchone()
        if row and row["source"] != "oidc":
            raise AccountError(f"'{username}' is a local account; single sign-on cannot take it over")
        conn.execute(
            "INSERT INTO users (username, name, email, role, password, source, created_at) "
            "VALUES (?, ?, ?, ?, NULL, 'oidc', ?) ON CONFLICT (username) DO UPDATE SET name = excluded.name, "
            "email = excluded.email, role = excluded.role",
            (username, name or username, email, role, store.stamp(now)),
        )
    return get(conn, username)


def get(conn: sqlite3.Connection, username: str) -> User:
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise AccountError(f"there is no user '{username}'; 'newsroom desk users list' shows them")
    return _user(row)


def every(conn: sqlite3.Connection) -> list[User]:
    return [_user(row) for row in conn.execute("SELECT * FROM users ORDER BY username")]


def remove(conn: sqlite3.Connection, username: str) -> None:
    get(conn, username)
    with store.transaction(conn):
        conn.execute("DELETE FROM users WHERE username = ?", (username,))


def reset(conn: sqlite3.Connection, username: str, password: str) -> None:
    """A new password; every session of the user ends, so a stolen one stops working."""
    if get(conn, username).source != "local":
        raise AccountError(f"'{username}' signs in through single sign-on and has no password here")
    if len(password) < 12:
        raise AccountError("the password is too short; use at least 12 characters")
    with store.transaction(conn):
        conn.execute("UPDATE users SET password = ? WHERE username = ?", (_hasher.hash(password), username))
        conn.execute("DELETE FROM sessions WHERE username = ?", (username,))


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE username = ? AND source = 'local'", (username,)).fetchone()
    if row is None or not row["password"]:
        _hasher.hash(password)  # the same work as a real check, so timing does not tell which names exist
        return None
    try:
        _hasher.verify(row["password"], password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(row["password"]):
        with store.transaction(conn):
            conn.execute("UPDATE users SET password = ? WHERE username = ?", (_hasher.hash(password), username))
    return _user(row)


def forgive(conn: sqlite3.Connection, key_hash: str) -> None:
    """Forget the failed attempts counted against a user name once its owner has signed in."""
    with store.transaction(conn):
        conn.execute("DELETE FROM rate_hits WHERE key = ?", (key_hash,))


def open_session(
    conn: sqlite3.Connection, username: str, now: datetime, purpose: str = "desk", lifetime: timedelta | None = None
) -> str:
    """A new random session id for the cookie; only its hash is stored."""
    token, token_hash = store.new_token()
    csrf, _ = store.new_token()
    expires = now + (lifetime or timedelta(hours=SESSION_HOURS))
    with store.transaction(conn):
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (store.stamp(now),))
        conn.execute(
            "INSERT INTO sessions (hash, username, purpose, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, username, purpose, csrf, store.stamp(now), store.stamp(expires)),
        )
    return token


def session(conn: sqlite3.Connection, token: str | None, now: datetime, purpose: str = "desk") -> Session | None:
    if not token or len(token) > 200:
        return None
    row = conn.execute(
        "SELECT u.*, s.csrf, s.expires_at FROM sessions s JOIN users u USING (username) "
        "WHERE s.hash = ? AND s.purpose = ? AND s.expires_at > ?",
        (store.token_hash(token), purpose, store.stamp(now)),
    ).fetchone()
    return Session(_user(row), row["csrf"], store.unstamp(row["expires_at"])) if row else None


def close_session(conn: sqlite3.Connection, token: str | None) -> None:
    if token:
        with store.transaction(conn):
            conn.execute("DELETE FROM sessions WHERE hash = ?", (store.token_hash(token),))


def log(conn: sqlite3.Connection, username: str, action: str, detail: str, now: datetime) -> None:
    """One line of the desk's action log: who did what, when."""
    with store.transaction(conn):
        conn.execute(
            "INSERT INTO actions (at, username, action, detail) VALUES (?, ?, ?, ?)",
            (store.stamp(now), username, action, detail[:500]),
        )


def recent_actions(conn: sqlite3.Connection, limit: int = 50) -> list[sqlite3.Row]:
    return list(conn.execute("SELECT * FROM actions ORDER BY id DESC LIMIT ?", (limit,)))
