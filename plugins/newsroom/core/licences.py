"""Licence names as image cards write them ("CC BY 4.0") and the address that defines each: Media RSS and
schema.org want the address, people read the name."""

from __future__ import annotations

import re

_CREATIVE_COMMONS = re.compile(r"CC[ -](BY(?:-(?:NC|SA|ND)){0,2})[ -](\d\.\d)", re.IGNORECASE)
_CC0 = re.compile(r"CC0(?:[ -]1\.0)?", re.IGNORECASE)


def url(licence: str) -> str | None:
    """The licence's defining address: the text itself if it is one, a Creative Commons licence's deed page, else
    None (a licence known only by its name, such as "All rights reserved")."""
    text = licence.strip()
    if re.fullmatch(r"https?://\S+", text):
        return text
    if _CC0.fullmatch(text):
        return "https://creativecommons.org/publicdomain/zero/1.0/"
    found = _CREATIVE_COMMONS.fullmatch(text)
    if found:
        return f"https://creativecommons.org/licenses/{found.group(1).lower()}/{found.group(2)}/"
    return None
