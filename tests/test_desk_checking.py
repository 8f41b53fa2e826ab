"""The desk's check folder: the same problems as `newsroom check` for the text in the editor, built from hard links
to the content without git's own files (a content folder may be the repository itself)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

from newsroom.build.run import BuildOptions, load_settings
from newsroom.content.catalog import load_catalog
from newsroom.desk import checking
from sitebuilder import ROOT, release, write_content


def test_a_check_in_a_content_folder_that_is_a_repository_leaves_git_out_and_finds_what_check_finds(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Alku", "2026-01-10 12:00")})
    subprocess.run(["git", "init", "-q", str(content)], check=True)
    mirrored = tmp_path / "mirror"
    checking._mirror(content, mirrored, set())
    assert (
        not (mirrored / ".git").exists()
        and (mirrored / "releases" / "a.fi.md").stat().st_ino == (content / "releases" / "a.fi.md").stat().st_ino
    ), "hard links, git left out"
    settings = load_settings(BuildOptions(ROOT / "pelicanconf.py", content, tmp_path / "out", None))
    settings = settings.replace(NEWSROOM_STATE_DIR=str(tmp_path / "var"))
    path = content / "releases" / "a.fi.md"
    broken = path.read_text().replace("Date: 2026-01-10 12:00", "Date: 2026-03-29 03:30")
    problems, _ = checking.check(content, settings, {path: broken})
    path.write_text(broken)
    expected = [p for p in load_catalog(content, ZoneInfo("Europe/Helsinki")).problems if p.path == path]
    assert problems == expected and "does not exist in Europe/Helsinki" in problems[0].message
    assert not any(Path(tmp_path / "var").iterdir()), "the check folder is removed afterwards"
