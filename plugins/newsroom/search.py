"""The search index: Pagefind reads the built release pages and writes a static index that the search page queries
in the reader's browser, one index per language."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pagefind_bin

from . import urls


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed; the site has no usable search."""


def release_pages_glob(settings: dict) -> str:
    """Where release pages are written, as a glob: '{lang}/releases/{slug}/index.html' -> '*/releases/*/index.html'."""
    return re.sub(r"\{[^}]*\}", "*", settings["ARTICLE_LANG_SAVE_AS"])


def index(output: Path, settings: dict) -> None:
    """Index the release pages in `output` (only what their data-pagefind-body holds); the old index goes first,
    so nothing of a page that is no longer in the output stays searchable."""
    bundle = output / urls.SEARCH_BUNDLE
    shutil.rmtree(bundle, ignore_errors=True)
    pattern = release_pages_glob(settings)
    if not any(output.glob(pattern)):
        return  # nothing public yet: Pagefind refuses an empty site, and the search page says there is nothing
    try:
        executable = pagefind_bin.get_executable()
    except FileNotFoundError:
        raise SearchIndexError("Pagefind is not installed in this environment; run 'make install'") from None
    command = [str(executable), "--site", str(output), "--glob", pattern,
               "--output-subdir", urls.SEARCH_BUNDLE.rstrip("/"), "--silent"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SearchIndexError(f"Pagefind could not index {output}: {(result.stderr or result.stdout).strip()}")
