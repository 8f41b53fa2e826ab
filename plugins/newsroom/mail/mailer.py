"""SMTP sending: one verified TLS connection reused for many messages, reconnecting on a drop, at a set rate.

Server answers are sorted for the outbox: 4xx is temporary (retry later); 5xx is permanent for the recipient only
when it is about the recipient (no such mailbox, mailbox disabled). A refusal of us (relaying denied, login
needed, policy, spam filter: enhanced status 5.7.x and other codes not about the recipient, or any 5xx to the
message at DATA) stops the run with the rows still queued, as does a server that cannot be reached. A server that
takes the whole message and then does not answer may have delivered it: that is `Unconfirmed`, never resent at once.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from newsroom.mail import subscribers
from newsroom.mail.outbox import ChannelDown, PermanentFailure, TemporaryFailure, Unconfirmed

TIMEOUT = 30.0
TLS_MODES = ("starttls", "none")
# RFC 3463 enhanced codes about the recipient (addressing 5.1.x but the sender's 5.1.7/5.1.8, mailbox 5.2.x,
# routing 5.4.x); every other class (mail system, protocol, content, security 5.7.x) is about us or the message.
_ENHANCED = re.compile(r"\b5\.(\d{1,3})\.(\d{1,3})\b")
_ABOUT_US = re.compile(r"relay|authenticat|policy", re.IGNORECASE)
_LOGIN_CODES = (530, 534, 535, 538)


class MailerConfigError(ValueError):
    """A mail setting (NEWSROOM_SMTP_URL, _MAIL_FROM, _SMTP_RATE) cannot be used as written."""


@dataclass(frozen=True)
class SmtpConfig:
    implicit_tls: bool
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    timeout: float = TIMEOUT

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        """smtp://user:pass@host:587 (STARTTLS, required unless the host is this machine), smtps://host:465.

        `?tls=none` sends in plain text (a relay on a trusted network), `?tls=starttls` insists on STARTTLS
        even on this machine.
        """
        example = "smtp://user:password@mail.example.org:587, smtps://mail.example.org:465 or smtp://127.0.0.1:1025"
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise MailerConfigError(
                f"NEWSROOM_SMTP_URL '{_without_password(url)}' is not an address; write {example}"
            ) from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailerConfigError(
                f"NEWSROOM_SMTP_URL must start with smtp:// or smtps:// and name a host; write {example}"
            )
        query = parse_qs(parts.query)
        tls = query.get("tls", [""])[0]
        if tls and (tls not in TLS_MODES or parts.scheme == "smtps"):
            raise MailerConfigError("NEWSROOM_SMTP_URL: tls= may be 'starttls' or 'none', and only with smtp://")
        try:
            timeout = float(query.get("timeout", [TIMEOUT])[0])
        except ValueError:
            timeout = 0
        if not 0 < timeout <= 600:
            raise MailerConfigError(
                "NEWSROOM_SMTP_URL: timeout= is how many seconds to wait for each answer of the server, "
                "such as ?timeout=30 (the default, at most 600)"
            )
        implicit = parts.scheme == "smtps"
        starttls = not implicit and (tls == "starttls" or (tls != "none" and not _is_local(parts.hostname)))
        return cls(
            implicit,
            parts.hostname,
            port or (465 if implicit else 587 if starttls else 25),
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            starttls,
            timeout,
        )

    def __str__(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url


class Mailer:
    """A reusable SMTP connection: `send` delivers one message or raises the outbox's failure kinds."""

    def __init__(self, config: SmtpConfig, rate: float = 0):
        self.config = config
        self.interval = 1 / rate if rate > 0 else 0.0
        self.timeout = config.timeout
        self._smtp: smtplib.SMTP | None = None
        self._last = 0.0

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        config, context = self.config, ssl.create_default_context()
        where = f"the mail server {config}"
        try:
            if config.implicit_tls:
                smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
            smtp.ehlo()
            if config.starttls:
                if not smtp.has_extn("starttls"):
                    smtp.close()
                    raise ChannelDown(
                        f"{where} does not offer STARTTLS, so mail would go unencrypted; "
                        "use smtps://, or add ?tls=none for a relay on a trusted network"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.password)
        except ssl.SSLCertVerificationError as exc:
            raise ChannelDown(
                f"{where} showed a certificate that cannot be trusted ({exc.verify_message}); "
                "check the host name in NEWSROOM_SMTP_URL"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelDown(
                f"{where} refused the user name or password ({exc.smtp_code}); check NEWSROOM_SMTP_URL"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelDown(f"cannot reach {where}: {_reason(exc)}") from None
        return smtp

    def send(self, message: bytes, sender: str, recipient: str) -> None:
        """Deliver to one recipient. A connection dropped before the message went is reopened once and the message
        sent; once the whole message has gone, a silence or a drop is `Unconfirmed` and it is not sent again."""
        self._pace()
        for retry in (False, True):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._envelope(self._smtp, sender, recipient)
                code, text = self._smtp.docmd("DATA")
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                if retry:
                    raise ChannelDown(
                        f"the mail server {self.config} dropped the connection twice: {_reason(exc)}"
                    ) from None
                continue
            if code != 354:
                self._reset()
                raise _answer(code, text, "DATA")
            self._message(message)
            return

    def _envelope(self, smtp: smtplib.SMTP, sender: str, recipient: str) -> None:
        """MAIL FROM and RCPT TO, each answer sorted; a refused recipient leaves the connection ready for the next."""
        code, text = smtp.mail(sender)
        if code != 250:
            self._reset()
            if 400 <= code < 500:
                raise TemporaryFailure(_said(code, text))
            raise ChannelDown(
                f"the mail server refuses the sender {sender}: {_said(code, text)}; check NEWSROOM_MAIL_FROM"
            )
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            self._reset()
            raise _answer(code, text, "RCPT TO")

    def _message(self, message: bytes) -> None:
        """Send the message itself and read the server's verdict on it."""
        assert self._smtp is not None
        try:
            self._smtp.send(_dot_stuffed(message))
            code, text = self._smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise Unconfirmed(
                f"the mail server {self.config} took the whole message but gave no answer "
                f"within {self.config.timeout:g} s ({_reason(exc)}); it may have been delivered"
            ) from None
        if code != 250:
            raise _answer(code, text, "the end of DATA")

    def _reset(self) -> None:
        try:
            assert self._smtp is not None
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def _pace(self) -> None:
        if self.interval:
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()


def _said(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


def _answer(code: int, text: bytes | str, stage: str) -> Exception:
    """A 4xx or 5xx answer sorted: try later, this recipient never, or the server will not send for us."""
    said = _said(code, text)
    if 400 <= code < 500:
        return TemporaryFailure(said)
    if refuses_us(code, said, stage):
        return ChannelDown(
            f"the mail server refused to send for us at {stage}, saying '{said}'; nobody was unsubscribed. "
            "Check NEWSROOM_SMTP_URL (user name, password, whether the relay takes mail from this machine) "
            "and NEWSROOM_MAIL_FROM"
        )
    return PermanentFailure(said)


def refuses_us(code: int, said: str, stage: str) -> bool:
    """Whether a 5xx answer is about us or our message rather than the recipient's address."""
    enhanced = _ENHANCED.search(said)
    if enhanced:
        subject, detail = int(enhanced[1]), int(enhanced[2])
        about_recipient = (subject == 1 and detail not in (7, 8)) or subject in (2, 4) or (subject, detail) == (0, 0)
        return not about_recipient or bool(_ABOUT_US.search(said))
    return code in _LOGIN_CODES or stage != "RCPT TO" or bool(_ABOUT_US.search(said))


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA body (RFC 5321 4.5.2): CRLF line ends, a leading dot doubled, ended by a line of one dot."""
    body = re.sub(rb"\r\n|\r|\n", b"\r\n", message)
    body = re.sub(rb"(?m)^\.", b"..", body)
    return body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _said(exc.smtp_code, exc.smtp_error)
    return str(exc) or type(exc).__name__


def mail_settings(settings: dict) -> tuple[SmtpConfig, str, float]:
    """The relay, the sender address and the send rate, checked: what notify and the service both need."""
    smtp = SmtpConfig.parse(str(settings["NEWSROOM_SMTP_URL"]))
    try:
        sender = subscribers.normalize_address(parseaddr(str(settings["NEWSROOM_MAIL_FROM"]))[1], dotless=True)
    except subscribers.SubscriberError as exc:
        raise MailerConfigError(f"NEWSROOM_MAIL_FROM: {exc}") from None
    try:
        rate = float(settings["NEWSROOM_SMTP_RATE"] or 0)
    except ValueError:
        raise MailerConfigError(
            "NEWSROOM_SMTP_RATE must be a number of emails a second, such as 10 (0: no limit)"
        ) from None
    return smtp, sender, rate
