"""The publish webhook: each newly public release version POSTed as JSON, signed with HMAC-SHA256.

It is a channel of the outbox, so it is queued, retried and recorded exactly like email. The receiver checks
`X-Newsroom-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>` and may use the
body's `delivery` id to ignore a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime

from newsroom.mail.outbox import Delivery, PermanentFailure, TemporaryFailure

SIGNATURE_HEADER = "X-Newsroom-Signature"
TIMEOUT = 15.0
# Answers that mean "try again later"; every other 4xx means this request will never be taken.
RETRY_STATUSES = {408, 425, 429}


def payload(delivery: Delivery, now: datetime) -> bytes:
    entry = delivery.entries[0]
    return json.dumps(
        {
            "event": "release.published",
            "delivery": delivery.message_id,
            "sent_at": now.isoformat(),
            "release": entry["release"],
            "lang": entry["lang"],
            "type": entry["type"],
            "title": entry["title"],
            "lead": entry["lead"],
            "keywords": entry["keywords"],
            "url": entry["url"],
            "date": entry["date"],
            "modified": entry["modified"],
            "images": [image["url"] for image in entry.get("images", [])],
        },
        ensure_ascii=False,
    ).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Poster:
    """Sends one outbox row to its webhook address."""

    def __init__(self, secret: str, now: datetime, timeout: float = TIMEOUT):
        self.secret = secret
        self.now = now
        self.timeout = timeout

    def send(self, delivery: Delivery) -> None:
        body = payload(delivery, self.now)
        request = urllib.request.Request(
            delivery.recipient,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "newsroom-webhook",
                SIGNATURE_HEADER: signature(self.secret, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):
                return
        except urllib.error.HTTPError as exc:
            said = f"the webhook answered {exc.code} {exc.reason}"
            if exc.code >= 500 or exc.code in RETRY_STATUSES:
                raise TemporaryFailure(said) from None
            raise PermanentFailure(said) from None
        except (urllib.error.URLError, OSError) as exc:
            raise TemporaryFailure(f"cannot reach the webhook: {getattr(exc, 'reason', exc)}") from None
