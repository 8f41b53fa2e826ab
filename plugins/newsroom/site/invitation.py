"""Invitations as iCalendar files (RFC 5545): the event with its time zone, place, page and organiser, for any calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from newsroom.core.model import Release


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The UTC moments between `start` and `end` at which `tz` changes its offset, to the minute."""
    found, day = [], start
    while day < end:
        following = day + timedelta(days=1)
        if day.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = day, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high.replace(second=0, microsecond=0))
        day = following
    return found


def vtimezone(tz: ZoneInfo, first: datetime, last: datetime) -> Timezone:
    """The zone's rules from a year before `first` to a year after `last`.

    Written here rather than by icalendar: its onset of daylight time is given in the new offset, an hour late,
    where RFC 5545 wants the local time before the change (03:00 in Helsinki, not 04:00).
    """
    return _vtimezone(tz, first.year - 1, last.year + 2)


@lru_cache(maxsize=64)
def _vtimezone(tz: ZoneInfo, first_year: int, end_year: int) -> Timezone:
    """Most invitations of a newsroom fall in the same few years: each span is worked out once per build."""
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(end_year, 1, 1, tzinfo=UTC)
    zone = Timezone()
    zone.add("tzid", tz.key)
    initial = start.astimezone(tz)
    opening = TimezoneDaylight() if initial.dst() else TimezoneStandard()
    opening.add("dtstart", initial.replace(tzinfo=None))
    opening.add("tzname", initial.tzname())
    opening.add("tzoffsetfrom", initial.utcoffset())
    opening.add("tzoffsetto", initial.utcoffset())
    zone.add_component(opening)
    for moment in _transitions(tz, start, end):
        before, after = (moment - timedelta(minutes=1)).astimezone(tz), moment.astimezone(tz)
        part = TimezoneDaylight() if after.dst() else TimezoneStandard()
        part.add("dtstart", (moment + before.utcoffset()).replace(tzinfo=None))
        part.add("tzname", after.tzname())
        part.add("tzoffsetfrom", before.utcoffset())
        part.add("tzoffsetto", after.utcoffset())
        zone.add_component(part)
    return zone


def calendar(release: Release, page_url: str, publisher_name: str, uid_domain: str, tz: ZoneInfo) -> bytes:
    """One VEVENT; the UID is shared by the release's language versions, so they are one event in a calendar."""
    happening = release.event
    item = Event()
    item.add("uid", f"{release.release_id}@{uid_domain}")
    item.add("dtstamp", release.last_modified.astimezone(UTC))
    item.add("dtstart", happening.start.astimezone(tz))
    if happening.end:
        item.add("dtend", happening.end.astimezone(tz))
    item.add("summary", release.title)
    item.add("description", f"{release.lead}\n\n{page_url}")
    item.add("location", happening.location)
    item.add("url", page_url)
    item.add("class", "PUBLIC")
    if release.contacts:
        contact = release.contacts[0]
        organizer = vCalAddress(f"mailto:{contact.email}")
        organizer.params["cn"] = contact.name
        item.add("organizer", organizer)
    cal = Calendar()
    cal.add("prodid", f"-//{publisher_name}//Newsroom//{release.lang.upper()}")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(vtimezone(tz, happening.start, happening.end or happening.start))
    cal.add_component(item)
    return cal.to_ical()
