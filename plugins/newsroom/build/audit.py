"""Scans a built public site for any trace of releases that are not public yet, compressed files included."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from newsroom.build import staging
from newsroom.core import records, urls, workers
from newsroom.core.model import Contact, Release

# Pictures carry no release text (derivatives are stripped, downloads carry only the credit): their
# names are checked, their pixels are not read. A ZIP is read member by member, by the same rule.
PICTURES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif"}

_PLAIN_RUN = re.compile(r"(?:[^\W\d_][\w’'-]*\s){5,}[^\W\d_][\w’'-]*", re.UNICODE)


@dataclass(frozen=True)
class Leak:
    file: Path
    release: Release | None
    found: str

    def __str__(self) -> str:
        if self.release is None:
            return f"{self.file}: is image '{self.found}', which only unpublished releases use"
        return f"{self.file}: contains '{self.found}' from {self.release.source} ({self.release.lang}, not public yet)"


def body_samples(release: Release, count: int = 3) -> list[str]:
    """Six plain words from each of the first paragraphs: rendered pages keep them verbatim, whatever the markup."""
    text = release.source.read_text(encoding="utf-8-sig")
    body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
    samples = []
    for paragraph in body.split("\n\n"):
        if paragraph.lstrip().startswith(("#", ">", "|", "<", "    ")):
            continue
        match = _PLAIN_RUN.search(" ".join(paragraph.split()) + " ")
        if match:
            samples.append(" ".join(match.group(0).split()[:6]))
        if len(samples) == count:
            break
    return samples


def secrets(release: Release, address: str) -> list[str]:
    """What would give an unpublished version away: its address, its title, samples of its text."""
    return [f"/{address}", release.title, *body_samples(release)]


def _forms(secret: str) -> set[str]:
    """A secret as it may appear in HTML, XML and JSON output."""
    return {
        secret,
        html.escape(secret, quote=False),
        html.escape(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


def _texts(path: Path):
    """The text a file could give a secret away in: zip members one by one, compressed data unpacked."""
    if path.suffix.lower() in PICTURES:
        return
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                yield member.filename
                if Path(member.filename).suffix.lower() not in PICTURES:
                    yield _decoded(archive.read(member))
        return
    yield _decoded(path.read_bytes())


def _decoded(data: bytes) -> str:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            pass
    elif data[:1] == b"\x78":
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass
    return data.decode("utf-8", errors="ignore")


def audit(
    output: Path,
    settings: dict,
    hidden: list[Release],
    hidden_images: set[str] = frozenset(),
    record: Path | None = None,
    hidden_contacts: list[tuple[Contact, Release]] = (),
    listing: list[Path] | None = None,
) -> list[Leak]:
    """Every place in `output` where a hidden release or an image only it uses shows; empty means safe to deploy.

    With `record` (a build's), a file an earlier audit found clean of the same secrets, and unchanged since (size and
    modification time), is not read again: a rebuild rewrites only the pages that changed. `listing`: the files of
    `output` (staging.files), if the caller has them.
    """
    owner: dict[str, tuple[Release, str]] = {}
    for release in hidden:
        for secret in secrets(release, urls.release_page(settings, release)):
            for form in _forms(secret):
                owner.setdefault(form.casefold(), (release, secret))
    for contact, release in hidden_contacts:
        # A card only unpublished releases name: its address (in every card, vCard and calendar) and its vCard.
        for secret in (contact.email, f"/contacts/{contact.id}.vcf"):
            for form in _forms(secret):
                owner.setdefault(form.casefold(), (release, secret))
    # Every form in one pass over a file, however many there are: a regular expression of them all took seconds on
    # a site's JSON and feeds with fifty releases waiting for their embargo.
    automaton = ahocorasick.Automaton()
    for form, found_in in owner.items():
        automaton.add_word(form, found_in)
    automaton.make_automaton()

    def scan(path: Path) -> list[Leak]:
        named = hidden_images & {path.stem, *path.relative_to(output).parts[:-1]}
        leaks = [Leak(path, None, image_id) for image_id in sorted(named)]
        card = path.stem if path.suffix == ".vcf" else None
        leaks += [Leak(path, r, f"/contacts/{c.id}.vcf") for c, r in hidden_contacts if c.id == card]
        if owner:
            found = {}
            for text in _texts(path):
                for _end, (release, secret) in automaton.iter(text.casefold()):
                    found[(release.source, secret)] = Leak(path, release, secret)
            leaks += found.values()
        return leaks

    start = len(str(output)) + 1
    stats = {
        path: (str(path)[start:], records.stamp(path))
        for path in (staging.files(output) if listing is None else listing)
    }
    checked_for = hashlib.sha256(repr((str(output), sorted(owner), sorted(hidden_images))).encode()).hexdigest()
    known = records.read(record) if record else {}
    clean = known.get("clean", {}) if known.get("checked_for") == checked_for else {}
    files = [path for path, (name, stat) in stats.items() if clean.get(name) != stat]
    count = workers.processes(settings.get("NEWSROOM_PROCESSES", 0), len(files))
    leaks = [leak for found in workers.map_shares(scan, files, count) for leak in found]
    if record is not None:
        leaked = {leak.file for leak in leaks}
        records.write(
            record,
            {
                "checked_for": checked_for,
                "clean": {name: stat for path, (name, stat) in stats.items() if path not in leaked},
            },
        )
    return leaks
