"""Sliding-window rate limits kept in the database, so every worker of the service counts the same sign-ups."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsroom.mail import store

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour|day)\s*")


class LimitSettingError(ValueError):
    """NEWSROOM_SUBSCRIBE_LIMITS cannot be read as written."""


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta


def parse(text: str) -> tuple[Limit, ...]:
    """'4/minute, 40/hour' -> two limits; an empty text means no limit."""
    limits = []
    for part in filter(str.strip, str(text or "").split(",")):
        match = _LIMIT.fullmatch(part)
        if not match or int(match[1]) < 1:
            raise LimitSettingError(
                f"NEWSROOM_SUBSCRIBE_LIMITS: '{part.strip()}' is not a limit; write them like "
                "'4/minute, 40/hour' (units: second, minute, hour, day)"
            )
        limits.append(Limit(int(match[1]), timedelta(seconds=UNITS[match[2]])))
    return tuple(limits)


def key(kind: str, value: str) -> str:
    """What is stored for a client address or an email address: a hash, never the value itself."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class RateLimiter:
    def __init__(self, limits: tuple[Limit, ...]):
        self.limits = limits
        self.longest = max((limit.window for limit in limits), default=timedelta(0))

    def hit(self, conn: sqlite3.Connection, keys: list[str], now: datetime) -> timedelta | None:
        """Count one attempt for every key, or none when any key is over a limit: then how long until it is not."""
        if not self.limits:
            return None
        with store.transaction(conn):
            wait = max((self._wait(conn, k, now) for k in keys), default=timedelta(0))
            if wait > timedelta(0):
                return wait
            conn.executemany("INSERT INTO rate_hits (key, at) VALUES (?, ?)", [(k, store.stamp(now)) for k in keys])
        return None

    def _wait(self, conn: sqlite3.Connection, key_hash: str, now: datetime) -> timedelta:
        wait = timedelta(0)
        for limit in self.limits:
            hits = [
                store.unstamp(row[0])
                for row in conn.execute(
                    "SELECT at FROM rate_hits WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
                    (key_hash, store.stamp(now - limit.window), limit.count),
                )
            ]
            if len(hits) >= limit.count:
                wait = max(wait, hits[-1] + limit.window - now)
        return wait

    def forget(self, conn: sqlite3.Connection, now: datetime) -> int:
        """Drop attempts older than the longest window: they can no longer count against anyone."""
        return conn.execute("DELETE FROM rate_hits WHERE at <= ?", (store.stamp(now - self.longest),)).rowcount
