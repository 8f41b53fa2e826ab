"""The search index: Pagefind reads the built release pages and writes a static index that the search page queries
in the reader's browser, one index per language.

Pagefind holds everything it indexes in memory (about 0.1 MB a page), so a large newsroom is indexed in shards of
NEWSROOM_SEARCH_SHARD_SIZE release pages, oldest first, each its own bundle; the search page merges them. A shard
whose pages would index the same as last time is kept, so adding a release re-indexes only the newest shard.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pagefind_bin

from . import manifest, urls

DIGESTS = "newsroom-search.json"  # in Pelican's CACHE_PATH: what each bundle (by its path) was built from


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed; the site has no usable search."""


@dataclass(frozen=True)
class Shard:
    bundle: str  # the bundle's folder in the output: "pagefind/", "pagefind-2/", ...
    pages: tuple[str, ...]  # the release pages it indexes (save_as paths)
    digest: str  # of everything those pages' indexed part is made from


def bundle(number: int) -> str:
    return urls.SEARCH_BUNDLE if number == 0 else f"{urls.SEARCH_BUNDLE.rstrip('/')}-{number + 1}/"


def plan(releases: list, settings: dict) -> list[Shard]:
    """The public release pages in shards, oldest first, so that old shards keep their pages as new releases come.

    A page's indexed part (its <article data-pagefind-body>) is made from its release record and body, and from what
    every page shares (theme, code, contacts, images, settings), so those make the digest; "more from the publisher",
    which changes on every page whenever a release is added, lies outside it.
    """
    size = settings["NEWSROOM_SEARCH_SHARD_SIZE"]
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"NEWSROOM_SEARCH_SHARD_SIZE is {size!r}; use a whole number of pages, such as 2000")
    oldest_first = sorted(releases, key=lambda a: (a.date, a.release, a.lang))
    shared = f"{version('pagefind_bin')}\n{manifest.fingerprint(settings, [])}"
    shards = []
    for number, start in enumerate(range(0, len(oldest_first), size)):
        members = oldest_first[start:start + size]
        digest = hashlib.sha256(shared.encode())
        for article in members:
            digest.update(f"\n{article.save_as}\n{article.record!r}\n".encode())
            digest.update(hashlib.sha256(article.content.encode()).digest())
        shards.append(Shard(bundle(number), tuple(a.save_as for a in members), digest.hexdigest()))
    return shards


def index(output: Path, settings: dict, shards: list[Shard]) -> None:
    """Write a bundle for each shard that changed, and remove the bundles of shards that are no more, so nothing of a
    page that is no longer in the output stays searchable."""
    record = Path(settings["CACHE_PATH"]) / DIGESTS
    try:
        built = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        built = {}
    wanted = {output / shard.bundle for shard in shards}
    prefix = urls.SEARCH_BUNDLE.rstrip("/")
    for folder in [output / prefix, *output.glob(f"{prefix}-*")]:
        if folder not in wanted:
            shutil.rmtree(folder, ignore_errors=True)
            built.pop(str(folder), None)
    for shard in shards:
        target = output / shard.bundle
        if built.get(str(target)) != shard.digest or not (target / "pagefind-entry.json").is_file():
            built.pop(str(target), None)
            _run_pagefind(output, shard, target)
            built[str(target)] = shard.digest
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(built, indent=1), encoding="utf-8")


def _run_pagefind(output: Path, shard: Shard, target: Path) -> None:
    """Pagefind indexes a whole folder, so the shard's pages are linked into a folder of their own first (same
    relative paths, so the same addresses)."""
    try:
        executable = pagefind_bin.get_executable()
    except FileNotFoundError:
        raise SearchIndexError("Pagefind is not installed in this environment; run 'make install'") from None
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=".search-", dir=output.parent) as site:
        for page in shard.pages:
            link = Path(site, page)
            link.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(output / page, link)
            except OSError:  # a file system without hard links
                shutil.copyfile(output / page, link)
        command = [str(executable), "--site", site, "--output-path", str(target), "--silent"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SearchIndexError(f"Pagefind could not index {output}: {(result.stderr or result.stdout).strip()}")
