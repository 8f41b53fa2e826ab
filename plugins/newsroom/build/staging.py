"""A build is written into a fresh folder beside its output and moved into place only when it is whole: a build that
fails for any reason (a content problem found late, a crash, the audit) leaves the output as it was.

The folder starts empty. What the build keeps from the last one (a page whose inputs are unchanged, a search shard,
a file it would write byte for byte as it is) is hard-linked from the last output (`keep`), so it costs one link and
keeps its size and modification time, by which the page cache, the search shards and the audit know it. Everything
else is written as a new file: no file of a finished build is ever written to again, so a deployed copy may share
its files with the build (deploy links them) and a kept page cannot carry anything the build did not mean to keep.
A build given a folder of copies (the deploy's, `COPIES`) is made there and becomes a copy itself.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

_BUILDING = ".building"
COPIES = "NEWSROOM_BUILD_COPIES"  # a build setting (not in pelicanconf.py): the folder of copies to build into (staged)


def work_folder(output: Path, copies: Path | None = None) -> Path:
    """Always the same folder for one output: the build's records (kept pages, search shards) name its files."""
    output = output.absolute()
    return (copies or output.parent) / f".{output.name}{_BUILDING}"


def last_output(work: Path) -> Path:
    """The output a work folder replaces when the build is whole (the folder files are kept from)."""
    return _last.get(work) or work.with_name(work.name.removeprefix(".").removesuffix(_BUILDING))


def copy_name() -> str:
    """The name of a new copy in a folder of copies (the deploy's): the moment it was made, so names sort by age."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def is_copy(name: str) -> bool:
    """Whether an entry of a folder of copies is a finished copy (not a build or a search index under way)."""
    return not name.startswith(".")


@contextmanager
def staged(output: Path, seed: bool = True, copies: Path | None = None) -> Iterator[Path]:
    """The folder to build into, empty; on a clean exit it replaces `output` (a symlinked output: the folder it points
    at), on an error it is removed and `output` is untouched. `seed` False keeps nothing of the last output.

    With `copies` (the deploy's folder of kept copies) the build is made there and becomes a copy of its own, and
    `output` is a link moved onto it in one rename: the copy the link pointed at stays as it was (it is what readers
    see until the deploy swaps), and the deploy puts the new one in front of readers without copying a file."""
    last = output.resolve() if output.is_symlink() else output.absolute()
    work = work_folder(output if copies else last, copies)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _made.clear()
    _last[work] = last
    if not seed:
        _cold.add(work)
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        _cold.discard(work)
        _last.pop(work, None)
    if copies:
        _relink(work, output.absolute())
    else:
        _swap(work, last)


_cold: set[Path] = set()  # work folders of builds from nothing, under way: they keep nothing
_last: dict[Path, Path] = {}  # work folders of builds under way: the output each keeps files from
_made: set[str] = set()  # folders made in the work folder of the build under way


def keeps(work: Path) -> bool:
    """Whether a build into `work` may keep files of the last output (not a build from nothing)."""
    return work not in _cold


def keep(work: Path, relative: str | Path) -> bool:
    """Hard-link `relative` from the last output into the work folder (a copy where links are not possible);
    False when the last output has no such file."""
    if work in _cold:
        return False
    # Paths as text: a build keeps thousands of files, and making pathlib's objects for each took longer than linking.
    source = os.path.join(last_output(work), relative)
    if not os.path.isfile(source):
        return False
    destination = os.path.join(work, relative)
    parent = os.path.dirname(destination)
    if parent not in _made:  # listings and pictures share folders
        os.makedirs(parent, exist_ok=True)
        _made.add(parent)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(destination)
    link_or_copy(source, destination)
    return True


def keep_tree(work: Path, relative: str) -> bool:
    """Hard-link a whole folder of the last output (a search bundle) into the work folder."""
    source = last_output(work) / relative
    if work in _cold or not source.is_dir():
        return False
    destination = work / relative
    shutil.rmtree(destination, ignore_errors=True)
    link_tree(source, destination)
    return True


def link_tree(source: Path, destination: Path) -> None:
    """A copy of a folder made of hard links (`cp -al`, far quicker than Python's copytree for thousands of
    folders); copytree with `link_or_copy` where cp cannot (another file system, no GNU cp)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if (
        shutil.which("cp")
        and subprocess.run(["cp", "-al", str(source), str(destination)], capture_output=True).returncode == 0
    ):
        return
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination, copy_function=link_or_copy)


def write(path: Path, data: bytes) -> None:
    """Write a file of the build, or keep the last output's when it holds these very bytes (same file, same stamp)."""
    work = next((parent for parent in path.parents if parent.name.endswith(_BUILDING)), None)
    if work is not None and work not in _cold:
        last = last_output(work) / path.relative_to(work)
        try:
            if last.stat().st_size == len(data) and last.read_bytes() == data:
                keep(work, path.relative_to(work))
                return
        except OSError:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a new file, never into one another folder shares
    path.write_bytes(data)


def link_or_copy(source: str | Path, destination: str | Path) -> str:
    """A hard link where the file system allows it, else a copy with its times (copy2)."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
    return str(destination)


def _swap(work: Path, target: Path) -> None:
    """Two renames in one folder: a reader of the output sees the old build or the new one, for an instant none.
    The old one is removed in a thread (thousands of folders take a while; the process waits for it before it
    exits); one a killed process left is removed by the next swap."""
    old = target.with_name(f".{target.name}.previous-{os.getpid()}-{next(_swaps)}")
    if target.exists():
        os.rename(target, old)
    os.rename(work, target)
    for left in target.parent.glob(f".{target.name}.previous-*"):
        remove_later(left)


def _relink(work: Path, output: Path) -> None:
    """The finished work folder becomes a copy named for this moment, pinned by a link in the folder of copies (which
    keeps it from being tidied away while it is the one the next build keeps files from); `output` links to the pin.
    Each link moves in one rename. The old copy is the folder's owner's to remove (the deploy's, once it is no longer
    live); an output still a plain folder, as an older version left it, is removed."""
    fresh = work.with_name(copy_name())
    os.rename(work, fresh)
    pin = work.with_name(f".{output.name}")
    _point(pin, fresh)
    if output.is_symlink() and Path(os.readlink(output)) == pin:
        return
    if output.is_dir() and not output.is_symlink():
        old = output.with_name(f".{output.name}.previous-{os.getpid()}-{next(_swaps)}")
        os.rename(output, old)
        remove_later(old)
    _point(output, pin)


def _point(link: Path, to: Path) -> None:
    """Make `link` a symlink to `to`, replacing what it was in one rename."""
    new = link.with_name(f"{link.name}.link-{os.getpid()}")
    new.unlink(missing_ok=True)
    os.symlink(to, new)
    os.replace(new, link)


def remove_later(folder: Path) -> None:
    """Remove a folder no reader uses any more in a thread: thousands of files take seconds nobody need wait for
    (the process waits for the thread before it exits). The thread hands the unlinks to `rm -rf`: Python's rmtree
    in a thread holds the interpreter lock between its thousands of calls and slows the build beside it by half."""
    threading.Thread(target=_remove, args=(folder,)).start()


def _remove(folder: Path) -> None:
    if not (
        shutil.which("rm") and subprocess.run(["rm", "-rf", "--", str(folder)], capture_output=True).returncode == 0
    ):
        shutil.rmtree(folder, ignore_errors=True)


_swaps = itertools.count()


def files(folder: Path, skip: str = "") -> list[Path]:
    """Every file under `folder` (not following links, not in folders named `skip`), sorted: os.scandir knows from
    the folder listing which entry is a file, where rglob and is_file ask the disk again for each of thousands."""
    found, folders = [], [str(folder)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != skip:
                        folders.append(entry.path)
                elif entry.is_file():
                    found.append(entry.path)
    return [Path(path) for path in sorted(found, key=lambda path: path.split(os.sep))]  # as paths sort, but quicker
