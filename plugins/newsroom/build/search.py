"""The search index: Pagefind reads the built release pages and writes a static index that the search page queries
in the reader's browser, one index per language.

Pagefind holds everything it indexes in memory (about 0.1 MB a page), so a large newsroom is indexed in shards of
NEWSROOM_SEARCH_SHARD_SIZE release pages, oldest first, each its own bundle; the search page merges them. A shard
whose pages would index the same as last time is kept, so adding a release re-indexes only the newest shard.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pagefind_bin

from newsroom.build import pagecache, staging
from newsroom.core import records, urls

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
    oldest_first = sorted(releases, key=lambda a: (a.date, a.release, a.lang))
    shared = f"{version('pagefind_bin')}\n{pagecache.shared_key(settings, {})}"
    shards = []
    for number, start in enumerate(range(0, len(oldest_first), size)):
        members = oldest_first[start : start + size]
        digest = hashlib.sha256(shared.encode())
        for article in members:
            digest.update(f"\n{article.save_as}\n{article.record.as_text}\n".encode())
            digest.update(pagecache.body_digest(article))
        shards.append(Shard(bundle(number), tuple(a.save_as for a in members), digest.hexdigest()))
    return shards


class Indexing:
    """Pagefind at work on the shards that changed, one after another, in the background: the build goes on with its
    other steps and waits (`wait`) before anything reads the output as a whole. Bundles of shards that are no more
    are removed first, so nothing of a page that is no longer in the output stays searchable."""

    def __init__(self, output: Path, settings: dict, shards: list[Shard]):
        self.output = output
        self.record = Path(settings["CACHE_PATH"]) / DIGESTS
        self.built = records.read(self.record)
        wanted = {output / shard.bundle for shard in shards}
        prefix = urls.SEARCH_BUNDLE.rstrip("/")
        for folder in [output / prefix, *output.glob(f"{prefix}-*")]:
            if folder not in wanted:
                shutil.rmtree(folder, ignore_errors=True)
        self.built = {name: digest for name, digest in self.built.items() if Path(name) in wanted}
        self.changed = [
            shard
            for shard in shards
            if self.built.get(str(output / shard.bundle)) != shard.digest
            or not (
                staging.keep_tree(output, shard.bundle) and (output / shard.bundle / "pagefind-entry.json").is_file()
            )
        ]
        # Pagefind indexes a whole folder, so each shard's pages are linked into a folder of their own (same
        # relative paths, so the same addresses).
        self.work = output.parent / f".{output.name}-search"
        shutil.rmtree(self.work, ignore_errors=True)
        commands = []
        for number, shard in enumerate(self.changed):
            site = self.work / str(number)
            for page in shard.pages:
                _link(output / page, site / page)
            target = output / shard.bundle
            shutil.rmtree(target, ignore_errors=True)
            self.built.pop(str(target), None)
            commands.append(shlex.join([_executable(), "--site", str(site), "--output-path", str(target), "--silent"]))
        self.process = None
        if commands:
            self.log = self.work / "pagefind.log"
            with self.log.open("w") as log:
                self.process = subprocess.Popen(
                    ["sh", "-c", " && ".join(commands)], stdout=log, stderr=subprocess.STDOUT
                )

    def wait(self) -> None:
        if self.process is not None:
            failed = self.process.wait() != 0
            message = self.log.read_text(errors="replace").strip()
            shutil.rmtree(self.work, ignore_errors=True)
            if failed:
                raise SearchIndexError(f"Pagefind could not index {self.output}: {message}")
            self.built.update({str(self.output / shard.bundle): shard.digest for shard in self.changed})
        records.write(self.record, self.built)


def _executable() -> str:
    try:
        return str(pagefind_bin.get_executable())
    except FileNotFoundError:
        raise SearchIndexError("Pagefind is not installed in this environment; run 'make install'") from None


def _link(source: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, link)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, link)


_running: Indexing | None = None  # the build's indexing, from `start` to `finish`


def start(output: Path, settings: dict, shards: list[Shard]) -> None:
    global _running
    _running = Indexing(output, settings, shards)


def finish() -> None:
    """Wait for the indexing `start` began (if any); raises SearchIndexError if Pagefind failed."""
    global _running
    running, _running = _running, None
    if running is not None:
        running.wait()
