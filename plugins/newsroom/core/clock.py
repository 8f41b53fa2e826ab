"""Newsroom-local time: reading Date fields, the build's "now", and the timestamp format readers see."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TIMESTAMP_FORMAT = "%d.%m.%Y %H:%M:%S %Z"
DATE_HINT = "write it as 2026-03-01 09:00 (year-month-day hour:minute), optionally with an offset such as +02:00"


class DateError(ValueError):
    """A date a writer typed that cannot be placed on the timeline without guessing."""


def parse_local(text: str, tz: ZoneInfo) -> datetime:
    """Read an ISO date; naive times are newsroom-local, and times that DST makes missing or double are refused.

    Refusing beats guessing here: an embargo an hour early is a leak.
    """
    try:
        parsed = datetime.fromisoformat(" ".join(text.split()))
    except ValueError:
        raise DateError(f"'{text}' is not a date; {DATE_HINT}") from None
    if parsed.tzinfo is not None:
        return parsed
    first, second = parsed.replace(tzinfo=tz, fold=0), parsed.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    roundtrip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if roundtrip != parsed:
        raise DateError(
            f"'{text}' does not exist in {tz.key}: the clocks jump forward that night; "
            f"use a time after the change or give the offset explicitly"
        )
    raise DateError(
        f"'{text}' happens twice in {tz.key}: the clocks go back that night; add the offset, "
        f"{_offset(first)} for the first or {_offset(second)} for the second"
    )


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def build_now(setting: str | datetime | None, tz: ZoneInfo) -> datetime:
    """The moment a build publishes at: the setting, else NEWSROOM_NOW, else the real clock."""
    value = setting or os.environ.get("NEWSROOM_NOW")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if value:
        return parse_local(value, tz)
    return datetime.now(tz)


def timestamp(moment: datetime, tz: ZoneInfo, seconds: bool = True) -> str:
    """'19.12.2025 12:17:54 EET': the zone abbreviation follows the date, EET in winter, EEST in summer."""
    text = TIMESTAMP_FORMAT if seconds else TIMESTAMP_FORMAT.replace(":%S", "")
    return moment.astimezone(tz).strftime(text)
