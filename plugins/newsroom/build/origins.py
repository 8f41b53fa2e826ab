"""The second half of the audit: every file of a public build must be one the build makes, or a copy of a file that
public content names. A file copied from anywhere else (a database, a key, a draft's attachment) fails the build,
and so does any SQLite database, whatever it is called: its first bytes tell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from newsroom.build import staging
from newsroom.core import urls
from newsroom.core.embargo import is_public, public_contacts
from newsroom.core.model import Catalog

SQLITE_HEADER = b"SQLite format 3\x00"
# What the build writes itself: pages, feeds, cards, calendars, sitemaps, the API, the picture ZIPs.
GENERATED = {".html", ".xml", ".json", ".vcf", ".ics", ".txt", ".webmanifest", ".zip"}
PICTURES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif"}


@dataclass(frozen=True)
class Stray:
    """A file in the output that no public content put there."""

    file: Path
    why: str

    def __str__(self) -> str:
        return f"{self.file}: {self.why}; nothing in the public content puts it there, so it must not be published"


def _sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def strays(
    output: Path, settings: dict, catalog: Catalog, now: datetime, listing: list[Path] | None = None
) -> list[Stray]:
    """Every file of `output` no public content puts there; `listing`: its files (staging.files), if the caller has
    them."""
    public = [r for r in catalog.releases if is_public(r, now)]
    attachments = {urls.attachment(a.name) for r in public for a in r.attachments}
    images = [i for r in public for i in r.images] + [c.photo for c in public_contacts(catalog, now) if c.photo]
    originals = {urls.image(i.filename) for i in images}
    image_ids = {i.id for i in images}
    public_videos = {v.id: v for r in public for v in r.videos}
    video_files = {urls.video(v.filename) for v in public_videos.values()}
    publisher = catalog.publisher
    brand = set()  # the logo, the raster logo, the icon and /favicon.ico made from it, the share image
    if publisher:
        brand = {p.name for p in (publisher.logo, publisher.logo_raster, publisher.icon, publisher.share_image) if p}
        brand |= {urls.FAVICON} if publisher.icon else set()
    theme = Path(settings["THEME"]) / "static"
    theme_dir = settings.get("THEME_STATIC_DIR", "theme")
    search = urls.SEARCH_BUNDLE.rstrip("/")
    found = []
    for path in staging.files(output) if listing is None else listing:
        relative = path.relative_to(output)
        name, top, suffix = relative.as_posix(), relative.parts[0], path.suffix.lower()
        if _sqlite(path):
            found.append(Stray(path, "is an SQLite database (perhaps the subscriber list)"))
        elif top == theme_dir and len(relative.parts) > 1:
            if not (theme / Path(*relative.parts[1:])).is_file():
                found.append(Stray(path, f"is not a file of the theme's {theme}"))
        elif top == search or top.startswith(f"{search}-"):
            continue  # the search index Pagefind writes from the public pages
        elif top == "attachments":
            if name not in attachments:
                found.append(Stray(path, "is not an attachment of any public release"))
        elif top == "images":
            if suffix not in PICTURES | {".zip"}:
                found.append(Stray(path, "is not a picture"))
            elif len(relative.parts) == 2 and name not in originals:
                found.append(Stray(path, "is not a picture of any public release or contact"))
            elif len(relative.parts) > 2 and relative.parts[1] not in image_ids:
                found.append(Stray(path, "is not made from a picture of any public release or contact"))
        elif top == "videos":
            if len(relative.parts) == 2 and name not in video_files:
                found.append(Stray(path, "is not a video of any public release"))
            elif len(relative.parts) > 2 and relative.parts[1] not in public_videos:
                found.append(Stray(path, "is not the poster or captions of a video of any public release"))
        elif len(relative.parts) == 1 and name in brand:
            continue
        elif suffix not in GENERATED:
            found.append(Stray(path, "is not a kind of file the build writes (pages, feeds, cards, calendars)"))
    return found
