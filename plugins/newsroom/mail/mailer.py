"""SMTP sending: one verified TLS connection reused for many messages, reconnecting on a drop, at a set rate.

Server answers are sorted for the outbox: 4xx is temporary (retry later), 5xx permanent, and a server that
cannot be reached or refuses our login stops the run with the rows still queued.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from newsroom.mail import subscribers
from newsroom.mail.outbox import ChannelDown, PermanentFailure, TemporaryFailure

TIMEOUT = 30.0
TLS_MODES = ("starttls", "none")


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
        tls = parse_qs(parts.query).get("tls", [""])[0]
        if tls and (tls not in TLS_MODES or parts.scheme == "smtps"):
            raise MailerConfigError("NEWSROOM_SMTP_URL: tls= may be 'starttls' or 'none', and only with smtp://")
        implicit = parts.scheme == "smtps"
        starttls = not implicit and (tls == "starttls" or (tls != "none" and not _is_local(parts.hostname)))
        return cls(
            implicit,
            parts.hostname,
            port or (465 if implicit else 587 if starttls else 25),
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            starttls,
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

    def __init__(self, config: SmtpConfig, rate: float = 0, timeout: float = TIMEOUT):
        self.config = config
        self.interval = 1 / rate if rate > 0 else 0.0
        self.timeout = timeout
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
        """Deliver to one recipient; a dropped connection is reopened once and the message sent again."""
        self._pace()
        for retry in (False, True):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.sendmail(sender, [recipient], message)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = exc.recipients[recipient]
                raise _answer(code, text) from None
            except smtplib.SMTPSenderRefused as exc:
                if 400 <= exc.smtp_code < 500:
                    raise TemporaryFailure(_said(exc.smtp_code, exc.smtp_error)) from None
                raise ChannelDown(
                    f"the mail server refuses the sender {sender}: "
                    f"{_said(exc.smtp_code, exc.smtp_error)}; check NEWSROOM_MAIL_FROM"
                ) from None
            except smtplib.SMTPDataError as exc:
                raise _answer(exc.smtp_code, exc.smtp_error) from None
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
                self._drop()
                if retry:
                    raise ChannelDown(
                        f"the mail server {self.config} dropped the connection twice: {_reason(exc)}"
                    ) from None

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


def _answer(code: int, text: bytes | str) -> Exception:
    if 400 <= code < 500:
        return TemporaryFailure(_said(code, text))
    return PermanentFailure(_said(code, text))


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
