"""Puts a finished public build in front of readers: an atomic symlink swap locally, or rsync over SSH."""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from newsroom.build.manifest import PREVIEW_MARKER
from newsroom.build.staging import copy_name, is_copy, link_tree, remove_later

KEEP_RELEASES = 3
PARTIAL = ".partial"
GONE = ".old"  # a copy no longer kept, being removed


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
    """Copy the build into a new folder beside the target, then point the target symlink at it in one rename."""
    return stage(output, target).swap()


@dataclass(frozen=True)
class Staged:
    """A whole copy of a build beside the target, and a link to it waiting to be renamed onto the target.

    Readers see the old site or the new one, never a mixture: the rename of a symlink is atomic. A copy never swapped
    in (a prebuild dropped, a process killed) is removed by `discard`, or by a later deploy once its link is gone.
    """

    target: Path
    folder: Path
    link: Path

    def ready(self) -> bool:
        return self.link.is_symlink() and self.folder.is_dir()

    def swap(self) -> str:
        with _deploy_lock(self.target):
            os.replace(self.link, self.target)
            _tidy(self.target)
        return str(self.target)

    def discard(self) -> None:
        self.link.unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def stage(output: Path, target: Path) -> Staged:
    """Put `output` into a fresh folder beside `target` and link to it, without touching what readers see.

    The folder is hard links to the build's files: a build never writes into a file once it is made (it writes a
    fresh folder, build/staging.py) and deployed copies are never written to, so sharing files is safe and a deploy
    copies nothing (a copy only where the file systems do not allow links).

    The copy is made under a name marked partial and renamed when whole, so a deploy killed mid-copy leaves only a
    partial folder, which the next deploy removes. A build made in the folder of copies (`newsroom publish` builds
    there, build/staging.py) is a whole copy already: it is linked as it is.
    """
    refuse_preview(output)
    target = target.absolute()
    if target.exists() and not target.is_symlink():
        raise DeployError(
            f"{target} is a plain folder; move it away once (the deploy keeps {target} "
            "as a link to the latest copy) and deploy again"
        )
    releases = kept_copies(target)
    releases.mkdir(parents=True, exist_ok=True)
    with _deploy_lock(target):  # one copy at a time, so a partial folder is never one still being copied
        for partial in releases.glob(f"*{PARTIAL}"):
            shutil.rmtree(partial)
        fresh = output.resolve()
        if fresh.parent != releases.resolve():
            fresh = releases / copy_name()
            incoming = fresh.with_name(f"{fresh.name}{PARTIAL}")
            link_tree(output, incoming)
            os.rename(incoming, fresh)
        link = target.parent / f".{target.name}.new-{fresh.name}"
        os.symlink(fresh, link)
    return Staged(target, fresh, link)


@contextmanager
def _deploy_lock(target: Path) -> Iterator[None]:
    with (target.parent / f".{target.name}.deploy-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _tidy(target: Path) -> None:
    """Keep the live copy, copies still waiting to be swapped in or pinned by a build (staging._relink), and the
    newest other whole ones up to KEEP_RELEASES.

    The others are renamed out of the way and removed in a thread (staging.remove_later), so the mail and the next
    build do not wait for thousands of unlinks; one a killed process left half removed goes with the next deploy's."""
    waiting = {p.resolve() for p in target.parent.glob(f".{target.name}.new-*") if p.is_symlink()}
    copies = kept_copies(target)
    pinned = {p.resolve() for p in copies.iterdir() if p.is_symlink()}  # the copy the next build keeps files from
    keep = {target.resolve(), *waiting, *pinned}
    whole = sorted(
        p
        for p in copies.iterdir()
        if is_copy(p.name) and p.resolve() not in keep and not p.name.endswith((PARTIAL, GONE))
    )
    for old in whole[: -KEEP_RELEASES or None]:
        os.rename(old, old.with_name(f"{old.name}{GONE}"))
    for gone in copies.glob(f"*{GONE}"):
        remove_later(gone)


def drop_waiting(target: Path) -> None:
    """Remove the links to copies nobody will swap in (left by a process that was stopped); `_tidy` removes them."""
    target = target.absolute()
    for link in target.parent.glob(f".{target.name}.new-*"):
        if link.is_symlink():
            link.unlink()


def _rsync(output: Path, target: str) -> str:
    """rsync://user@host[:port]/path: the same swap as a local deploy, on the server over SSH.

    The build is copied with rsync into a partial folder beside the target (files unchanged since the live copy
    are hard links to it, so only changes travel), renamed when whole, and the target symlink is swapped to it
    in one rename; a deploy killed at any point leaves the live site as it was. NEWSROOM_DEPLOY_SSH is the ssh
    command to use (default `ssh`), for a deploy key or known-hosts file of its own.
    """
    parsed = urlparse(target)
    path = parsed.path.rstrip("/")
    if not parsed.hostname or not path:
        raise DeployError(f"'{target}' should look like rsync://user@host/var/www/newsroom")
    host = f"{parsed.username + '@' if parsed.username else ''}{parsed.hostname}"
    ssh = shlex.split(os.environ.get("NEWSROOM_DEPLOY_SSH") or "ssh") + (
        ["-p", str(parsed.port)] if parsed.port else []
    )
    parent, name = path.rpartition("/")[0] or "/", path.rpartition("/")[2]
    releases = f"{parent}/.{name}.releases"
    stamp = copy_name()
    fresh, incoming = f"{releases}/{stamp}", f"{releases}/{stamp}{PARTIAL}"
    q = shlex.quote
    _remote(
        ssh,
        host,
        f"if [ -e {q(path)} ] && [ ! -L {q(path)} ]; then echo {q(path)} is a plain folder: move it away once, the "
        f"deploy keeps it as a link to the latest copy >&2; exit 3; fi; mkdir -p {q(releases)} && "
        f"rm -rf {q(releases)}/*{PARTIAL}",
    )
    command = ["rsync", "-a", "--delete", "-e", shlex.join(ssh), f"--link-dest={path}/", f"{output}/"]
    result = subprocess.run([*command, f"{host}:{incoming}/"], capture_output=True, text=True)
    if result.returncode not in (0, 24):  # 24: a source file vanished, as a rebuilt cache may
        raise DeployError(f"rsync to {host}:{incoming} failed: {result.stderr.strip() or result.returncode}")
    keep = KEEP_RELEASES + 1
    _remote(
        ssh,
        host,
        f"mv {q(incoming)} {q(fresh)} && ln -sfn {q(fresh)} {q(path + '.new')} && mv -T {q(path + '.new')} {q(path)} "
        f"&& cd {q(releases)} && ls -1 | grep -v {q(PARTIAL + '$')} | sort | head -n -{keep} | xargs -r rm -rf --",
    )
    return f"{host}:{path}"


def _remote(ssh: list[str], host: str, script: str) -> None:
    result = subprocess.run([*ssh, host, script], capture_output=True, text=True)
    if result.returncode != 0:
        raise DeployError(f"deploy over ssh to {host} failed: {result.stderr.strip() or result.returncode}")
