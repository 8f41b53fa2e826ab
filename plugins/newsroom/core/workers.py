"""Spreads one build step over the machine's cores: forked copies of the build, which see everything the build has
read so far, each take every n-th item."""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable

# Below this many items per process, starting the processes costs more than it saves.
MIN_ITEMS_PER_PROCESS = 50

_work: tuple = ()  # (function, items) of the step under way: the forked workers inherit it, nothing is pickled


class WorkerError(RuntimeError):
    """A worker failed; the message holds its traceback."""


def processes(setting: int, items: int, per_process: int = MIN_ITEMS_PER_PROCESS) -> int:
    """How many processes to use: `setting` (NEWSROOM_PROCESSES; 0: one per core), fewer for little work (at least
    `per_process` items each), and one while other threads run (a fork copies none of them, and could copy a lock
    one of them holds)."""
    wanted = setting or cores()
    if threading.active_count() > 1:
        return 1
    return max(1, min(wanted, items // per_process))


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_shares(function: Callable, items: list, count: int) -> list:
    """`function(item)` for every item, in `count` forked processes (one: here); the results in item order."""
    global _work
    if count == 1:
        return [function(item) for item in items]
    _work = (function, items)
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            shares = pool.map(_share, [(offset, count) for offset in range(count)])
    finally:
        _work = ()
    results: list = [None] * len(items)
    for offset, (ok, share) in enumerate(shares):
        if not ok:
            raise WorkerError(share)
        results[offset::count] = share
    return results


def _share(task: tuple[int, int]) -> tuple[bool, list | str]:
    offset, step = task
    function, items = _work
    try:
        return True, [function(item) for item in items[offset::step]]
    except Exception:  # the traceback as text: not every exception pickles
        return False, traceback.format_exc()
