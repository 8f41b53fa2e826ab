"""Reads a release's metadata header with the line of every field, as Python-Markdown's meta extension sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FIELD = re.compile(r"^[ ]{0,3}(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)$")
_CONTINUATION = re.compile(r"^[ ]{4,}(?P<value>.*)$")


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    line: int


def read_header(path: Path) -> tuple[dict[str, Field], list[Field]]:
    """Fields by lower-cased name, plus any repeated field (the second and later occurrences)."""
    return parse_header(path.read_text(encoding="utf-8-sig"))


def parse_header(text: str) -> tuple[dict[str, Field], list[Field]]:
    """The header of a release file's text, as `read_header` reads it."""
    fields: dict[str, Field] = {}
    repeated: list[Field] = []
    last: Field | None = None
    for number, line in enumerate(lines(text), start=1):
        if number == 1 and line.strip() == "---":
            continue
        if not line.strip() or line.strip() in ("---", "..."):
            break
        match = _FIELD.match(line)
        if match:
            last = Field(match["key"], match["value"].strip(), number)
            key = last.name.lower()
            if key in fields:
                repeated.append(last)
            else:
                fields[key] = last
            continue
        continuation = _CONTINUATION.match(line)
        if continuation and last is not None:
            joined = Field(last.name, f"{last.value} {continuation['value'].strip()}".strip(), last.line)
            if fields.get(last.name.lower()) is last:
                fields[last.name.lower()] = joined
            else:
                repeated[-1] = joined
            last = joined
            continue
        break
    return fields, repeated


def lines(text: str) -> list[str]:
    """The lines as Pelican reads them (universal newlines: CR, LF and CRLF end a line, nothing else does)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
