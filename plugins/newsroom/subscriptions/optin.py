"""Double opt-in: the confirmation email, the queue that sends it beside the service, and the purge of sign-ups
that were never confirmed.

A sign-up's reply never waits for the mail server: the email is queued and a single thread sends the queue over
one SMTP connection. The link's token lives only in that queue and in the email (the database keeps its hash), so
a confirmation email lost in a restart is simply asked for again by signing up again.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from jinja2 import Environment

from newsroom.mail import store
from newsroom.mail.addresses import masked
from newsroom.mail.mailer import Mailer, SmtpConfig
from newsroom.mail.messages import one_line
from newsroom.mail.outbox import ChannelDown, PermanentFailure, TemporaryFailure
from newsroom.mail.subscribers import Subscriber
from newsroom.subscriptions.ratelimit import RateLimiter

log = logging.getLogger("newsroom.subscriptions.service")

QUEUE_SIZE = 10_000
ATTEMPTS = 4
IDLE_SECONDS = 30.0
_NO_CONFIRM_TOKEN = (
    "NOT EXISTS (SELECT 1 FROM tokens t WHERE t.subscriber_id = subscribers.id AND t.purpose = 'confirm')"
)


@dataclass(frozen=True)
class Confirmation:
    """One email to send: a confirmation link, or (`already`) a preferences link for an address already subscribed."""

    address: str
    lang: str
    link: str
    already: bool = False


class ConfirmationComposer:
    """Plain-text confirmation emails from the theme's email templates, in the language of the page signed up on."""

    def __init__(self, env: Environment, publisher_names: dict[str, str], sender: str, site_url: str):
        self.env, self.names, self.sender, self.site_url = env, publisher_names, sender, site_url
        self.domain = sender.rpartition("@")[2]

    def compose(self, job: Confirmation) -> bytes:
        name = one_line(self.names.get(job.lang) or next(iter(self.names.values()), "Newsroom"))
        context = {
            "page_lang": job.lang,
            "lang": job.lang,
            "publisher_name": name,
            "link": job.link,
            "already": job.already,
            "site_url": self.site_url,
        }
        message = EmailMessage(policy=SMTP)
        message["From"] = formataddr((name, self.sender))
        message["To"] = job.address
        message["Subject"] = one_line(self.env.get_template("email/confirm_subject.txt").render(context))
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid("confirm", self.domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self.env.get_template("email/confirm.txt").render(context), cte="quoted-printable")
        message["Content-Language"] = job.lang  # after the content: setting content clears Content-* headers
        return message.as_bytes()


class ConfirmationSender:
    """A thread sending queued confirmation emails over one reused connection, retrying what the server defers."""

    def __init__(self, composer: ConfirmationComposer, smtp: SmtpConfig, rate: float = 0, retry_seconds: float = 5.0):
        self.composer, self.smtp, self.rate, self.retry_seconds = composer, smtp, rate, retry_seconds
        self.jobs: queue.Queue[Confirmation | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self.thread = threading.Thread(target=self._run, name="newsroom-confirmations", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def submit(self, job: Confirmation) -> bool:
        """Queue an email; False when the queue is full (the mail server has been away for long)."""
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            log.error("confirmation queue full; not sending to %s", masked(job.address))
            return False
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is queued (for at most `timeout` seconds), then stop."""
        self.jobs.put(None)
        self.thread.join(timeout)

    def _run(self) -> None:
        with Mailer(self.smtp, self.rate) as mailer:
            while True:
                try:
                    job = self.jobs.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    mailer.close()  # do not hold a connection the server will time out anyway
                    continue
                if job is None:
                    return
                self._send(mailer, job)

    def _send(self, mailer: Mailer, job: Confirmation) -> None:
        message = self.composer.compose(job)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                mailer.send(message, self.composer.sender, job.address)
            except PermanentFailure as exc:
                log.warning("the mail server refused the confirmation to %s: %s", masked(job.address), exc)
                return
            except (TemporaryFailure, ChannelDown) as exc:
                log.warning(
                    "confirmation to %s not sent (attempt %d of %d): %s", masked(job.address), attempt, ATTEMPTS, exc
                )
                if attempt < ATTEMPTS:
                    time.sleep(self.retry_seconds * 4 ** (attempt - 1))
            else:
                log.info("sent a %s email to %s", "preferences" if job.already else "confirmation", masked(job.address))
                return
        log.error("gave up sending the confirmation to %s; they can sign up again", masked(job.address))


def pending(conn: sqlite3.Connection, token: str, now: datetime) -> Subscriber | None:
    """Whose sign-up a confirmation token would confirm, while it is unused and unexpired; it confirms nothing."""
    row = conn.execute(
        "SELECT s.* FROM tokens t JOIN subscribers s ON s.id = t.subscriber_id "
        "WHERE t.hash = ? AND t.purpose = 'confirm' AND t.expires_at > ?",
        (store.token_hash(token), store.stamp(now)),
    ).fetchone()
    return Subscriber.from_row(row) if row else None


def purge(conn: sqlite3.Connection, now: datetime, limiter: RateLimiter) -> int:
    """Forget sign-ups whose link expired unconfirmed, and old rate-limit counts; returns how many sign-ups went.

    An address that had been subscribed before and signed up again only goes back to 'unsubscribed': its earlier
    consent history is kept, as when it left.
    """
    stamp = store.stamp(now)
    with store.transaction(conn):
        conn.execute("DELETE FROM tokens WHERE purpose = 'confirm' AND expires_at <= ?", (stamp,))
        gone = conn.execute(
            f"DELETE FROM subscribers WHERE status = 'pending' AND confirmed_at IS NULL AND {_NO_CONFIRM_TOKEN}"
        ).rowcount
        conn.execute(
            f"UPDATE subscribers SET status = 'unsubscribed', changed_at = ? WHERE status = 'pending' "
            f"AND {_NO_CONFIRM_TOKEN}",
            (stamp,),
        )
        limiter.forget(conn, now)
    return gone
