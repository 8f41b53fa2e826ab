"""Release and digest emails: plain text and HTML from the theme's email templates, in the reader's language.

Headers are built from cleaned values only: a title with line breaks or control characters becomes one line,
so nothing in the content can add a header. Everyone who gets one release in one language gets the same
message but for its address, Message-ID, date and link token, so the message is built once with the email
package and then only those are filled in for each subscriber.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from newsroom.mail.outbox import Delivery
from newsroom.mail.subscribers import Subscriber
from newsroom.media.images import EMAIL_WIDTH
from newsroom.theming import templating

# Same length and alphabet as secrets.token_urlsafe(32), so quoted-printable breaks the lines at the same places.
TOKEN_LENGTH = 43
PLACEHOLDER = "NEWSROOMxTOKENxPLACEHOLDERxxxxxxxxxxxxxxxxx"
# Alt text longer than this fills the top of an email whose pictures are blocked; the page has the full text.
ALT_LIMIT = 80
_PLACEHOLDER_FOUND = re.compile(b"(?:=\r\n)?".join(re.escape(bytes([c])) for c in PLACEHOLDER.encode()))


def one_line(text: str) -> str:
    """Control characters and every kind of line break or space become one space."""
    return " ".join(
        "".join(
            " " if unicodedata.category(c) == "Cc" or unicodedata.category(c)[0] == "Z" else c for c in text
        ).split()
    )


class Verbatim(str):
    """A header of URIs written exactly as given, one per line: never encoded or refolded (RFC 2369 wants <uri>)."""

    def __new__(cls, name: str, uris: list[str]) -> Verbatim:
        header = super().__new__(cls, ", ".join(f"<{uri}>" for uri in uris))
        header.name, header.uris = name, uris
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: " + f",{policy.linesep} ".join(f"<{uri}>" for uri in self.uris) + policy.linesep


def environment(settings: dict) -> Environment:
    """The email templates' Jinja environment, with the same `_()`, filters and globals as the site's pages."""
    env = Environment(
        loader=FileSystemLoader(Path(settings["THEME"]) / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templating.install(env, settings)
    return env


@dataclass(frozen=True)
class Prototype:
    """A flattened message with a placeholder token: `pieces` around each place the token goes."""

    pieces: tuple[bytes, ...]
    breaks: tuple[int, ...]

    @classmethod
    def of(cls, message: EmailMessage, places: int) -> Prototype:
        """Flatten `message` and find the `places` where its placeholder token went (line-broken or not)."""
        data = message.as_bytes()
        pieces, breaks, start = [], [], 0
        for found in _PLACEHOLDER_FOUND.finditer(data):
            pieces.append(data[start : found.start()])
            breaks.append(found.group().find(b"=\r\n"))
            start = found.end()
        pieces.append(data[start:])
        if len(breaks) != places:
            raise RuntimeError(f"found the link token in {len(breaks)} places of the encoded email, not {places}")
        return cls(tuple(pieces), tuple(breaks))

    def fill(self, headers: bytes, token: str) -> bytes:
        if len(token) != TOKEN_LENGTH:
            raise ValueError("a link token must be as long as the placeholder it replaces")
        value = token.encode("ascii")
        forms = {cut: value if cut < 0 else value[:cut] + b"=\r\n" + value[cut:] for cut in set(self.breaks)}
        parts = [headers, self.pieces[0]]
        for cut, piece in zip(self.breaks, self.pieces[1:]):
            parts += (forms[cut], piece)
        return b"".join(parts)


def in_reading_order(entries: tuple[dict, ...], languages: tuple[str, ...]) -> tuple[dict, ...]:
    """A release's versions in the order the subscriber reads their languages: the first language first."""
    rank = {lang: position for position, lang in enumerate(languages)}
    return tuple(sorted(entries, key=lambda entry: rank.get(entry["lang"], len(rank))))


def short_alt(text: str, limit: int = ALT_LIMIT) -> str:
    """Alt text an email client shows in place of a blocked picture: at most `limit` characters, cut at a word."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


class Composer:
    """Builds a subscriber's email for an outbox row, as the bytes to send."""

    def __init__(self, settings: dict, publisher: dict | None, sender: str):
        self.env = environment(settings)
        self.subscribe_url = str(settings["NEWSROOM_SUBSCRIBE_URL"]).rstrip("/")
        self.publisher = publisher or {
            "name": {},
            "address": "",
            "phone": "",
            "email": "",
            "website": "",
            "brand_color": "#333333",
        }
        self.sender = sender
        self.domain = sender.rpartition("@")[2]
        self._prototypes: dict[tuple, Prototype] = {}

    def compose(self, delivery: Delivery, subscriber: Subscriber, token: str) -> bytes:
        digest = delivery.digest_day
        entries = delivery.entries if digest else in_reading_order(delivery.entries, subscriber.preferences.languages)
        lang = subscriber.preferences.languages[0] if digest else entries[0]["lang"]
        key = (tuple((entry["release"], entry["lang"]) for entry in entries), lang, digest)
        prototype = self._prototypes.get(key)
        if prototype is None:
            if len(self._prototypes) >= 64:
                self._prototypes.clear()
            prototype = self._prototypes[key] = self._prototype(lang, digest, entries)
        headers = (
            f"To: {subscriber.email}\r\nDate: {format_datetime(delivery.created_at)}\r\n"
            f"Message-ID: <{delivery.message_id}@{self.domain}>\r\n"
        )
        return prototype.fill(headers.encode("ascii"), token)

    def _prototype(self, lang: str, digest: str | None, entries: tuple[dict, ...]) -> Prototype:
        """The message everyone gets for these releases in this language, with a placeholder token."""
        name = one_line(self.publisher["name"].get(lang) or next(iter(self.publisher["name"].values()), "Newsroom"))
        releases = [self._readable(entry) for entry in entries]
        links = {
            kind: f"{self.subscribe_url}/{kind}/{PLACEHOLDER}" for kind in ("preferences", "unsubscribe", "one-click")
        }
        context = {
            "page_lang": lang,
            "lang": lang,
            "publisher": self.publisher,
            "publisher_name": name,
            "releases": releases,
            "release": releases[0],
            "links": links,
            "digest": bool(digest),
            "day": datetime.fromisoformat(digest).strftime("%d.%m.%Y") if digest else "",
        }
        kind = "digest" if digest else "release"
        message = EmailMessage(policy=SMTP)
        message["From"] = formataddr((name, self.sender))
        message["Subject"] = one_line(self.env.get_template("email/subject.txt").render(context))
        message["List-Id"] = f"{name} <newsroom.{self.domain}>"
        message["List-Unsubscribe"] = Verbatim(
            "List-Unsubscribe", [links["one-click"], f"mailto:{self.sender}?subject=unsubscribe"]
        )
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a release
        text = self.env.get_template(f"email/{kind}.txt").render(context)
        html = self.env.get_template(f"email/{kind}.html").render(context)
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        message["Content-Language"] = lang  # after the content: setting content clears Content-* headers
        return Prototype.of(message, text.count(PLACEHOLDER) + html.count(PLACEHOLDER) + 1)

    @staticmethod
    def _readable(entry: dict) -> dict:
        """The manifest entry with its dates as moments, its title and lead on one line, its lead image."""
        return {
            **entry,
            "title": one_line(entry["title"]),
            "lead": one_line(entry["lead"]),
            "date": datetime.fromisoformat(entry["date"]),
            "image": _email_image(entry),
            "contacts": entry.get("contacts", []),
        }


def _email_image(entry: dict) -> dict | None:
    """The lead image as the email shows it: the file made for the email column, with its size and a short alt."""
    images = entry.get("images") or []
    if not images:
        return None
    lead = images[0]
    shown = lead.get("email") or {"url": lead["url"], "width": lead["width"], "height": lead["height"]}
    width = min(shown["width"], EMAIL_WIDTH)
    return {
        **shown,
        "width": width,
        "height": round(shown["height"] * width / shown["width"]),
        "alt": short_alt(lead["alt"]),
    }
