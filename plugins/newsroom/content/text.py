"""Characters a field or a body may not hold: they break the line-based formats a field lands in (vCard, iCalendar,
mail headers) and the XML of feeds and sitemaps, which cannot carry most control characters at all."""

from __future__ import annotations

import re

from newsroom.core.text import CONTROL

# What XML 1.0 cannot hold: the C0 controls but tab and line ends, and the two non-characters.
_IN_BODY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _named(char: str) -> str:
    return f"U+{ord(char):04X}"


def field_problem(value: str, lines: bool = False) -> str | None:
    """Why a field value cannot be used, or None; `lines` allows line breaks (a postal address)."""
    for match in CONTROL.finditer(value):
        if lines and match.group() == "\n":
            continue
        return (
            f"contains the control character {_named(match.group())}, which would break the vCard, calendar and "
            "email lines it is written to; retype the value without it"
        )
    return None


def body_problems(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    """(line, message) for each line of a body that holds a character feeds and pages cannot carry."""
    found = []
    for number, line in enumerate(text.split("\n"), start=first_line):
        match = _IN_BODY.search(line)
        if match:
            found.append(
                (
                    number,
                    f"contains the control character {_named(match.group())}, which no page or feed can hold; "
                    "delete it (it is invisible in most editors: retype the line)",
                )
            )
    return found
