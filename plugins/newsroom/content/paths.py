"""The one rule for every file that content or settings name: it lies inside the content folder, symlinks resolved.

A build publishes what it is pointed at; a logo of '../var/newsroom.sqlite3' or a picture symlinked from elsewhere
would put any file the publishing user can read on the public site. Every path goes through `inside`.
"""

from __future__ import annotations

import os
from pathlib import Path


def inside(root: Path, name: str | Path, base: Path | None = None) -> Path | None:
    """The file `name` names (relative to `base`, by default the content folder), fully resolved; None when it, or
    what a symlink on the way points at, lies outside the content folder `root`."""
    top = os.path.realpath(root)  # strings, not pathlib: a build asks this of every file of the content folder
    path = os.path.realpath(os.path.join(base or top, name))
    return Path(path) if path == top or path.startswith(os.path.join(top, "")) else None


def outside_message(name: str | Path, root: Path) -> str:
    return (
        f"'{name}' lies outside the content folder {Path(root).resolve()} (or is a link to a file outside it); only "
        "files inside the content folder are published: copy the file into it and name that copy"
    )
