"""What the service needs from the settings, checked before it starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from newsroom.core import urls
from newsroom.mail import store
from newsroom.mail.mailer import MailerConfigError, SmtpConfig, mail_settings
from newsroom.subscriptions import ratelimit
from newsroom.subscriptions.problems import ServiceError


def origin_of(url: str) -> str:
    """scheme://host[:port] as browsers send it in the Origin header (default ports left out)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class ServiceConfig:
    """What the service needs from the settings, checked before it starts."""

    db: Path
    base_url: str
    site_url: str
    langs: tuple[str, ...]
    origins: frozenset[str]
    limits: tuple[ratelimit.Limit, ...]
    smtp: SmtpConfig
    sender: str
    rate: float

    @classmethod
    def from_settings(cls, settings: dict) -> ServiceConfig:
        base_url = str(settings.get("NEWSROOM_SUBSCRIBE_URL") or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ServiceError(
                "NEWSROOM_SUBSCRIBE_URL must be the service's public address, such as "
                "https://newsroom.example.org/subscriptions"
            )
        site_url = urls.public_base(settings)
        try:
            smtp, sender, rate = mail_settings(settings)
            limits = ratelimit.parse(settings["NEWSROOM_SUBSCRIBE_LIMITS"])
        except (MailerConfigError, ratelimit.LimitSettingError) as exc:
            raise ServiceError(str(exc)) from None
        return cls(
            store.db_path(settings),
            base_url,
            site_url,
            tuple(settings["NEWSROOM_LANGUAGES"]),
            frozenset(filter(None, (origin_of(base_url), origin_of(site_url)))),
            limits,
            smtp,
            sender,
            rate,
        )
