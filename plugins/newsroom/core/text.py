"""Text as people type it in one line (a header field, a card field, a command-line option, a form field, a CSV
cell): its lists, and the characters no such line may hold."""

from __future__ import annotations

import re

# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: any of them could split a vCard,
# calendar or mail header line, or a log line, that the value is written to.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control(text: str) -> bool:
    """Whether `text` holds a control character or a line break (refused in anything echoed, sent or written)."""
    return CONTROL.search(text) is not None


def split_list(text: str, separator: str = ",") -> tuple[str, ...]:
    """The items of a `separator`-separated list, blanks and repeats dropped, order kept."""
    items = (item.strip() for item in text.split(separator))
    return tuple(dict.fromkeys(item for item in items if item))
