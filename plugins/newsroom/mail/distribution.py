"""Sending a release to its media lists: in advance under embargo, and at publication; and who got it.

A release's lists are queued once per kind of send (the `press_sends` ledger), each journalist once however
many of its lists they are on, as rows of the outbox's 'press' channel: claimed, sent, marked like every other
delivery. The advance goes only to the lists, only while the release is still embargoed; the publication send
goes only when a public build holds the release (notify), and not to whoever already had the advance.
"""

from __future__ import annotations

import binascii
import sqlite3
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import markdown
from markupsafe import escape

from newsroom.build import manifest
from newsroom.content.catalog import catalog_for
from newsroom.core.model import Catalog, Release
from newsroom.mail import approvals, medialists, sharelinks, store
from newsroom.mail.addresses import SubscriberError, normalize_address
from newsroom.mail.mailer import Mailer
from newsroom.mail.medialists import Journalist
from newsroom.mail.messages import PLACEHOLDER, TOKEN_LENGTH, Prototype, Verbatim, environment, one_line
from newsroom.mail.outbox import (
    Delivery,
    NotWanted,
    Outbox,
    Tally,
    TemporaryFailure,
    sending_lock,
)

if TYPE_CHECKING:
    from newsroom.mail.notify import NotifyConfig

ADVANCE, RELEASE = "advance", "release"
# Where each journalist's name goes in the message built once for everyone (letters and digits only, so
# quoted-printable leaves it as it is).
GREETING_PLACEHOLDER = "NEWSROOMxGREETINGxNAMEx"
CHANNEL = "press"


def item(release_id: str, kind: str) -> str:
    return f"press:{release_id}:{kind}"


def _versions(catalog: Catalog) -> dict[str, list[Release]]:
    """Each release's versions that may ever go out (no drafts) and name media lists."""
    found: dict[str, list[Release]] = defaultdict(list)
    for release in catalog.releases:
        if release.status == "published" and release.distribution:
            found[release.release_id].append(release)
    return found


@dataclass(frozen=True)
class Sources:
    """What a run knows of the releases: the content, and the versions a public build holds (with their address)."""

    catalog: Catalog
    public: dict[tuple[str, str], str]
    now: datetime
    held: frozenset[str] = frozenset()  # releases NEWSROOM_APPROVAL = "required" holds (mail/approvals.py)

    @cached_property
    def releases(self) -> dict[str, list[Release]]:
        return {rid: found for rid, found in _versions(self.catalog).items() if rid not in self.held}

    def versions(self, release_id: str, kind: str) -> dict[str, tuple[Release, str | None]]:
        """The versions a send of this kind may carry now, by language, with the public address (None in advance)."""
        found = {}
        for release in self.releases.get(release_id, []):
            url = self.public.get((release.release_id, release.lang))
            if kind == ADVANCE and release.date > self.now and url is None:
                found[release.lang] = (release, None)
            elif kind == RELEASE and url is not None and release.date <= self.now:
                found[release.lang] = (release, url)
        return found


@dataclass
class Queued:
    release_id: str
    kind: str
    recipients: int = 0
    suppressed: int = 0
    unknown: list[str] = field(default_factory=list)


def queue_due(conn: sqlite3.Connection, sources: Sources) -> list[Queued]:
    """Queue every send that is due and not yet queued: advances whose time has come, releases now public.

    A release goes at publication only once notify has announced it in a run that was not the first, so the
    archive a first run records is not sent to the lists either.
    """
    queued = []
    for release_id, versions in sorted(sources.releases.items()):
        lists = versions[0].distribution
        advance = versions[0].advance
        if sources.versions(release_id, RELEASE):
            if not _announced(conn, release_id):
                continue
            done = _queue(conn, release_id, RELEASE, lists, sources.now)
        elif advance is not None and advance <= sources.now and sources.versions(release_id, ADVANCE):
            done = _queue(conn, release_id, ADVANCE, lists, sources.now)
        else:
            continue
        if done:
            queued.append(done)
    return queued


def _announced(conn: sqlite3.Connection, release_id: str) -> bool:
    return bool(conn.execute("SELECT 1 FROM announced WHERE release = ? AND first_run = 0", (release_id,)).fetchone())


def _queue(
    conn: sqlite3.Connection, release_id: str, kind: str, lists: tuple[str, ...], now: datetime
) -> Queued | None:
    stamp = store.stamp(now)
    with store.transaction(conn):
        fresh = conn.execute(
            "INSERT INTO press_sends (release, kind, queued_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (release_id, kind, stamp),
        ).rowcount
        if not fresh:
            return None
        result = Queued(release_id, kind)
        reached = medialists.audience(conn, lists)
        result.unknown = reached.unknown
        had_advance = set()
        if kind == RELEASE:
            # An advance still waiting for a retry would now arrive after the lift: it gives way to this send.
            conn.execute(
                "UPDATE outbox SET status = 'skipped', last_error = ? WHERE channel = ? AND item = ? AND status = 'pending'",
                (
                    "the embargo lifted before the advance went out; sent at publication",
                    CHANNEL,
                    item(release_id, ADVANCE),
                ),
            )
            had_advance = {
                int(r[0])
                for r in conn.execute(
                    "SELECT recipient FROM outbox WHERE channel = ? AND item = ? AND status IN ('sent', 'sending')",
                    (CHANNEL, item(release_id, ADVANCE)),
                )
            }
        for journalist_id, journalist in reached.journalists.items():
            if journalist_id in had_advance:
                continue
            reason = medialists.blocked(conn, journalist.email)
            row = conn.execute(
                "INSERT INTO outbox (channel, recipient, item, status, message_id, due_at, created_at, last_error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, recipient, item) DO NOTHING",
                (
                    CHANNEL,
                    str(journalist_id),
                    item(release_id, kind),
                    "skipped" if reason else "pending",
                    uuid.uuid4().hex,
                    stamp,
                    stamp,
                    f"suppressed: {reason}" if reason else "",
                ),
            )
            outbox_id = row.lastrowid if row.rowcount else _row_id(conn, journalist_id, item(release_id, kind))
            conn.executemany(
                "INSERT INTO press_recipients (release, kind, list_name, journalist_id, outbox_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(release_id, kind, name, journalist_id, outbox_id) for name in reached.lists[journalist_id]],
            )
            result.recipients += 1
            result.suppressed += bool(reason)
    return result


def _row_id(conn: sqlite3.Connection, journalist_id: int, what: str) -> int:
    return conn.execute(
        "SELECT id FROM outbox WHERE channel = ? AND recipient = ? AND item = ?", (CHANNEL, str(journalist_id), what)
    ).fetchone()[0]


# --- the message ---------------------------------------------------------------------------------------------


def _body(release: Release) -> str:
    """The release's Markdown text, after its header."""
    lines = release.source.read_text(encoding="utf-8-sig").splitlines()
    start = 1 if lines and lines[0].strip() == "---" else 0
    for number in range(start, len(lines)):
        if not lines[number].strip() or lines[number].strip() in ("---", "..."):
            return "\n".join(lines[number + 1 :]).strip()
    return ""


@dataclass(frozen=True)
class Sender:
    """Who an email is from: the release's first contact by name, at the newsroom's address; replies to them."""

    display: str
    reply_to: str | None

    @classmethod
    def of(cls, release: Release, fallback: str) -> Sender:
        if not release.contacts:
            return cls(fallback, None)
        contact = release.contacts[0]
        try:
            reply_to = normalize_address(contact.email)
        except SubscriberError:
            reply_to = None
        return cls(one_line(contact.name) or fallback, reply_to)


class PressComposer:
    """Builds one journalist's email: greeting by name, embargo notice in advance, text and HTML parts."""

    def __init__(self, settings: dict, publisher: dict | None, sender: str):
        self.env = environment(settings)
        self.tz = ZoneInfo(settings["TIMEZONE"])
        self.subscribe_url = str(settings["NEWSROOM_SUBSCRIBE_URL"]).rstrip("/")
        # Each journalist's own embargoed preview link (mail/sharelinks.py), served by the desk's preview origin.
        desk_preview = str(settings.get("NEWSROOM_DESK_PREVIEW_URL") or "").rstrip("/")
        self.preview_url = str(settings.get("NEWSROOM_PRESS_PREVIEW_URL") or f"{desk_preview}/t/{{token}}/")
        self.publisher = publisher or {"name": {}, "address": "", "phone": "", "website": "", "brand_color": "#333333"}
        self.sender = sender
        self.domain = sender.rpartition("@")[2]
        self._bodies: dict[tuple[str, str], tuple[str, str]] = {}
        self._prototypes: dict[tuple[str, str, str | None], Prototype] = {}

    def _text_and_html(self, release: Release) -> tuple[str, str]:
        key = (release.release_id, release.lang)
        if key not in self._bodies:
            if len(self._bodies) >= 64:
                self._bodies.clear()
            text = _body(release)
            self._bodies[key] = (text, markdown.markdown(text, extensions=["extra"]))
        return self._bodies[key]

    def compose(
        self,
        delivery: Delivery,
        journalist: Journalist,
        release: Release,
        url: str | None,
        token: str,
        preview: str = "",
    ) -> bytes:
        """The message for this version and kind, built once; per journalist only headers, token and name differ
        (and, in advance, the journalist's own preview link)."""
        key = (release.release_id, release.lang, url, preview)
        prototype = self._prototypes.get(key)
        if prototype is None:
            if len(self._prototypes) >= 64:
                self._prototypes.clear()
            prototype = self._prototypes[key] = self._prototype(release, url, preview)
        headers = (
            f"To: {journalist.email}\r\nDate: {format_datetime(delivery.created_at)}\r\n"
            f"Message-ID: <{delivery.message_id}@{self.domain}>\r\n"
        )
        name = one_line(journalist.name)
        return _greet(prototype.fill(headers.encode("ascii"), token), (name, str(escape(name))))

    def preview_link(self, conn: sqlite3.Connection, journalist: Journalist, release: Release, now: datetime) -> str:
        """A new press link of the journalist's own to the release under embargo; only its hash is kept."""
        token, _ = sharelinks.issue(
            conn,
            "press",
            release.release_id,
            release.lang,
            journalist.email,
            journalist.name,
            "advance send",
            now,
            journalist_id=journalist.id,
        )
        return self.preview_url.format(token=token, release=release.release_id, lang=release.lang)

    def _prototype(self, release: Release, url: str | None, preview: str) -> Prototype:
        lang = release.lang
        name = one_line(self.publisher["name"].get(lang) or next(iter(self.publisher["name"].values()), "Newsroom"))
        text_body, html_body = self._text_and_html(release)
        lift = release.date.astimezone(self.tz)
        embargo = url is None
        context = {
            "page_lang": lang,
            "lang": lang,
            "publisher": self.publisher,
            "publisher_name": name,
            "greeting_name": GREETING_PLACEHOLDER,
            "release": {
                "title": one_line(release.title),
                "lead": one_line(release.lead),
                "type": release.type,
                "date": release.date,
                "url": url,
                "contacts": [
                    {
                        "name": c.name,
                        "title": c.title.get(lang, ""),
                        "unit": c.unit.get(lang, ""),
                        "phone": c.phone,
                        "email": c.email,
                    }
                    for c in release.contacts
                ],
            },
            "body_text": text_body,
            "body_html": html_body,
            "embargo": embargo,
            "lift_date": f"{lift.day}.{lift.month}.{lift.year}",
            "lift_time": f"{lift.hour}.{lift.minute:02d}",
            "preview_url": preview if embargo else "",
            "opt_out": f"{self.subscribe_url}/press-opt-out/{PLACEHOLDER}",
        }
        sender = Sender.of(release, name)
        message = EmailMessage(policy=SMTP)
        message["From"] = formataddr((sender.display, self.sender))
        if sender.reply_to:
            message["Reply-To"] = sender.reply_to
        message["Subject"] = one_line(self.env.get_template("email/press_subject.txt").render(context))
        message["List-Id"] = f"{name} <press.{self.domain}>"
        message["List-Unsubscribe"] = Verbatim("List-Unsubscribe", [context["opt_out"]])
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text = self.env.get_template("email/press.txt").render(context)
        html = self.env.get_template("email/press.html").render(context)
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        message["Content-Language"] = lang
        prototype = Prototype.of(message, text.count(PLACEHOLDER) + html.count(PLACEHOLDER) + 1)
        if prototype.fill(b"", "x" * TOKEN_LENGTH).count(GREETING_PLACEHOLDER.encode()) != 2:
            raise RuntimeError("the greeting must be once in the text part and once in the HTML part, each on a line")
        return prototype


def _greet(data: bytes, names: tuple[str, str]) -> bytes:
    """Put the journalist's name where the greeting placeholder is, in the text part and then the HTML part.

    Each placeholder sits on a short quoted-printable line: that line is decoded, filled in and encoded again,
    so a name with any letters (or an '=') is encoded as the rest of the part is.
    """
    mark = GREETING_PLACEHOLDER.encode()
    for name in names:
        found = data.index(mark)
        start = data.rfind(b"\r\n", 0, found) + 2
        end = data.index(b"\r\n", found)
        line = data[start:end]
        soft = line.endswith(b"=")
        text = binascii.a2b_qp(line).decode("utf-8").replace(GREETING_PLACEHOLDER, name, 1)
        encoded = binascii.b2a_qp(text.encode("utf-8")).replace(b"=\n", b"=\r\n")
        data = data[:start] + encoded + (b"=" if soft else b"") + data[end:]
    return data


# --- sending -------------------------------------------------------------------------------------------------


class PressChannel:
    """Sends a 'press' outbox row: to a journalist still on the release's lists and not suppressed, in their language."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        composer: PressComposer,
        mailer: Mailer,
        sources: Sources,
        langs: tuple[str, ...],
    ):
        self.conn, self.composer, self.mailer, self.sources, self.langs = conn, composer, mailer, sources, langs

    def send(self, delivery: Delivery) -> None:
        _, release_id, kind = (
            self.conn.execute("SELECT item FROM outbox WHERE id = ?", (delivery.id,)).fetchone()[0].split(":")
        )
        journalist = medialists.get(self.conn, int(delivery.recipient))
        if journalist is None or not self._still_listed(journalist, release_id, kind):
            raise NotWanted("no longer on the release's lists")
        reason = medialists.blocked(self.conn, journalist.email)
        if reason:
            raise NotWanted(f"suppressed: {reason}")
        versions = self.sources.versions(release_id, kind)
        if not versions:
            if kind == ADVANCE:
                raise NotWanted("the embargo lifted (or the release was withdrawn) before the advance went out")
            raise TemporaryFailure("the release is not in the public build this run read")
        order = [*journalist.languages, *self.langs, *sorted(versions)]
        release, url = versions[next(lang for lang in order if lang in versions)]
        token = medialists.issue_token(self.conn, journalist.id, self.sources.now)
        preview = self.composer.preview_link(self.conn, journalist, release, self.sources.now) if url is None else ""
        message = self.composer.compose(delivery, journalist, release, url, token, preview)
        self.mailer.send(message, self.composer.sender, journalist.email)

    def refused(self, delivery: Delivery, reason: str) -> None:
        """The outbox found a refusal (5xx) was about this address: suppress it for the lists and subscriptions."""
        journalist = medialists.get(self.conn, int(delivery.recipient))
        if journalist is not None:
            medialists.bounced(self.conn, journalist, reason, self.sources.now)

    def _still_listed(self, journalist: Journalist, release_id: str, kind: str) -> bool:
        return bool(
            self.conn.execute(
                "SELECT 1 FROM press_recipients r JOIN media_lists l ON l.name = r.list_name "
                "JOIN list_members m ON m.list_id = l.id AND m.journalist_id = r.journalist_id "
                "WHERE r.release = ? AND r.kind = ? AND r.journalist_id = ? LIMIT 1",
                (release_id, kind, journalist.id),
            ).fetchone()
        )


@dataclass
class Run:
    queued: list[Queued]
    tally: Tally

    def lines(self) -> list[str]:
        lines = []
        for done in self.queued:
            what = "in advance, under embargo" if done.kind == ADVANCE else "at publication"
            lines.append(
                f"Queued '{done.release_id}' for its media lists {what}: {done.recipients} journalist(s)"
                + (f", {done.suppressed} of them suppressed" if done.suppressed else "")
                + "."
            )
            if done.unknown:
                lines.append(f"No media list named {', '.join(done.unknown)}: 'newsroom lists show' names the lists.")
        return lines


def run(
    conn: sqlite3.Connection,
    settings: dict,
    data: dict | None,
    mailer: Mailer,
    now: datetime,
    sender: str,
) -> Run:
    """Queue what is due for the media lists and send every due 'press' row.

    `data` is the manifest of the public build (None when there is none yet): only a release in it goes out at
    publication. The caller holds the outbox's sending lock and has recovered rows a killed run left.
    """
    catalog = catalog_for(settings)
    public = {(e["release"], e["lang"]): e["url"] for e in (data or {}).get("releases", [])}
    held = frozenset(approvals.held(conn, settings, catalog, {release for release, _ in public}))
    sources = Sources(catalog, public, now, held)
    queued = queue_due(conn, sources)
    publisher = (data or {}).get("publisher") or _publisher(catalog)
    channel = PressChannel(
        conn, PressComposer(settings, publisher, sender), mailer, sources, tuple(settings["NEWSROOM_LANGUAGES"])
    )
    return Run(queued, Outbox(conn).deliver(CHANNEL, channel.send, now, channel.refused))


def send_due(settings: dict, config: NotifyConfig, now: datetime) -> Run:
    """What `newsroom distribution send-due` does between publishes: advances whose time has come, retries due.

    Releases go at publication only through notify; here the last published build (kept in the state folder)
    only tells which versions are public, so a retry of a publication send can find its address.
    """
    data = manifest.read(Path(settings["NEWSROOM_STATE_DIR"]))
    conn = store.connect(config.db)
    try:
        with sending_lock(config.db):
            Outbox(conn).recover()
            with Mailer(config.smtp, config.rate) as mailer:
                return run(conn, settings, data, mailer, now, config.sender)
    finally:
        conn.close()


def _publisher(catalog: Catalog) -> dict | None:
    """The footer's facts about the sender, read from the content when no public build has been made yet."""
    card = catalog.publisher
    if card is None:
        return None
    return {
        "name": card.name,
        "address": card.address,
        "phone": card.phone,
        "email": card.email,
        "website": card.website,
        "brand_color": card.brand_color,
    }


# --- the report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    kind: str
    list_name: str
    email: str
    name: str
    outlet: str
    state: str
    detail: str


def _state(status: str, attempts: int, error: str) -> str:
    if status == "sent":
        return "sent"
    if status == "failed":
        return "bounced" if error[:1] == "5" else "failed"
    if status == "skipped":
        return "suppressed" if error.startswith(("suppressed", "opted-out", "bounced")) else "skipped"
    if status == "pending" and attempts:
        return "deferred"
    return "queued" if status == "pending" else status


def report(conn: sqlite3.Connection, release_id: str) -> list[Line]:
    """Per send and list, each journalist and how their email ended: sent, deferred, bounced, suppressed, ..."""
    rows = conn.execute(
        "SELECT r.kind, r.list_name, j.email, j.name, j.outlet, o.status, o.attempts, o.last_error "
        "FROM press_recipients r JOIN journalists j ON j.id = r.journalist_id JOIN outbox o ON o.id = r.outbox_id "
        "WHERE r.release = ? ORDER BY r.kind = 'release', r.list_name, j.email",
        (release_id,),
    )
    return [Line(r[0], r[1], r[2], r[3], r[4], _state(r[5], r[6], r[7]), r[7]) for r in rows]
