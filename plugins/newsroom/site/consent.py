"""What a reader agrees to when subscribing: the site's subscribe and privacy notice pages, and the version of the
consent text each form shows, so a consent record says exactly which words were agreed to."""

from __future__ import annotations

import hashlib
import html
import re
import sqlite3
from datetime import datetime

from jinja2 import Environment
from pelican.generators import Generator

from newsroom.core import urls
from newsroom.core.model import TYPES
from newsroom.mail import store
from newsroom.site.listings import write_page

# The consent sentence beside the checkbox and the privacy notice it refers to: together, the consent text.
CONSENT_TEMPLATES = ("partials/_consent.html", "partials/_privacy_notice.html")
VERSIONS_KEY = "consent_versions"
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


def record_texts(conn: sqlite3.Connection, shown: dict[str, tuple[str, str]], now: datetime) -> None:
    """Keep each version's words, so a consent record's version can always be read back as the text agreed to."""
    with store.transaction(conn):
        conn.executemany(
            "INSERT INTO consent_texts (version, lang, text, recorded_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (version) DO NOTHING",
            [(ver, lang, text, store.stamp(now)) for lang, (ver, text) in shown.items()],
        )


class SignupPagesGenerator(Generator):
    """Writes /{lang}/subscribe/ and /{lang}/privacy/ when there is a subscription service to post to."""

    def generate_context(self) -> None:
        langs = tuple(self.settings["NEWSROOM_LANGUAGES"])
        shown = texts(self.env, langs, self.context["publisher"])
        self.context[VERSIONS_KEY] = {lang: ver for lang, (ver, _) in shown.items()}

    def generate_output(self, writer) -> None:
        if not self.settings["NEWSROOM_SUBSCRIBE_URL"]:
            return
        for lang in self.settings["NEWSROOM_LANGUAGES"]:
            write_page(
                self,
                writer,
                urls.subscribe(lang),
                "subscribe",
                lang,
                alternate_url=urls.subscribe,
                subscription_types=TYPES,
            )
            write_page(self, writer, urls.privacy(lang), "privacy", lang, alternate_url=urls.privacy)
