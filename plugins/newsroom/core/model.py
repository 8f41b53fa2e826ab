"""The newsroom's content model: frozen records built once per build from the content folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

TYPES = ("press-release", "news", "invitation", "blog", "article")
STATUSES = ("published", "draft")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the content, located so a writer can go straight to it."""

    path: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass(frozen=True)
class Contact:
    id: str
    name: str
    title: dict[str, str]
    phone: str
    email: str
    unit: dict[str, str] = field(default_factory=dict)
    photo: ImageAsset | None = None
    revised: datetime | None = None  # when its card was last changed (the file's time): a vCard's REV


@dataclass(frozen=True)
class ImageAsset:
    id: str
    path: Path
    width: int
    height: int
    size: int
    alt: dict[str, str]
    caption: dict[str, str]
    photographer: str
    licence: str

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class VideoAsset:
    """A video file with its sidecar: WebVTT captions in every language are required (WCAG 2.1 AA, 1.2.2)."""

    id: str
    path: Path
    size: int
    width: int
    height: int
    duration: float
    mime: str
    title: dict[str, str]
    alt: dict[str, str]
    caption: dict[str, str]
    credit: str
    licence: str
    captions: dict[str, Path]  # language -> .vtt file
    poster: Path | None = None  # a picture the sidecar names; else the media bank takes a frame with ffmpeg

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Attachment:
    """A file in content/attachments/ with its sidecar: a title per language, and its type read from its bytes."""

    name: str  # as releases name it: the path under content/attachments/
    path: Path
    size: int
    title: dict[str, str] = field(default_factory=dict)
    kind: str = ""  # what readers see beside the link: "PDF", "XLSX" (media.attachments)
    mime: str = ""


@dataclass(frozen=True)
class Event:
    start: datetime
    end: datetime | None
    location: str  # the place, by name
    address: str = ""  # its street address, postal code and town: "Rantakatu 4, 00990 Kaislaranta"

    @property
    def place(self) -> str:
        """Where, in one line: the place and its address."""
        return ", ".join(part for part in (self.location, self.address) if part)


@dataclass(frozen=True)
class Publisher:
    name: dict[str, str]
    address: str
    phone: str
    email: str
    website: str
    about: dict[str, str]
    media_use: dict[str, str]
    logo: Path | None
    brand_color: str
    social: tuple[tuple[str, str], ...]
    # Raster files for where an SVG will not do: a wide logo (RSS <image>, Atom <logo>, schema.org), a square
    # icon (Atom <icon>, favicon.ico, touch icon) and the picture link previews show for pages without one.
    logo_raster: Path | None = None
    icon: Path | None = None
    share_image: Path | None = None
    # The name as sentences need it (content/catalog.py NAME_CASES): {"fi": {"genitive": "Kaislarannan kaupungin"}}.
    name_forms: dict[str, dict[str, str]] = field(default_factory=dict)
    # The media desk's own number, first on the contacts page; the switchboard (phone) when none is given.
    media_phone: str = ""


@dataclass(frozen=True)
class Release:
    """One language version of a release, with every reference resolved."""

    source: Path
    release_id: str
    lang: str
    type: str
    title: str
    slug: str
    date: datetime
    modified: datetime | None
    lead: str
    keywords: tuple[str, ...]
    contacts: tuple[Contact, ...]
    images: tuple[ImageAsset, ...]
    attachments: tuple[Attachment, ...]
    status: str
    pinned: bool
    event: Event | None
    # The author's word that this file is another release than the one it was last published as (New-Release: yes).
    new_release: bool = False
    # The line of each header field, for problems found after loading.
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # The media lists it is sent to (mail/distribution.py), and when they get it under embargo, if before Date.
    distribution: tuple[str, ...] = ()
    advance: datetime | None = None
    videos: tuple[VideoAsset, ...] = ()
    # A correction of a public release: the note readers see beside its time (Modified), and whether the editor
    # asked for subscribers to be told (mail/outbox.py then sends it once, to those who got the release).
    correction: str = ""
    correction_notify: bool = False

    @property
    def lead_image(self) -> ImageAsset | None:
        return self.images[0] if self.images else None

    @cached_property
    def as_text(self) -> str:
        """Every field as text (its repr), made once: the page cache, the search shards and the calendars key on it,
        and a resident publisher keeps an unchanged release from one build to the next."""
        return repr(self)

    @property
    def last_modified(self) -> datetime:
        """When the release last changed: its correction time, else its publication time (a Modified before the
        Date is no change readers could have seen)."""
        return self.modified if self.modified and self.modified > self.date else self.date


@dataclass(frozen=True)
class Catalog:
    """Everything in a content folder, and what is wrong with it."""

    root: Path
    publisher: Publisher | None
    contacts: dict[str, Contact]
    images: dict[str, ImageAsset]
    releases: tuple[Release, ...]
    problems: tuple[Problem, ...]
    videos: dict[str, VideoAsset] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)  # by name, the usable ones

    def release_at(self, source: Path | str) -> Release | None:
        """The release read from `source`; a path already resolved (as Pelican's are) is looked up as it is."""
        path = Path(source)
        found = self._by_source.get(path)
        return found if found is not None else self._by_source.get(path.resolve())

    def version(self, release_id: str, lang: str) -> Release | None:
        return self._by_version.get((release_id, lang))

    @cached_property
    def _by_version(self) -> dict[tuple[str, str], Release]:
        return {(r.release_id, r.lang): r for r in self.releases}

    @cached_property
    def _by_source(self) -> dict[Path, Release]:
        return {Path(os.path.realpath(r.source)): r for r in self.releases}  # strings: pathlib's resolve is slower
