"""Slugs as Pelican makes them (pelican.utils.slugify, which core and content may not import): a release's address
is checked for clashes before Pelican runs, so both must turn a title into the same words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from markupsafe import Markup
from unidecode import unidecode

from newsroom.core.settings import SLUG_SUBSTITUTIONS


def slugify(text: str, substitutions: Iterable[tuple[str, str]] = SLUG_SUBSTITUTIONS) -> str:
    """Tags stripped, ASCII only, the substitutions applied (Pelican's SLUG_REGEX_SUBSTITUTIONS), lowercased."""
    value = unidecode(unicodedata.normalize("NFKC", Markup(text).striptags()))
    for find, put in substitutions:
        value = re.sub(unicodedata.normalize("NFKC", find), unicodedata.normalize("NFKC", put), value, flags=re.I)
    return value.lower().strip()
