"""Puts a finished public build in front of readers: an atomic symlink swap locally, or rsync over SSH."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from newsroom.build.manifest import PREVIEW_MARKER

KEEP_RELEASES = 3
PARTIAL = ".partial"


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


def kept_copies(target: Path) -> Path:
    """The folder beside a deploy target that holds the copies it points at."""
    target = target.absolute()
    return target.parent / f".{target.name}.releases"


def _swap(output: Path, target: Path) -> str:
    """Copy the build into a new folder beside the target, then point the target symlink at it in one rename.

    Readers see the old site or the new one, never a mixture: the rename of a symlink is atomic. The copy is
    made under a name marked partial and renamed when whole, so a deploy killed mid-copy leaves only a partial
    folder, which the next deploy removes; only whole copies count among the KEEP_RELEASES kept to go back to.
    """
    target = target.absolute()
    if target.exists() and not target.is_symlink():
        raise DeployError(
            f"{target} is a plain folder; move it away once (the deploy keeps {target} "
            "as a link to the latest copy) and deploy again"
        )
    releases = kept_copies(target)
    releases.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.deploy-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one deploy at a time, so a partial folder is never one still being copied
        for partial in releases.glob(f"*{PARTIAL}"):
            shutil.rmtree(partial)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        fresh = releases / stamp
        incoming = releases / f"{stamp}{PARTIAL}"
        shutil.copytree(output, incoming, symlinks=False)
        os.rename(incoming, fresh)
        link = target.parent / f".{target.name}.new"
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(fresh, link)
        os.replace(link, target)
        whole = sorted(p for p in releases.iterdir() if p != fresh and not p.name.endswith(PARTIAL))
        for old in whole[: -KEEP_RELEASES or None]:
            shutil.rmtree(old)
    return str(target)


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
