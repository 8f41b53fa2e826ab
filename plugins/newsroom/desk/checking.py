"""Checks a release as it is being written with exactly what `newsroom check` runs (content.catalog.load_catalog).

The catalog reads a content folder, so the check runs on a stand-in folder: links to the real cards, images,
attachments and other releases and the text in the editor written in place of the file being edited. The
problems that concern the edited file come back located at its fields.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from newsroom.content.catalog import load_catalog
from newsroom.core.model import Catalog, Problem


def check(content: Path, settings: dict, proposed: dict[Path, str]) -> tuple[list[Problem], Catalog]:
    """Problems of the proposed files (path -> text; the paths are where they will be saved), and the catalog."""
    content = content.resolve()
    wanted = {path.resolve(): text for path, text in proposed.items()}
    with tempfile.TemporaryDirectory(prefix="newsroom-desk-check-") as scratch:
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
        )
        problems = [
            Problem(stand_ins[p.path], p.line, p.field, p.message.replace(scratch, str(content)))
            for p in catalog.problems
            if p.path in stand_ins
        ]
    return problems, catalog


def _mirror(source: Path, target: Path, replaced: set[Path]) -> None:
    """Link every entry of `source` into `target`; folders holding a replaced file are mirrored entry by entry."""
    target.mkdir(exist_ok=True)
    for entry in source.iterdir():
        holds = any(entry == path or entry in path.parents for path in replaced)
        if entry.is_dir() and holds:
            _mirror(entry, target / entry.name, replaced)
        elif not holds:
            (target / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
