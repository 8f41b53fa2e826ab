"""The catalog's most common problems in the desk user's language.

`newsroom check` words its problems in English for the command line; the desk recognises the ones writers meet
most and shows them in Finnish, Swedish or English (the catalog's own wording otherwise), worded for a form
rather than a header line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from newsroom.core.i18n import N_

# (the catalog's message, what the desk says instead); the named groups are filled into the translation.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (
            r"'(?P<text>.*)' does not exist in (?P<zone>\S+): the clocks jump forward that night",
            N_("{text} does not exist in {zone}: the clocks jump forward that night. Choose a time after the change."),
        ),
        (
            r"'(?P<text>.*)' happens twice in (?P<zone>\S+): the clocks go back that night; add the offset, "
            r"(?P<first>\S+) for the first or (?P<second>\S+) for the second",
            N_(
                "{text} happens twice in {zone}: the clocks go back that night. Add {first} for the first or "
                "{second} for the second."
            ),
        ),
        (
            r"'(?P<text>.*)' is not a date; ",
            N_("'{text}' is not a time; write it as 2026-03-01 09:00 (year-month-day hour:minute)."),
        ),
        (r"is missing; an invitation tells when and where", N_("is missing: an invitation tells when and where.")),
        (r"is missing; add a '[\w-]+: \.\.\.' line to the header", N_("is missing; fill it in.")),
        (r"is only for invitations", N_("is only for invitations; choose the type Invitation or leave it empty.")),
        (r"is before Event-Start", N_("ends before it starts.")),
        (r"is earlier than Date", N_("is earlier than the publication time.")),
        (r"no contact '(?P<id>[^']+)'", N_("there is no contact card '{id}'.")),
        (r"no image '(?P<id>[^']+)'", N_("there is no image '{id}'.")),
        (
            r"image '(?P<id>[^']+)' has no alt text in (?P<lang>[\w-]+)",
            N_("the image '{id}' has no alt text in this language; add it on the Images page."),
        ),
        (
            r"attachment '(?P<id>[^']+)' has no title in (?P<lang>[\w-]+); .* in (?P<sidecar>\S+)$",
            N_("the attachment '{id}' has no title in this language; add it to {sidecar}."),
        ),
        (r"no file '(?P<id>[^']+)' in \S+/attachments", N_("there is no attachment '{id}'.")),
    )
)


def translate(message: str, gettext: Callable[[str], str]) -> str:
    for pattern, text in PATTERNS:
        found = pattern.search(message)
        if found:
            return gettext(text).format(**found.groupdict())
    return message
