"""The public build's list of what it published, written into the output for `newsroom notify` and `publish`."""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib import metadata
from pathlib import Path

from newsroom.build.staging import COPIES
from newsroom.core import records, urls
from newsroom.core.model import Publisher

MANIFEST = "newsroom-manifest.json"


# Written into a preview build, which must never be deployed or announced.
PREVIEW_MARKER = ".newsroom-preview"


def entry(article, site_url: str) -> dict:
    record = article.record
    return {
        "release": record.release_id,
        "lang": record.lang,
        # The file it was built from, relative to the content folder: a later change of id is told from it.
        "source": Path(article.relative_source_path).as_posix(),
        "type": record.type,
        "title": record.title,
        "lead": record.lead,
        "keywords": list(record.keywords),
        "url": f"{site_url}/{article.url}",
        "date": record.date.isoformat(),
        "modified": record.modified.isoformat() if record.modified else None,
        # A correction subscribers are to be told of (mail/outbox.py sends it once, to those who got the release).
        "correction": record.correction,
        "correction_notify": record.correction_notify,
        "images": [
            {
                "url": f"{site_url}/{urls.image(image.filename)}",
                "alt": image.alt.get(record.lang, ""),
                "width": image.width,
                "height": image.height,
                **(
                    {"email": _file(article.email_image, site_url)}
                    if position == 0 and hasattr(article, "email_image")
                    else {}
                ),
            }
            for position, image in enumerate(record.images)
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


def _file(file, site_url: str) -> dict:
    return {"url": f"{site_url}/{file.url}", "width": file.width, "height": file.height}


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
    (output / MANIFEST).write_text(records.one_a_line(data, "releases"), encoding="utf-8")


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
        "name_forms": publisher.name_forms,
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
    inputs = _files_under(Path(settings["PATH"]), skip_top="releases")
    for root in (Path(settings["THEME"]), Path(__file__).parent.parent):
        inputs |= _files_under(root, skip="__pycache__")
    return inputs


def _files_under(root: Path, skip: str = "", skip_top: str = "") -> set[Path]:
    """The files under `root`, not looking into folders named `skip` nor into `root`'s own `skip_top`: a walk that
    leaves the release folder out costs a few hundred stats where looking at each of its thousands of files and
    throwing it away took a tenth of a second, four times a publish."""
    found = set()
    for folder, folders, names in os.walk(root):
        folders[:] = [name for name in folders if name != skip and not (folder == str(root) and name == skip_top)]
        found.update(path for path in (Path(folder, name) for name in names) if path.is_file())
    return found


# Settings that never reach the output: where things are kept and sent, the clock, secrets, worker counts. Every
# other setting is part of the fingerprint, so a changed address, theme or settings file is a change to publish.
NOT_OUTPUT = frozenset(
    {
        "OUTPUT_PATH",
        "CACHE_PATH",
        "DELETE_OUTPUT_DIRECTORY",
        "NEWSROOM_NOW",
        "NEWSROOM_CATALOG",
        "NEWSROOM_DEFER_MORE",  # pagecache.DEFER_MORE: how a build is made, not what it reads
        COPIES,  # where a build is made
        "NEWSROOM_DEPLOY",
        "NEWSROOM_STATE_DIR",
        "NEWSROOM_DB",
        "NEWSROOM_IMAGE_CACHE",
        "NEWSROOM_PROCESSES",
        "NEWSROOM_SMTP_URL",
        "NEWSROOM_SMTP_RATE",
        "NEWSROOM_MAIL_FROM",
        "NEWSROOM_PUBLISH_WEBHOOK",
        "NEWSROOM_SUBSCRIBE_LIMITS",
    }
)


def _stable(value: object) -> object:
    """A setting's value as text that is the same in every process (no memory addresses)."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return repr(value)


def _markdown(config: dict) -> dict:
    """MARKDOWN as Pelican's reader uses it: it adds every configured extension and `meta` to `extensions` in
    place, so a settings dict read before a build and the same dict after one say the same thing."""
    extensions = list(config.get("extensions", []))
    extensions += [name for name in config.get("extension_configs", {}) if name not in extensions]
    extensions += [] if "markdown.extensions.meta" in extensions else ["markdown.extensions.meta"]
    return {**config, "extensions": extensions}


def _software() -> list[str]:
    """The installed versions of the packages the newsroom renders with (Pelican, Markdown, Jinja ...)."""
    try:
        wanted = metadata.requires("newsroom") or []
    except metadata.PackageNotFoundError:
        return []
    names = sorted({re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0] for requirement in wanted})
    versions = []
    for name in names:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    return versions


def fingerprint(settings: dict, public_sources: list[Path]) -> str:
    """A digest of every input a public build reads, so a publish with nothing new can stop early: the public
    release files, the rest of the content folder, the theme, this package's code, the software versions and
    every setting that reaches the output (however it was set: settings file or environment).

    Unpublished release files are left out on purpose: editing an embargoed text changes nothing public.
    """
    inputs = set(public_sources) | shared_inputs(settings)
    chosen = {key: value for key, value in settings.items() if key.isupper() and key not in NOT_OUTPUT}
    if isinstance(chosen.get("MARKDOWN"), dict):
        chosen["MARKDOWN"] = _markdown(chosen["MARKDOWN"])
    digest = hashlib.sha256(json.dumps(chosen, sort_keys=True, default=_stable).encode())
    digest.update(json.dumps(_software()).encode())
    for path in sorted(inputs):
        digest.update(str(path).encode())
        digest.update(records.digest(path))
    return digest.hexdigest()
