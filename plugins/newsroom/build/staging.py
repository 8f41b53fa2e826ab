"""A build is written into a folder beside its output and moved into place only when it is whole: a build that
fails for any reason (a content problem found late, a crash, the audit) leaves the output as it was.

The folder starts as a copy of the last output (file times kept), so the page cache, the search shards and the
audit, which know the files of the last build by name, size and time, keep working as on a build in place.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def work_folder(output: Path) -> Path:
    """Always the same folder for one output: the build's records (kept pages, search shards) name its files."""
    return output.with_name(f".{output.name}.building")


@contextmanager
def staged(output: Path, seed: bool = True) -> Iterator[Path]:
    """The folder to build into; on a clean exit it replaces `output` (a symlinked output: the folder it points
    at), on an error it is removed and `output` is untouched. `seed` False starts it empty."""
    target = output.resolve() if output.is_symlink() else output.absolute()
    work = work_folder(target)
    shutil.rmtree(work, ignore_errors=True)
    if seed and target.is_dir():
        shutil.copytree(target, work, symlinks=True)  # copy2: sizes and times as they were
    else:
        work.mkdir(parents=True)
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _swap(work, target)


def _swap(work: Path, target: Path) -> None:
    """Two renames in one folder: a reader of the output sees the old build or the new one, for an instant none."""
    old = target.with_name(f".{target.name}.previous")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.rename(target, old)
    os.rename(work, target)
    shutil.rmtree(old, ignore_errors=True)
