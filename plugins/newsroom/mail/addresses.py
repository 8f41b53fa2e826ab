"""Email addresses as people type them: refused when they cannot be one, else the one form they are stored and sent
to; and the check for characters that could split a mail header or a log line, wherever a typed value is echoed."""

from __future__ import annotations

import re
from functools import lru_cache

from newsroom.core.text import has_control

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class SubscriberError(ValueError):
    """A value a person typed (an address, a preference) that cannot be used, with what to write instead."""


def normalize_address(text: str, dotless: bool = False) -> str:
    """The address as stored and sent to: lowercased, the domain in ASCII (IDNA); refused when it is not an address.

    A domain without a dot is almost always a typing mistake ('name@gmail'), except for our own `dotless`
    sender on this machine ('newsroom@localhost').
    """
    address = text.strip()
    if has_control(address):
        raise SubscriberError("email: the address contains a line break or a control character")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise SubscriberError(f"email: '{address}' is not an email address (name@example.org)")
    if not _LOCAL.fullmatch(local) or len(local) > 64:
        raise SubscriberError(f"email: '{address}' has characters before the @ that cannot be used")
    ascii_domain = _ascii_domain(domain, dotless)
    if ascii_domain is None:
        raise SubscriberError(f"email: '{address}' has a domain that is not valid (example.org)")
    result = f"{local.lower()}@{ascii_domain}"
    if len(result) > 254:
        raise SubscriberError("email: the address is longer than 254 characters")
    return result


@lru_cache(maxsize=4096)
def _ascii_domain(domain: str, dotless: bool) -> str | None:
    """The domain in lowercase ASCII (IDNA), or None when it cannot be one; remembered, as lists share domains."""
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 - dotless or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_domain


def masked(address: str) -> str:
    """'a…@example.org': enough for an operator to recognise, not a full address in a log."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"
