"""Invitations as iCalendar files (RFC 5545): the event with its time zone, place, page and organiser, for any calendar."""

from __future__ import annotations

import calendar as calendar_module
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from newsroom.core.model import Release

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A yearly change seen in each of this many years from a year before the event is taken as the rule for all later
# years; a change seen fewer times (a past law) is listed by its date.
RULE_YEARS = 4


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


@dataclass(frozen=True)
class _Change:
    """One change of offset, as RFC 5545 writes it: the local wall time before it, the offsets and the new name."""

    local: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    @property
    def rule(self) -> tuple:
        """The yearly rule this change follows: month, weekday, which one of the month (-1: the last), wall time."""
        days_in_month = calendar_module.monthrange(self.local.year, self.local.month)[1]
        nth = -1 if self.local.day + 7 > days_in_month else (self.local.day - 1) // 7 + 1
        kind = (self.offset_from, self.offset_to, self.name, self.daylight)
        return self.local.month, self.local.weekday(), nth, self.local.time(), kind


def _changes(tz: ZoneInfo, start: datetime, end: datetime) -> list[_Change]:
    found = []
    for moment in _transitions(tz, start, end):
        before, after = (moment - timedelta(minutes=1)).astimezone(tz), moment.astimezone(tz)
        local = (moment + before.utcoffset()).replace(tzinfo=None)
        found.append(_Change(local, before.utcoffset(), after.utcoffset(), after.tzname(), bool(after.dst())))
    return found


def vtimezone(tz: ZoneInfo, first: datetime) -> Timezone:
    """The zone's rules from a year before `first`, valid for every later year: each yearly change as an RRULE.

    Written here rather than by icalendar: it lists each change as a date (RDATE) up to a last year, and gives
    the onset of daylight time in the new offset, an hour late, where RFC 5545 wants the local time before the
    change (03:00 in Helsinki, not 04:00).
    """
    return _vtimezone(tz, first.year - 1)


@lru_cache(maxsize=64)
def _vtimezone(tz: ZoneInfo, first_year: int) -> Timezone:
    """Most invitations of a newsroom fall in the same few years: each zone and year is worked out once per build."""
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    zone = Timezone()
    zone.add("tzid", tz.key)
    changes = _changes(tz, start, datetime(first_year + RULE_YEARS, 1, 1, tzinfo=UTC))
    # The rules in force now; a change that follows none of them (a zone that changed its law) is listed by date.
    yearly: dict[tuple, list[_Change]] = {}
    for change in changes:
        yearly.setdefault(change.rule, []).append(change)
    lasting = {rule: found for rule, found in yearly.items() if len(found) >= RULE_YEARS - 1}
    initial = start.astimezone(tz)
    opening = TimezoneDaylight() if initial.dst() else TimezoneStandard()
    opening.add("dtstart", initial.replace(tzinfo=None))
    opening.add("tzname", initial.tzname())
    opening.add("tzoffsetfrom", initial.utcoffset())
    opening.add("tzoffsetto", initial.utcoffset())
    zone.add_component(opening)
    for rule, found in yearly.items():
        for change in found if rule not in lasting else found[:1]:
            part = TimezoneDaylight() if change.daylight else TimezoneStandard()
            part.add("dtstart", change.local)
            if rule in lasting:
                month, weekday, nth, _, _ = rule
                part.add("rrule", {"freq": "yearly", "bymonth": month, "byday": f"{nth}{WEEKDAYS[weekday]}"})
            part.add("tzname", change.name)
            part.add("tzoffsetfrom", change.offset_from)
            part.add("tzoffsetto", change.offset_to)
            zone.add_component(part)
    return zone


def sequence(release: Release) -> int:
    """RFC 5545's SEQUENCE, from the release's own header rather than a counter kept somewhere: the minutes from
    its publication to its latest correction (Modified). Each correction is dated later than the one before, so
    the number only grows, and every build of the same text gives the same number: a calendar that imported the
    invitation takes the corrected one as an update of the same event."""
    return int((release.last_modified - release.date).total_seconds() // 60)


_made: dict[str, bytes] = {}  # by what a calendar is made from: a resident publisher builds every calendar again
MADE_MAX = 10_000  # calendars kept in memory, about 2 kB each


def calendar(release: Release, page_url: str, publisher_name: str, uid_domain: str, tz: ZoneInfo) -> bytes:
    """The invitation's calendar file, made once a process for each text of it (icalendar takes milliseconds)."""
    key = repr((release.as_text, page_url, publisher_name, uid_domain, tz.key))
    if key not in _made:
        if len(_made) >= MADE_MAX:
            _made.clear()
        _made[key] = _calendar(release, page_url, publisher_name, uid_domain, tz)
    return _made[key]


def _calendar(release: Release, page_url: str, publisher_name: str, uid_domain: str, tz: ZoneInfo) -> bytes:
    """One VEVENT; the UID is shared by the release's language versions, so they are one event in a calendar."""
    happening = release.event
    item = Event()
    item.add("uid", f"{release.release_id}@{uid_domain}")
    item.add("dtstamp", release.last_modified.astimezone(UTC))
    item.add("sequence", sequence(release))
    item.add("dtstart", happening.start.astimezone(tz))
    if happening.end:
        item.add("dtend", happening.end.astimezone(tz))
    item.add("summary", release.title)
    item.add("description", f"{release.lead}\n\n{page_url}")
    item.add("location", happening.place)
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
    cal.add_component(vtimezone(tz, happening.start))
    cal.add_component(item)
    return cal.to_ical()
