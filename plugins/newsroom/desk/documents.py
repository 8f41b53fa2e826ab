"""Release files as the desk's forms see them: header fields and body in, the same Markdown file out.

The files stay what a writer with a text editor would write (`Field: value` lines, a blank line, Markdown), in
the catalog's field order, so the command line and the desk keep working on the same content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from newsroom.content.catalog import RELEASE_FIELDS
from newsroom.content.header import read_header
from newsroom.core.clock import DateError, parse_local
from newsroom.core.text import split_list

# Form field name for each header field: lower case with underscores ('Event-Start' -> 'event_start').
FORM_NAMES = {name: name.lower().replace("-", "_") for name in RELEASE_FIELDS}
LIST_FIELDS = ("Keywords", "Contacts", "Images", "Attachments")
EVENT_FIELDS = ("Event-Start", "Event-End", "Location")


def blob_hash(data: bytes) -> str:
    """The id git gives a file with these bytes: what the form remembers of the version it opened."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Document:
    """One release file: its header fields by name (as written) and its Markdown body."""

    fields: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    def items(self, name: str) -> tuple[str, ...]:
        return split_list(self.get(name))

    def text(self) -> str:
        """The file as it is written: known fields in the catalog's order, any others after them, then the body."""
        names = [n for n in RELEASE_FIELDS if self.fields.get(n)] + [
            n for n in self.fields if n not in RELEASE_FIELDS and self.fields[n]
        ]
        header = "\n".join(f"{name}: {' '.join(self.fields[name].split())}" for name in names)
        body = self.body.replace("\r\n", "\n").strip("\n")
        return f"{header}\n\n{body}\n"


def parse(text: str) -> Document:
    """The header and body of a release file's text (a header ends at the first blank line)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    fields: dict[str, str] = {}
    last = ""
    for line in head.split("\n"):
        if line.strip() in ("---", "..."):
            continue
        if line.startswith("    ") and last:
            fields[last] = f"{fields[last]} {line.strip()}".strip()
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            last = name.strip()
            canonical = next((n for n in RELEASE_FIELDS if n.lower() == last.lower()), last)
            fields.setdefault(canonical, value.strip())
            last = canonical
    return Document(fields, body.strip("\n"))


def load(path: Path) -> tuple[Document, str]:
    """The document in a file and the blob hash of the bytes it was read from."""
    data = path.read_bytes()
    return parse(data.decode("utf-8-sig")), blob_hash(data)


def from_form(form: dict[str, str | list[str]], base: Document) -> Document:
    """A document from the editor's fields, keeping any header field the form does not show (nothing is lost)."""
    fields = dict(base.fields)
    for name, form_name in FORM_NAMES.items():
        if name in ("Status", "Modified", "Correction", "Correction-Notify") or form_name not in form:
            continue
        value = form[form_name]
        fields[name] = ", ".join(v.strip() for v in value if v.strip()) if isinstance(value, list) else value.strip()
    if form.get("pinned") or base.get("Pinned"):
        fields["Pinned"] = "yes" if form.get("pinned") == "yes" else "no"
    if fields.get("Type") != "invitation":
        for name in EVENT_FIELDS:
            fields.pop(name, None)
    return Document(fields, str(form.get("body", base.body)))


@dataclass(frozen=True)
class Version:
    """One language version as the board lists it."""

    path: Path
    release_id: str
    lang: str
    title: str
    type: str
    state: str  # draft, scheduled, public or unreadable
    date: datetime | None


def state_of(fields: dict[str, str], tz: ZoneInfo, now: datetime) -> tuple[str, datetime | None]:
    try:
        date = parse_local(fields.get("Date", ""), tz) if fields.get("Date") else None
    except DateError:
        date = None
    if fields.get("Status", "published") == "draft":
        return "draft", date
    if date is None:
        return "unreadable", None
    return ("scheduled" if date > now else "public"), date


def versions(content: Path, tz: ZoneInfo, now: datetime) -> dict[str, dict[str, Version]]:
    """Every release file grouped by release id, then by language: what the board shows."""
    grouped: dict[str, dict[str, Version]] = {}
    for path in sorted((content / "releases").rglob("*.md")):
        header, _ = read_header(path)
        fields = {f.name: f.value for f in header.values()}
        fields = {next((n for n in RELEASE_FIELDS if n.lower() == k.lower()), k): v for k, v in fields.items()}
        release_id = fields.get("Release") or path.name.split(".")[0]
        lang = fields.get("Lang") or (path.suffixes[0].lstrip(".") if len(path.suffixes) > 1 else "")
        state, date = state_of(fields, tz, now)
        grouped.setdefault(release_id, {})[lang] = Version(
            path, release_id, lang, fields.get("Title", path.name), fields.get("Type", ""), state, date
        )
    return dict(sorted(grouped.items(), key=lambda item: _newest(item[1]), reverse=True))


def _newest(langs: dict[str, Version]) -> str:
    return max((v.date.isoformat() if v.date else "9999" for v in langs.values()), default="")


def missing_languages(langs: dict[str, Version], newsroom_langs: tuple[str, ...]) -> list[str]:
    return [lang for lang in newsroom_langs if lang not in langs]
