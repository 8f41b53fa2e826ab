"""What a reader agrees to when subscribing: the consent text each form shows, as plain text, and its version, so a
consent record says exactly which words were agreed to (the site's pages and the service render the same text)."""

from __future__ import annotations

import hashlib
import html
import re

from jinja2 import Environment

# The consent sentence beside the checkbox and the privacy notice it refers to: together, the consent text.
CONSENT_TEMPLATES = ("partials/_consent.html", "partials/_privacy_notice.html")
VERSION_PATTERN = re.compile(r"[a-z]{2}-[0-9a-f]{12}")
_BLOCK_END = re.compile(r"</(?:p|h\d|li|dd|dt)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def consent_text(env: Environment, lang: str, publisher) -> str:
    """The consent text as a reader of `lang` is shown it, as plain text: one line per paragraph.

    Plain text, so the site's environment (no autoescaping) and the service's (autoescaping) agree on it.
    """
    rendered = "\n".join(
        env.get_template(name).render(page_lang=lang, publisher=publisher, lang=lang) for name in CONSENT_TEMPLATES
    )
    text = html.unescape(_TAG.sub(" ", _BLOCK_END.sub("\n", rendered)))
    return "\n".join(filter(None, (" ".join(line.split()) for line in text.splitlines())))


def version(lang: str, text: str) -> str:
    """'fi-0123456789ab': the language and a fingerprint of the text; any change to the wording makes a new one."""
    return f"{lang}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def texts(env: Environment, langs: tuple[str, ...], publisher) -> dict[str, tuple[str, str]]:
    """Each language's consent text version and text."""
    result = {}
    for lang in langs:
        text = consent_text(env, lang, publisher)
        result[lang] = (version(lang, text), text)
    return result
