"""Contact cards as vCard 4.0 (RFC 6350), so a journalist adds a press contact to an address book in one tap."""

from __future__ import annotations

import uuid
from datetime import UTC

from newsroom.core import urls
from newsroom.core.model import Contact


def escape(text: str) -> str:
    """A text value as RFC 6350 writes it: backslash, comma, semicolon and line breaks escaped."""
    return (
        text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets go on over several, each continuation starting with a space (RFC 6350 3.2)."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def uid(contact: Contact, namespace: str) -> str:
    """The same person gets the same UID in every language, so an address book updates rather than duplicates."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{namespace}/contacts/{contact.id}')}"


def card(contact: Contact, lang: str, organisation: str, site_url: str, namespace: str) -> str:
    """The contact's card with the title and unit in `lang`; addresses only when the site has an absolute one.

    PRODID names the newsroom that made it, REV when the contact's card was last changed, so an address book
    that has the card can tell this one is newer."""
    *given, family = contact.name.split()
    org = escape(organisation) + (f";{escape(contact.unit[lang])}" if contact.unit.get(lang) else "")
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"PRODID:-//{escape(organisation)}//Newsroom//{lang.upper()}",
        "KIND:individual",
        f"UID:{uid(contact, namespace)}",
        f"FN:{escape(contact.name)}",
        f"N:{escape(family)};{escape(' '.join(given))};;;",
    ]
    if contact.title.get(lang):
        lines.append(f"TITLE:{escape(contact.title[lang])}")
    lines += [
        f"ORG:{org}",
        f"TEL;VALUE=uri;TYPE=work,voice:tel:{contact.phone.replace(' ', '')}",
        f"EMAIL;TYPE=work:{contact.email}",
    ]
    if site_url.startswith(("http://", "https://")):
        if contact.photo:
            lines.append(f"PHOTO:{site_url}/{urls.image(contact.photo.filename)}")
        lines.append(f"URL:{site_url}/{urls.contacts(lang)}")
    if contact.revised:
        lines.append(f"REV:{contact.revised.astimezone(UTC):%Y%m%dT%H%M%SZ}")
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)
