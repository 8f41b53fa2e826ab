"""The emails that carry a shared link (review asked, embargoed preview shared) or tell a writer their release is held.

Each is written into `share_mail` in the same transaction that makes its link or records its reason, then sent
over the configured relay and deleted once the server took it: a crash before that leaves the row to be sent by
the next delivery (at most one duplicate, never a loss), and the token in it is gone once it is delivered.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from newsroom.mail import store
from newsroom.mail.mailer import Mailer, MailerConfigError, mail_settings
from newsroom.mail.messages import environment, one_line

logger = logging.getLogger("newsroom.sharemail")
MAX_ATTEMPTS = 10


def compose(settings: dict, template: str, lang: str, to: str, now: datetime, **context) -> bytes:
    """A plain-text email from the theme's email/<template>_subject.txt and .txt, in `lang`."""
    _, sender, _ = mail_settings(settings)
    env = environment(settings)
    values = {"lang": lang, "page_lang": lang, **context}
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((one_line(context.get("from_name", "")), sender))
    message["To"] = to
    message["Subject"] = one_line(env.get_template(f"email/{template}_subject.txt").render(values))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{sender.rpartition('@')[2]}>"
    message["Content-Language"] = lang
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(env.get_template(f"email/{template}.txt").render(values), cte="quoted-printable")
    return message.as_bytes()


def queue(conn: sqlite3.Connection, recipient: str, message: bytes, now: datetime) -> None:
    """Part of the caller's transaction: the email goes out if and only if what it tells of was recorded."""
    conn.execute(
        "INSERT INTO share_mail (recipient, message, created_at) VALUES (?, ?, ?)",
        (recipient, message, store.stamp(now)),
    )


def deliver(conn: sqlite3.Connection, settings: dict) -> tuple[int, list[str]]:
    """Send every queued email; how many went, and what went wrong (kept for the next try). One sender at a time:
    while another process sends, this one leaves the rows to it."""
    lock = store.db_path(settings).with_name("share-mail.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0, []
        return _deliver(conn, settings)


def _deliver(conn: sqlite3.Connection, settings: dict) -> tuple[int, list[str]]:
    rows = list(
        conn.execute("SELECT id, recipient, message FROM share_mail WHERE attempts < ? ORDER BY id", (MAX_ATTEMPTS,))
    )
    if not rows:
        return 0, []
    try:
        smtp, sender, rate = mail_settings(settings)
    except MailerConfigError as exc:
        return 0, [str(exc)]
    sent, problems = 0, []
    with Mailer(smtp, rate) as mailer:
        for row in rows:
            try:
                mailer.send(bytes(row["message"]), sender, row["recipient"])
            except Exception as exc:  # noqa: BLE001 - a refused or failed send is kept and tried again
                problems.append(f"{row['recipient']}: {exc}")
                with store.transaction(conn):
                    conn.execute(
                        "UPDATE share_mail SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                        (str(exc)[:300], row["id"]),
                    )
                continue
            with store.transaction(conn):
                conn.execute("DELETE FROM share_mail WHERE id = ?", (row["id"],))
            sent += 1
    for problem in problems:
        logger.warning("share mail: %s", problem)
    return sent, problems
