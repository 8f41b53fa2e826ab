"""The service's database work on one thread with one connection: SQLite takes one writer at a time anyway, so
requests never wait on each other's locks."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from newsroom.mail import store


class DatabaseThread:
    """Runs `action(conn, *args)` calls one after another on its own thread, connecting on the first."""

    def __init__(self, path: Path):
        self.path = path
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsroom-db")
        self._conn: sqlite3.Connection | None = None

    async def __call__(self, action: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, functools.partial(self._on_db, action, *args)
        )

    def _on_db(self, action: Callable[..., Any], *args: Any) -> Any:
        if self._conn is None:
            self._conn = store.connect(self.path)
        return action(self._conn, *args)

    async def close(self) -> None:
        await self(lambda conn: conn.close())
        self.executor.shutdown()
