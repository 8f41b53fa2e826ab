"""Loaded by every Python process of `make test-dates` (on PYTHONPATH there only): time.sleep by select().

libfaketime 0.9.10 (Debian 12) cannot shift the monotonic clock and keep Python working: shifted, a timed wait on
a lock or condition (sem_clockwait, which it does not wrap) sleeps until the real clock reaches the shifted one;
left real (DONT_FAKE_MONOTONIC=1, what make test-dates uses), its clock_nanosleep wrapper turns Python's absolute
monotonic deadline into an invalid time, so time.sleep raises EINVAL. select() with a relative timeout sleeps the
same time and is wrapped correctly. Nothing else changes: the wall clock is libfaketime's, which is the point.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
