"""Double opt-in: the confirmation email, the durable queue that sends it beside the service, and the purge of
sign-ups that were never confirmed.

A sign-up's reply never waits for the mail server: the email is queued in the database in the same transaction as
the sign-up, and a single thread sends the queue over one SMTP connection. So a restart, a SIGTERM (the queue is
drained first, for a while) or a kill loses no confirmation: what is left is sent when the service starts again.
The link's token is kept in the queue only until the server took the email; the tokens table keeps its hash.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from jinja2 import Environment

from newsroom.mail import store, subscribers
from newsroom.mail.addresses import masked
from newsroom.mail.mailer import Mailer, SmtpConfig
from newsroom.mail.messages import one_line
from newsroom.mail.outbox import ChannelDown, PermanentFailure, TemporaryFailure, Unconfirmed
from newsroom.mail.subscribers import Subscriber
from newsroom.subscriptions.ratelimit import RateLimiter

log = logging.getLogger("newsroom.subscriptions.service")

ATTEMPTS = 4
IDLE_SECONDS = 30.0
BATCH = 50
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

    def __init__(
        self,
        env: Environment,
        publisher_names: dict[str, str],
        sender: str,
        site_url: str,
        name_forms: dict[str, dict[str, str]] | None = None,
    ):
        self.env, self.names, self.sender, self.site_url = env, publisher_names, sender, site_url
        self.publisher = {"name": publisher_names, "name_forms": name_forms or {}}  # as sentences name it
        self.domain = sender.rpartition("@")[2]

    def compose(self, job: Confirmation) -> bytes:
        name = one_line(self.names.get(job.lang) or next(iter(self.names.values()), "Newsroom"))
        context = {
            "page_lang": job.lang,
            "lang": job.lang,
            "publisher_name": name,
            "publisher": self.publisher,
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


def enqueue(conn: sqlite3.Connection, address: str, lang: str, kind: str, token: str, now: datetime) -> None:
    """Queue the email carrying `token` (kind 'confirm' or 'preferences'), in the caller's transaction."""
    placeholder = subscribers.erased_placeholder(address)
    row = conn.execute("SELECT id FROM subscribers WHERE email = ?", (address,)).fetchone()
    stored = None
    if row is None:
        row, stored = conn.execute("SELECT id FROM subscribers WHERE email = ?", (placeholder,)).fetchone(), address
    stamp = store.stamp(now)
    conn.execute(
        "INSERT INTO confirmations (subscriber_id, address, lang, kind, token, due_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (row["id"], stored, lang, kind, token, stamp, stamp),
    )


class ConfirmationSender:
    """A thread sending the queued confirmation emails over one reused connection, retrying what the server defers.

    `link(kind, token)` makes the address a token's email links to.
    """

    def __init__(
        self,
        composer: ConfirmationComposer,
        smtp: SmtpConfig,
        db: Path,
        link: Callable[[str, str], str],
        rate: float = 0,
        retry_seconds: float = 5.0,
    ):
        self.composer, self.smtp, self.db, self.link = composer, smtp, db, link
        self.rate, self.retry_seconds = rate, retry_seconds
        self.thread = threading.Thread(target=self._run, name="newsroom-confirmations", daemon=True)
        self._wake = threading.Event()
        self._deadline: float | None = None

    def start(self) -> None:
        """Start sending, beginning with whatever an earlier run left queued."""
        self.thread.start()

    def wake(self) -> None:
        """Something was queued: send it now."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is due (for at most `timeout` seconds), then stop; the rest waits in the database."""
        self._deadline = time.monotonic() + timeout
        self._wake.set()
        self.thread.join(timeout + 1)

    def _run(self) -> None:
        conn = store.connect(self.db)
        try:
            with Mailer(self.smtp, self.rate) as mailer:
                while True:
                    self._wake.clear()
                    waiting = self._send_due(conn, mailer)
                    if self._deadline is not None:
                        left = conn.execute("SELECT count(*) FROM confirmations").fetchone()[0]
                        if left:
                            log.warning(
                                "stopping with %d confirmation email(s) queued; they go at the next start", left
                            )
                        return
                    if not self._wake.wait(waiting):
                        mailer.close()  # do not hold a connection the server will time out anyway
        finally:
            conn.close()

    def _send_due(self, conn: sqlite3.Connection, mailer: Mailer) -> float:
        """Send every due email (until stopped and past the deadline); returns how long to wait for the next."""
        while True:
            now = datetime.now(UTC)
            rows = conn.execute(
                "SELECT c.*, s.email FROM confirmations c JOIN subscribers s ON s.id = c.subscriber_id "
                "WHERE c.due_at <= ? ORDER BY c.id LIMIT ?",
                (store.stamp(now), BATCH),
            ).fetchall()
            if not rows:
                break
            for row in rows:
                if self._deadline is not None and time.monotonic() > self._deadline:
                    return 0
                if not self._send(conn, mailer, row, now):
                    return self.retry_seconds  # the server is down: try again in a while
        later = conn.execute("SELECT min(due_at) FROM confirmations").fetchone()[0]
        if later is None or self._deadline is not None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.05, (store.unstamp(later) - datetime.now(UTC)).total_seconds()))

    def _send(self, conn: sqlite3.Connection, mailer: Mailer, row: sqlite3.Row, now: datetime) -> bool:
        """One queued email; False when the server cannot be reached (the row stays as it was)."""
        # Taken for as long as a send can take, so a second service on the same database does not send it too;
        # if this process dies meanwhile, the email is due again when the lease ends.
        lease = store.stamp(now + timedelta(seconds=2 * self.smtp.timeout + 1))
        taken = conn.execute(
            "UPDATE confirmations SET due_at = ? WHERE id = ? AND due_at = ?", (lease, row["id"], row["due_at"])
        )
        if not taken.rowcount:
            return True
        kind = row["kind"]
        job = Confirmation(
            row["address"] or row["email"], row["lang"], self.link(kind, row["token"]), kind != "confirm"
        )
        try:
            mailer.send(self.composer.compose(job), self.composer.sender, job.address)
        except PermanentFailure as exc:
            log.warning("the mail server refused the confirmation to %s: %s", masked(job.address), exc)
        except Unconfirmed as exc:
            log.warning("confirmation to %s may have gone (not sent again): %s", masked(job.address), exc)
        except ChannelDown as exc:
            log.warning("confirmation emails wait for the mail server: %s", exc)
            conn.execute("UPDATE confirmations SET due_at = ? WHERE id = ?", (row["due_at"], row["id"]))
            return False  # not an attempt of this email: everything waits until the server is back
        except TemporaryFailure as exc:
            attempt = row["attempts"] + 1
            log.warning(
                "confirmation to %s not sent (attempt %d of %d): %s", masked(job.address), attempt, ATTEMPTS, exc
            )
            if attempt < ATTEMPTS:
                due = now + timedelta(seconds=self.retry_seconds * 4 ** (attempt - 1))
                conn.execute(
                    "UPDATE confirmations SET attempts = ?, due_at = ? WHERE id = ?",
                    (attempt, store.stamp(due), row["id"]),
                )
                return True
            log.error("gave up sending the confirmation to %s; they can sign up again", masked(job.address))
        else:
            log.info("sent a %s email to %s", "preferences" if job.already else "confirmation", masked(job.address))
        conn.execute("DELETE FROM confirmations WHERE id = ?", (row["id"],))  # the token goes with it
        return True


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
