"""Starts new content files for writers: a release, a language version of one, a contact card."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from newsroom.content.header import read_header
from newsroom.core.urls import slug

SHARED_FIELDS = (
    "Date",
    "Type",
    "Release",
    "Contacts",
    "Images",
    "Attachments",
    "Pinned",
    "Event-Start",
    "Event-End",
    "Location",
)


class AuthoringError(Exception):
    """Something a writer asked for cannot be done; the message says what to do instead."""


def next_full_hour(now: datetime) -> datetime:
    return (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


def release_id_for(title: str) -> str:
    words = slug(title).split("-")
    rid = ""
    for word in words:
        if len(rid) + len(word) + 1 > 60:
            break
        rid = f"{rid}-{word}" if rid else word
    return rid or "release"


def new_release(content: Path, kind: str, lang: str, title: str, tz: ZoneInfo, now: datetime | None = None) -> Path:
    now = now or datetime.now(tz)
    release_id = release_id_for(title)
    path = content / "releases" / f"{release_id}.{lang}.md"
    if path.exists():
        raise AuthoringError(f"{path} already exists; open it, or choose another title")
    start = next_full_hour(now)
    lines = [
        f"Title: {title}",
        f"Date: {start:%Y-%m-%d %H:%M}",
        f"Type: {kind}",
        f"Lang: {lang}",
        f"Release: {release_id}",
        "Lead: Summarise the release in one or two sentences.",
        "Keywords: ",
        "Contacts: ",
        "Images: ",
        "Attachments: ",
        "Pinned: no",
        "Status: draft",
    ]
    if kind == "invitation":
        event = start + timedelta(days=7)
        lines += [
            f"Event-Start: {event:%Y-%m-%d %H:%M}",
            f"Event-End: {event + timedelta(hours=2):%Y-%m-%d %H:%M}",
            "Location: Write the place and street address here",
        ]
    body = "Write the release here. Start with the most important facts.\n\n## A subheading\n\nMore text.\n"
    _write_new(path, "\n".join(lines) + "\n\n" + body)
    return path


def new_translation(source: Path, lang: str) -> Path:
    fields, _ = read_header(source)
    if not fields:
        raise AuthoringError(f"{source} has no metadata header; is it a release file?")
    if fields.get("lang") and fields["lang"].value == lang:
        raise AuthoringError(f"{source} is already in {lang}; choose another language with --lang")
    release_id = fields["release"].value if "release" in fields else source.name.split(".")[0]
    path = source.parent / f"{release_id}.{lang}.md"
    for other in source.parent.rglob("*.md"):
        other_fields, _ = read_header(other)
        if (
            other_fields.get("release")
            and other_fields["release"].value == release_id
            and other_fields.get("lang")
            and other_fields["lang"].value == lang
        ):
            raise AuthoringError(f"{other} is already the {lang} version of '{release_id}'; edit that file")
    lines = [f"Title: {fields['title'].value if 'title' in fields else ''}", f"Lang: {lang}"]
    lines += [f"{name}: {fields[name.lower()].value}" for name in SHARED_FIELDS if name.lower() in fields]
    lines += [f"Lead: {fields['lead'].value if 'lead' in fields else ''}", "Keywords: ", "Status: draft"]
    body = source.read_text(encoding="utf-8-sig").split("\n\n", 1)
    _write_new(path, "\n".join(lines) + "\n\n" + (body[1] if len(body) > 1 else ""))
    return path


def new_contact(content: Path, name: str) -> Path:
    contact_id = slug(name)
    path = content / "contacts" / f"{contact_id}.yaml"
    if path.exists():
        raise AuthoringError(f"{path} already exists; open it to edit the card")
    first, _, last = name.partition(" ")
    email = f"{slug(first)}.{slug(last or first)}@example.org"
    text = (
        f"name: {name}\n"
        "title:\n  fi: tehtävänimike\n  sv: titel\n  en: job title\n"
        'phone: "+358 40 000 0000"\n'
        f"email: {email}\n"
        "unit:\n  fi: yksikkö\n  sv: enhet\n  en: unit\n"
        "# photo: an image id from content/images (optional)\n"
    )
    _write_new(path, text)
    return path


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
