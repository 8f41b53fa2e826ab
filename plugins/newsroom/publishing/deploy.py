"""Puts a finished public build in front of readers: an atomic symlink swap locally, or rsync over SSH."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from newsroom.build.manifest import PREVIEW_MARKER

KEEP_RELEASES = 3


class DeployError(Exception):
    """The site could not be deployed; the message says why and what to do."""


def refuse_preview(output: Path) -> None:
    if (output / PREVIEW_MARKER).exists():
        raise DeployError(
            f"{output} is a preview build (it shows drafts and embargoed releases); "
            "build the public site with 'newsroom publish' or 'newsroom build --publish'"
        )
    if not output.is_dir() or not any(output.iterdir()):
        raise DeployError(f"{output} is empty or missing; build the site first")


def deploy(output: Path, target: str) -> str:
    """Deploy `output` to `target` (a folder path, or rsync://host/path); returns where it went."""
    refuse_preview(output)
    if target.startswith("rsync://"):
        return _rsync(output, target)
    return _swap(output, Path(target))


def _swap(output: Path, target: Path) -> str:
    """Copy the build into a new folder beside the target, then point the target symlink at it in one rename."""
    return stage(output, target).swap()


@dataclass(frozen=True)
class Staged:
    """A whole copy of a build beside the target, and a link to it waiting to be renamed onto the target.

    Readers see the old site or the new one, never a mixture: the rename of a symlink is atomic. A copy that was
    never swapped in (a process killed, a prebuild dropped) is removed by `discard` or by the next deploy.
    """

    target: Path
    folder: Path
    link: Path

    def ready(self) -> bool:
        return self.link.is_symlink() and (self.folder / READY).is_file()

    def swap(self) -> str:
        os.replace(self.link, self.target)
        _tidy(self.target)
        return str(self.target)

    def discard(self) -> None:
        self.link.unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)


READY = ".newsroom-copied"  # written last into a staged copy: a copy without it was cut short


def stage(output: Path, target: Path) -> Staged:
    """Copy `output` into a fresh folder beside `target` and link to it, without touching what readers see."""
    refuse_preview(output)
    target = target.absolute()
    if target.exists() and not target.is_symlink():
        raise DeployError(
            f"{target} is a plain folder; move it away once (the deploy keeps {target} "
            "as a link to the latest copy) and deploy again"
        )
    releases = _releases(target)
    releases.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    fresh = releases / stamp
    shutil.copytree(output, fresh, symlinks=False, copy_function=_sharer(output, target))
    (fresh / READY).touch()
    link = target.parent / f".{target.name}.new-{stamp}"
    os.symlink(fresh, link)
    return Staged(target, fresh, link)


def _sharer(output: Path, target: Path):
    """copy2, except that a file the live copy already holds unchanged is hard-linked from it.

    Deployed copies are never written to again (builds write into their own folder), so sharing a file between two of
    them is safe; "unchanged" is the same size and modification time, which copy2 carries over from the build.
    """
    live = target.resolve() if target.is_symlink() else None

    def copy(source: str, destination: str) -> str:
        if live is not None:
            previous = live / Path(source).relative_to(output)
            try:
                mine, theirs = os.stat(source), os.stat(previous)
                if (mine.st_size, mine.st_mtime_ns) == (theirs.st_size, theirs.st_mtime_ns):
                    os.link(previous, destination)
                    return destination
            except OSError:
                pass
        return shutil.copy2(source, destination)

    return copy


def _releases(target: Path) -> Path:
    return target.parent / f".{target.name}.releases"


def _tidy(target: Path) -> None:
    """Keep the live copy, copies still waiting to be swapped in, and the newest others up to KEEP_RELEASES."""
    releases = _releases(target)
    waiting = {p.resolve() for p in target.parent.glob(f".{target.name}.new-*") if p.is_symlink()}
    keep = {target.resolve(), *waiting}
    others = sorted(p for p in releases.iterdir() if p.resolve() not in keep)
    for old in others[: -KEEP_RELEASES or None]:
        shutil.rmtree(old, ignore_errors=True)


def drop_waiting(target: Path) -> None:
    """Remove the links to copies nobody will swap in (left by a process that was stopped); `_tidy` removes them."""
    target = target.absolute()
    for link in target.parent.glob(f".{target.name}.new-*"):
        if link.is_symlink():
            link.unlink()


def _rsync(output: Path, target: str) -> str:
    """rsync://host/path -> rsync over SSH; files are swapped in at the end (--delay-updates)."""
    parsed = urlparse(target)
    if not parsed.hostname or not parsed.path:
        raise DeployError(f"'{target}' should look like rsync://user@host/var/www/newsroom")
    remote = f"{parsed.username + '@' if parsed.username else ''}{parsed.hostname}:{parsed.path}"
    ssh = ["ssh", "-p", str(parsed.port)] if parsed.port else ["ssh"]
    command = ["rsync", "-a", "--delete-after", "--delay-updates", "-e", " ".join(ssh), f"{output}/", remote]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DeployError(f"rsync to {remote} failed: {result.stderr.strip() or result.returncode}")
    return remote
