"""The small JSON records a build keeps beside its output between runs (kept pages, search shards, audited files),
and the stamp by which a file is taken to be unchanged."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def read(path: Path) -> dict:
    """The record, or an empty one when it is missing or damaged (the build then does everything afresh)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write(path: Path, data: dict) -> None:
    """Replace the record in one step, so a build stopped halfway leaves the old one or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)


def stamp(path: Path) -> list[int] | None:
    """Size and modification time, as Pelican's reader cache takes them; None for a missing file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def unchanged_key(path: Path) -> tuple[int, ...] | None:
    """Size, modification and change times and inode: what a process that keeps what it read of a file (the resident
    publisher) compares before it reads the file again; None for a missing file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def per_file(memo: dict, path: Path, make: Callable[[Path], T]) -> T:
    """`make(path)`, kept in `memo` until the file's `unchanged_key` changes: the resident publisher reads every
    file again after each save, and only the saved one changed."""
    key = unchanged_key(path)
    known = memo.get(str(path))
    if known is None or known[0] != key or key is None:
        known = memo[str(path)] = (key, make(path))
    return known[1]


_digests: dict[str, tuple] = {}


def digest(path: Path) -> bytes:
    """The SHA-256 of a file's bytes (the fingerprint reads every input twice a publish)."""
    return per_file(_digests, path, lambda found: hashlib.sha256(found.read_bytes()).digest())


def one_a_line(document: dict, key: str, texts: dict[int, str] | None = None) -> str:
    """`document` as JSON with each item of its list `key` (its last field) on a line of its own: readable, and made
    by json's C encoder, which an indented dump does not use (5-10x quicker for thousands of releases). `texts`
    keeps each item's text by the id of the item, for documents that share items."""
    texts = {} if texts is None else texts
    lines = []
    for item in document[key]:
        if id(item) not in texts:
            texts[id(item)] = json.dumps(item, ensure_ascii=False)
        lines.append(texts[id(item)])
    head = json.dumps({**{k: v for k, v in document.items() if k != key}, key: []}, ensure_ascii=False)
    return head[: -len("[]}")] + ("[\n" + ",\n".join(lines) + "\n]}\n" if lines else "[]}\n")
