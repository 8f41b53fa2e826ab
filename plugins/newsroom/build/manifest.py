"""The public build's list of what it published, written into the output for `newsroom notify` and `publish`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from newsroom.core import urls
from newsroom.core.model import Publisher

MANIFEST = "newsroom-manifest.json"


# Written into a preview build, which must never be deployed or announced.
PREVIEW_MARKER = ".newsroom-preview"


def entry(article, site_url: str) -> dict:
    record = article.record
    return {
        "release": record.release_id,
        "lang": record.lang,
        "type": record.type,
        "title": record.title,
        "lead": record.lead,
        "keywords": list(record.keywords),
        "url": f"{site_url}/{article.url}",
        "date": record.date.isoformat(),
        "modified": record.modified.isoformat() if record.modified else None,
        "images": [
            {
                "url": f"{site_url}/{urls.image(image.filename)}",
                "alt": image.alt.get(record.lang, ""),
                "width": image.width,
                "height": image.height,
            }
            for image in record.images
        ],
        "contacts": [
            {
                "name": c.name,
                "title": c.title.get(record.lang, ""),
                "unit": c.unit.get(record.lang, ""),
                "phone": c.phone,
                "email": c.email,
            }
            for c in record.contacts
        ],
    }


def write(
    output: Path, articles: list, built_at: str, site_url: str, fingerprint: str, publisher: Publisher | None = None
) -> None:
    data = {
        "built_at": built_at,
        "fingerprint": fingerprint,
        "site_url": site_url,
        "publisher": _publisher(publisher) if publisher else None,
        "releases": [entry(a, site_url) for a in articles],
    }
    (output / MANIFEST).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def record_build(output: Path, articles: list, clock, settings: dict, publisher: Publisher | None) -> None:
    """What a build leaves beside its pages: the manifest of a public build, or the marker that keeps a preview from
    ever being deployed or announced (`clock` is the build's embargo.Clock)."""
    if clock.preview:
        (output / PREVIEW_MARKER).write_text(
            f"Preview built at {clock.now.isoformat()}; shows drafts and embargoed releases. Never deploy it.\n"
        )
        return
    write(
        output,
        articles,
        clock.now.isoformat(),
        settings["SITEURL"],
        fingerprint(settings, [a.record.source for a in articles]),
        publisher,
    )


def _publisher(publisher: Publisher) -> dict:
    """What an email's footer tells about the sender."""
    return {
        "name": publisher.name,
        "address": publisher.address,
        "phone": publisher.phone,
        "email": publisher.email,
        "website": publisher.website,
        "brand_color": publisher.brand_color,
    }


def read(output: Path) -> dict | None:
    path = output / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def shared_inputs(settings: dict) -> set[Path]:
    """What every page is made from besides the releases: the rest of the content folder, the theme, this package."""
    content = Path(settings["PATH"])
    releases = content / "releases"
    inputs = {p for p in content.rglob("*") if p.is_file() and releases not in p.parents}
    for root in (Path(settings["THEME"]), Path(__file__).parent.parent):
        inputs.update(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return inputs


def fingerprint(settings: dict, public_sources: list[Path]) -> str:
    """A digest of every input a public build reads, so a publish with nothing new can stop early.

    Unpublished release files are left out on purpose: editing an embargoed text changes nothing public.
    """
    inputs = set(public_sources) | shared_inputs(settings)
    digest = hashlib.sha256(
        repr([settings[k] for k in ("SITEURL", "TIMEZONE", "NEWSROOM_LANGUAGES", "NEWSROOM_IMAGE_ORIGINAL")]).encode()
    )
    for path in sorted(inputs):
        digest.update(str(path).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
