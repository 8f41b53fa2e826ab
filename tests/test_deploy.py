"""Deploying a finished build: killed deploys leave the live site whole and only whole copies are kept."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from newsroom.core.settings import DEFAULTS
from newsroom.publishing.deploy import KEEP_RELEASES, deploy
from sitebuilder import ROOT

FILES = 3000


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _big_build(folder: Path) -> Path:
    """A stand-in for a large public build: thousands of pages, so a deploy takes long enough to be killed."""
    for n in range(FILES):
        page = folder / f"p{n // 100:02d}" / f"{n:04d}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<!doctype html><title>{n}</title>" + "x" * 4000 + "</html>\n", encoding="utf-8")
    return folder


def _deploy_command(output: Path, target: Path) -> list[str]:
    return [sys.executable, "-m", "newsroom.cli", "deploy", "--output", str(output), "--target", str(target)]


def _kill_mid_copy(output: Path, target: Path) -> None:
    """Start a deploy and SIGKILL it once its copy holds some, but not all, of the files."""
    releases = target.parent / f".{target.name}.releases"
    before = set(releases.iterdir())
    process = subprocess.Popen(_deploy_command(output, target), cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fresh = [p for p in releases.iterdir() if p not in before]
            if fresh and 50 < sum(1 for _ in fresh[0].rglob("*.html")) < FILES // 2:
                break
            time.sleep(0.002)
        else:
            raise AssertionError("the deploy never started copying")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def test_killed_deploys_leave_the_site_whole_and_only_whole_copies_are_kept(tmp_path):
    output = _big_build(tmp_path / "build")
    target = tmp_path / "site"
    expected = _files(output)
    for _ in range(KEEP_RELEASES + 1):
        deploy(output, str(target))
    releases = tmp_path / ".site.releases"
    whole_before = sorted(releases.iterdir())
    for _ in range(3):
        _kill_mid_copy(output, target)
        assert _files(target) == expected  # the live site is the last whole copy throughout
    finished = subprocess.run(_deploy_command(output, target), cwd=ROOT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    kept = sorted(releases.iterdir())
    assert len(kept) == KEEP_RELEASES + 1
    assert all(_files(copy) == expected for copy in kept), [p.name for p in kept]
    assert kept[:-1] == whole_before[-KEEP_RELEASES:]  # the earlier whole copies were not pushed out
    assert os.path.realpath(target) == str(kept[-1])


def test_the_nginx_root_in_the_docs_is_the_deploy_target():
    """The web server must serve the symlink publish swaps (NEWSROOM_DEPLOY), not a folder inside it."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    roots = [
        (page.name, match.group(1))
        for page in pages
        for match in re.finditer(r"^\s*root\s+(\S+?);", page.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert roots
    for page, root in roots:
        assert root.endswith("/" + str(DEFAULTS["NEWSROOM_DEPLOY"])), f"{page}: root {root}"
