"""Lists as people type them in one line: a header field, a command-line option, a form field, a CSV cell."""

from __future__ import annotations


def split_list(text: str, separator: str = ",") -> tuple[str, ...]:
    """The items of a `separator`-separated list, blanks and repeats dropped, order kept."""
    items = (item.strip() for item in text.split(separator))
    return tuple(dict.fromkeys(item for item in items if item))
