"""The files public pages link to as they are: their releases' attachments and the publisher's logo (images, which
are derived, are the media bank's)."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsroom.core import urls
from newsroom.core.model import Publisher


def copy_assets(out: Path, articles, publisher: Publisher | None) -> None:
    """Copy the attachments of `articles` and the logo into the output; files already there unchanged stay."""
    wanted: dict[Path, Path] = {}
    for article in articles:
        for attachment in article.record.attachments:
            wanted[out / urls.attachment(attachment.name)] = attachment.path
    logo = publisher.logo if publisher else None
    if logo:
        wanted[out / logo.name] = logo
    for target, source in wanted.items():
        _copy_if_changed(source, target)


def _copy_if_changed(source: Path, target: Path) -> None:
    stat = source.stat()
    if target.exists():
        existing = target.stat()
        if existing.st_size == stat.st_size and existing.st_mtime_ns == stat.st_mtime_ns:
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
