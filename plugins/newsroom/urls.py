"""Where each generated page lives: one place, so templates, feeds and tests agree on addresses."""

from __future__ import annotations

from pelican.utils import slugify


def front(lang: str) -> str:
    return f"{lang}/"


def release_type(lang: str, kind: str) -> str:
    return f"{lang}/type/{kind}/"


def keyword_slug(keyword: str) -> str:
    return slugify(keyword, regex_subs=[(r"[^\w\s-]", ""), (r"[-\s]+", "-")]).strip("-") or "keyword"


def keyword(lang: str, word: str) -> str:
    return f"{lang}/keyword/{keyword_slug(word)}/"


def contacts(lang: str) -> str:
    return f"{lang}/contacts/"


def about(lang: str) -> str:
    return f"{lang}/about/"


def image(filename: str) -> str:
    return f"images/{filename}"


def attachment(name: str) -> str:
    return f"attachments/{name}"


def save_as(url: str) -> str:
    """The file a directory-style URL is written to."""
    return f"{url}index.html" if url.endswith("/") else url
