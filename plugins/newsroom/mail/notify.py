"""`newsroom notify`: what a publish build made public is announced once, queued per channel, and delivered."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsroom.build import manifest
from newsroom.build.manifest import PREVIEW_MARKER
from newsroom.core.clock import build_now
from newsroom.core.settings import Settings, local_deploy
from newsroom.mail import distribution, store, subscribers
from newsroom.mail.mailer import Mailer, MailerConfigError, SmtpConfig, mail_settings
from newsroom.mail.messages import Composer
from newsroom.mail.outbox import Announcement, Delivery, NotWanted, Outbox, Tally, sending_lock
from newsroom.mail.webhook import Poster


class NotifyError(Exception):
    """Something an operator can fix stops notify before anything is queued: the message says what."""


@dataclass(frozen=True)
class NotifyConfig:
    """The notify settings, checked once before anything is published or sent."""

    db: Path
    smtp: SmtpConfig
    rate: float
    sender: str
    webhook: str | None
    secret: str

    @classmethod
    def from_settings(cls, settings: dict) -> NotifyConfig:
        try:
            smtp, sender, rate = mail_settings(settings)
        except MailerConfigError as exc:
            raise NotifyError(str(exc)) from None
        if not re.fullmatch(r"https?://[\x21-\x7e]+", str(settings["NEWSROOM_SUBSCRIBE_URL"])):
            raise NotifyError(
                "NEWSROOM_SUBSCRIBE_URL must be the subscription service's http:// or https:// address, "
                "such as https://subscribe.example.org (no spaces; a domain with letters like ä in "
                "its ASCII form, xn--...)"
            )
        webhook = settings["NEWSROOM_PUBLISH_WEBHOOK"] or None
        secret = os.environ.get("NEWSROOM_WEBHOOK_SECRET", "")
        if webhook and not webhook.startswith(("https://", "http://")):
            raise NotifyError(f"NEWSROOM_PUBLISH_WEBHOOK '{webhook}' must be an http:// or https:// address")
        if webhook and not secret:
            raise NotifyError(
                "NEWSROOM_PUBLISH_WEBHOOK is set but NEWSROOM_WEBHOOK_SECRET is not: set the shared "
                "secret in the environment, so the receiver can tell the posts are ours"
            )
        db = store.db_path(settings)
        for name in ("OUTPUT_PATH", "NEWSROOM_DEPLOY"):
            folder = str(settings.get(name) or "")
            if folder and local_deploy(folder) and Path(folder).resolve() in db.resolve().parents:
                raise NotifyError(
                    f"NEWSROOM_DB {db} is inside {name} ({folder}), so the subscriber list would be "
                    "published with the site; keep it in the state folder (var/)"
                )
        return cls(db, smtp, rate, sender, webhook, secret)


@dataclass
class NotifyReport:
    announcement: Announcement
    dry_run: bool = False
    digests: int = 0
    waiting: int = 0
    tallies: dict[str, Tally] = field(default_factory=dict)
    press: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when a channel could not deliver at all, something the operator should look at."""
        return not any(t.down for t in self.tallies.values())

    def lines(self) -> list[str]:
        news = self.announcement
        if news.first_run:
            return [
                f"First run: recorded {news.recorded} public release version(s) as already announced and sent "
                "nothing. From now on each newly published release is emailed once."
            ]
        verb = "Would queue" if self.dry_run else "Queued"
        lines = [
            f"{verb} '{q.publication.entry['title']}' ({q.publication.entry['lang']}): "
            f"{q.emails} email(s)"
            + (f", {q.held} for daily digests" if q.held else "")
            + (", the webhook" if q.webhook else "")
            for q in news.queued
        ]
        lines += [
            f"{verb} the correction of '{q.publication.entry['title']}' ({q.publication.entry['lang']}): "
            f"{q.emails} email(s) to those who got it"
            for q in news.corrected
        ]
        if not news.queued:
            lines.append("No newly published releases to announce.")
        if self.dry_run:
            lines.append(f"Nothing was sent (dry run). {self.waiting} delivery(ies) already wait in the outbox.")
            return lines
        if self.digests:
            lines.append(f"Made {self.digests} daily digest(s).")
        lines.extend(self.press)
        for channel, tally in self.tallies.items():
            lines.extend(_tally_lines(channel, tally))
        return lines


def _tally_lines(channel: str, tally: Tally) -> list[str]:
    noun = {"email": "email(s)", "press": "media list email(s)"}.get(channel, "webhook post(s)")
    lines = [f"Sent {tally.sent} {noun}."] if tally.sent else []
    if tally.retrying:
        lines.append(
            f"{tally.retrying} {noun} will be tried again later (the server said not now); 'newsroom outbox' shows why."
        )
    if tally.failed:
        lines.append(
            f"{tally.failed} {noun} failed for good"
            + (" and their addresses are suppressed" if channel in ("email", "press") else "")
            + "; 'newsroom outbox' shows why."
        )
    if tally.unconfirmed:
        lines.append(
            f"{tally.unconfirmed} {noun} went to the server without an answer back; each is tried at most once more, "
            "in a later run."
        )
    if tally.skipped:
        lines.append(f"{tally.skipped} {noun} skipped: the subscriber left before they went out.")
    if tally.down:
        lines.append(f"Stopped sending {noun}: {tally.down}. They wait in the outbox for the next run.")
    return lines


def read_manifest(settings: dict, output: Path | None) -> dict:
    """The build's manifest: from `output`, else the last one `newsroom publish` kept in the state folder."""
    folder = output or Path(settings["NEWSROOM_STATE_DIR"])
    if (folder / PREVIEW_MARKER).exists():
        raise NotifyError(f"{folder} is a preview build; notify reads only public builds")
    data = manifest.read(folder)
    if data is None:
        where = f"{folder}" if output else f"the state folder {folder} (nothing has been published yet)"
        raise NotifyError(
            f"no {manifest.MANIFEST} in {where}; run 'newsroom publish', or give --output with a "
            "folder built by 'newsroom build --publish'"
        )
    return data


class EmailChannel:
    """Sends an outbox row to its subscriber: still subscribed, with fresh links, refused addresses suppressed."""

    def __init__(self, conn: sqlite3.Connection, composer: Composer, mailer: Mailer, now: datetime):
        self.conn, self.composer, self.mailer, self.now = conn, composer, mailer, now

    def send(self, delivery: Delivery) -> None:
        subscriber = subscribers.get(self.conn, delivery.subscriber_id)
        if subscriber is None or subscriber.status != "confirmed":
            raise NotWanted(subscriber.status if subscriber else "erased")
        token = subscribers.issue_manage_token(self.conn, subscriber.id, self.now)
        message = self.composer.compose(delivery, subscriber, token)
        self.mailer.send(message, self.composer.sender, subscriber.email)

    def refused(self, delivery: Delivery, reason: str) -> None:
        """The outbox found the refusal was about this address: suppress it."""
        if delivery.subscriber_id is not None:
            subscribers.suppress(self.conn, delivery.subscriber_id, reason, self.now)


def notify(
    settings: dict,
    output: Path | None = None,
    now: datetime | str | None = None,
    dry_run: bool = False,
    digest: bool = False,
    config: NotifyConfig | None = None,
) -> NotifyReport:
    """Announce the manifest's public releases (never one dated after `now`), then deliver everything due."""
    config = config or NotifyConfig.from_settings(settings)
    checked = Settings.of(settings)
    now = build_now(now, checked.tz) if now else checked.now
    data = read_manifest(settings, output)
    conn = store.connect(config.db)
    try:
        box = Outbox(conn)
        report = NotifyReport(box.announce(data["releases"], now, config.webhook, dry_run), dry_run)
        if dry_run:
            report.waiting = box.waiting(now)
            return report
        if digest:
            report.digests = box.gather_digests(now.astimezone(checked.tz).date().isoformat(), now)
        with sending_lock(config.db):
            box.recover()
            with Mailer(config.smtp, config.rate) as mailer:
                channel = EmailChannel(conn, Composer(settings, data.get("publisher"), config.sender), mailer, now)
                report.tallies["email"] = box.deliver("email", channel.send, now, channel.refused)
                press = distribution.run(conn, settings, data, mailer, now, config.sender)
                report.press, report.tallies["press"] = press.lines(), press.tally
            report.tallies["webhook"] = box.deliver("webhook", Poster(config.secret, now).send, now)
        return report
    finally:
        conn.close()


def notifier(settings: dict) -> Callable[[Path, datetime], NotifyReport]:
    """The publish pipeline's notify step, its settings checked before anything is built."""
    config = NotifyConfig.from_settings(settings)
    return lambda output, now: notify(settings, output, now, config=config)
