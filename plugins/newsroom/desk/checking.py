"""Checks a release as it is being written with exactly what `newsroom check` runs (content.catalog.load_catalog).

The catalog reads a content folder, so the check runs on a stand-in folder: hard links to the real cards, images,
attachments and other releases (copies where the state folder is on another file system; not symlinks, which the
catalog rightly refuses as files from outside the content folder) and the text in the editor written in place of
the file being edited. The problems that concern the edited file come back located at its fields.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from newsroom.content.catalog import load_catalog
from newsroom.core.model import Catalog, Problem


def check(content: Path, settings: dict, proposed: dict[Path, str]) -> tuple[list[Problem], Catalog]:
    """Problems of the proposed files (path -> text; the paths are where they will be saved), and the catalog."""
    content = content.resolve()
    wanted = {path.resolve(): text for path, text in proposed.items()}
    state = Path(settings["NEWSROOM_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="desk-check-", dir=state) as scratch:
        root = Path(scratch)
        _mirror(content, root, set(wanted))
        stand_ins: dict[Path, Path] = {}
        for path, text in wanted.items():
            target = root / path.relative_to(content)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            stand_ins[target] = path
        catalog = load_catalog(
            root,
            ZoneInfo(settings["TIMEZONE"]),
            tuple(settings["NEWSROOM_LANGUAGES"]),
            settings["SLUG_REGEX_SUBSTITUTIONS"],
            settings["NEWSROOM_ATTACHMENT_MAX_MB"],
        )
        problems = [
            Problem(stand_ins[p.path], p.line, p.field, p.message.replace(scratch, str(content)))
            for p in catalog.problems
            if p.path in stand_ins
        ]
    return problems, catalog


def _mirror(source: Path, target: Path, replaced: set[Path]) -> None:
    """Hard-link every file of `source` into `target` (folders made anew), leaving out the replaced files.

    A symlink in the content folder is mirrored as the same link, so the catalog judges it as it would the original.
    Mirroring is a small part of a check (sample content: 12 ms of about 200 ms; the catalog's YAML parsing is most
    of the rest); the videos' ffprobe results are kept between checks (media.videos.probe)."""
    target.mkdir(exist_ok=True)
    for entry in source.iterdir():
        made = target / entry.name
        if entry in replaced or entry.name == ".git":
            continue  # git's own files are never content (a content folder may be the repository itself)
        if entry.is_symlink():
            made.symlink_to(os.readlink(entry))
        elif entry.is_dir():
            _mirror(entry, made, replaced)
        else:
            try:
                os.link(entry, made)
            except OSError:
                shutil.copy2(entry, made)
