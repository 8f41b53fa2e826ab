"""What a build, a preview and the audit do with content that points where it must not (issue #20): files from
outside the content folder, links to hidden releases and attachments, cards of embargoed releases, a preview into
the live site, a renamed release, a build that fails halfway."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newsroom.build.origins import strays
from newsroom.build.run import BuildOptions, LeakError, load_settings
from newsroom.content.catalog import ContentError, catalog_for
from newsroom.content.links import link_problems
from newsroom.core.clock import build_now
from newsroom.publishing.renames import renamed_problems
from sitebuilder import ROOT, build_site, release, write_content

BEFORE, AFTER = "2026-03-01T12:00+02:00", "2026-03-20T12:00+02:00"
LIFT = "2026-03-10 09:00"
PUBLIC = "2026-02-01 10:00"

SECOND_CONTACT = """\
name: Uusi Johtaja
title:
  fi: kirjastotoimenjohtaja
  sv: bibliotekschef
  en: Head of libraries
phone: "+358 40 555 0199"
email: uusi.johtaja@testila.example
"""


def _newsroom(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsroom.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _settings(content: Path, output: Path, now: str, publish: bool = True) -> dict:
    return load_settings(BuildOptions(ROOT / ("publishconf.py" if publish else "pelicanconf.py"), content, output, now))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- 1: the audit knows where every file comes from ------------------------------------------------------------


def test_the_audit_fails_on_a_database_or_a_file_no_public_content_put_there(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Alku", PUBLIC)})
    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    settings = _settings(content, site.output, BEFORE)
    catalog, now = catalog_for(settings), settings["NEWSROOM_NOW"]
    assert strays(site.output, settings, catalog, now) == []
    (site.output / "fi" / "about.css").write_bytes(b"SQLite format 3\x00" + bytes(200))  # any name
    (site.output / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (site.output / "attachments").mkdir(exist_ok=True)
    (site.output / "attachments" / "plan.pdf").write_bytes(b"%PDF-1.4")
    found = {p.file.relative_to(site.output).as_posix(): p.why for p in strays(site.output, settings, catalog, now)}
    assert set(found) == {"fi/about.css", "passwd", "attachments/plan.pdf"}
    assert "SQLite database" in found["fi/about.css"]
    result = _newsroom("audit", "--content", str(content), "--output", str(site.output), "--now", BEFORE)
    assert result.returncode == 1 and "passwd" in result.stdout and "SQLite database" in result.stdout


# --- 2: a preview never goes into the live site ----------------------------------------------------------------


def test_preview_refuses_the_deploy_target_its_copies_and_the_last_published_build(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Alku", PUBLIC)})
    live = tmp_path / ".site.releases" / "20260301T000000Z"
    live.mkdir(parents=True)
    (live / "index.html").write_text("live")
    os.symlink(live, tmp_path / "site")
    state = tmp_path / "state"
    (state / "build").mkdir(parents=True)
    env = {"NEWSROOM_DEPLOY": str(tmp_path / "site"), "NEWSROOM_STATE_DIR": str(state)}
    for output in (tmp_path / "site", tmp_path / "site" / "fi", live, tmp_path, state / "build" / "x"):
        result = _newsroom("preview", "--content", str(content), "--output", str(output), "--now", BEFORE, env=env)
        assert result.returncode == 2, (output, result.stderr)
        assert "public site" in result.stderr and "Traceback" not in result.stderr
    assert _snapshot(live) == {"index.html": b"live"} and not (state / "build" / "x").exists()
    fine = _newsroom("preview", "--content", str(content), "--output", str(tmp_path / "preview"), env=env)
    assert fine.returncode == 0, fine.stderr


# --- 3: links to what is hidden --------------------------------------------------------------------------------


def _linked(tmp_path: Path) -> Path:
    body_public = (
        "See [the plan]({filename}embargoed.fi.md) soon.\n\n"
        "And [the map]({static}/attachments/draft-map.pdf).\n\n"
        "And [the rules]({static}/attachments/rules.pdf).\n"
    )
    content = write_content(
        tmp_path / "content",
        {
            "public.fi.md": release("Julkinen", PUBLIC, body=body_public, Attachments="rules.pdf"),
            "embargoed.fi.md": release("Salainen suunnitelma", LIFT, release_id="plan"),
            "draft.fi.md": release("Luonnos", PUBLIC, release_id="draft", Status="draft", Attachments="draft-map.pdf"),
        },
    )
    (content / "attachments").mkdir()
    (content / "attachments" / "draft-map.pdf").write_bytes(b"%PDF-1.4 draft")
    (content / "attachments" / "rules.pdf").write_bytes(b"%PDF-1.4 rules")
    return content


def test_a_public_release_linking_an_embargoed_one_or_a_drafts_attachment_is_a_problem(tmp_path):
    content = _linked(tmp_path)
    settings = _settings(content, tmp_path / "out", BEFORE)
    catalog = catalog_for(settings)
    problems = [str(p) for p in link_problems(catalog, settings["NEWSROOM_NOW"])]
    public = content / "releases" / "public.fi.md"
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{public}:10: links ({{filename}}) to embargoed.fi.md, which belongs to")
    assert "embargoed" in problems[0]
    assert problems[1].startswith(f"{public}:12: links ({{static}}) to /attachments/draft-map.pdf")
    with pytest.raises(ContentError):
        build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    assert not (tmp_path / "out").exists()
    check = _newsroom("check", "--content", str(content), "--now", BEFORE)
    assert check.returncode == 1 and f"{public}:10:" in check.stdout and f"{public}:12:" in check.stdout
    # Once the embargo lifts the first link is fine; the draft's file stays a problem.
    later = [str(p) for p in link_problems(catalog, build_now(AFTER, settings_tz(settings)))]
    assert len(later) == 1 and "draft-map.pdf" in later[0]


def settings_tz(settings: dict):
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings["TIMEZONE"])


def test_a_static_link_out_of_the_content_folder_is_a_problem(tmp_path):
    content = write_content(
        tmp_path / "content", {"a.fi.md": release("Alku", PUBLIC, body="[db]({static}../../var/newsroom.sqlite3)\n")}
    )
    settings = _settings(content, tmp_path / "out", BEFORE)
    problems = [str(p) for p in link_problems(catalog_for(settings), settings["NEWSROOM_NOW"], preview=True)]
    assert len(problems) == 1 and problems[0].startswith(f"{content}/releases/a.fi.md:9: links to '../../var")
    assert "outside the content folder" in problems[0]


# --- 4: a card only an embargoed release names ---------------------------------------------------------------


def test_a_card_only_an_embargoed_release_names_is_public_only_after_the_lift(tmp_path):
    content = write_content(
        tmp_path / "content",
        {
            "a.fi.md": release("Alku", PUBLIC),
            "b.fi.md": release("Kirjastolle päällikkö", LIFT, release_id="b", Contacts="uusi-johtaja"),
        },
    )
    (content / "contacts" / "uusi-johtaja.yaml").write_text(SECOND_CONTACT)
    before = build_site(content, tmp_path / "before", publish=True, now=BEFORE)
    assert not list(before.output.rglob("uusi-johtaja.vcf"))
    assert "uusi.johtaja@testila.example" not in (before.output / "fi" / "contacts" / "index.html").read_text()
    assert list(before.output.rglob("ville-virtanen.vcf"))  # a standing card is public all the time
    after = build_site(content, tmp_path / "after", publish=True, now=AFTER)
    assert list(after.output.rglob("uusi-johtaja.vcf"))
    assert "uusi.johtaja@testila.example" in (after.output / "fi" / "contacts" / "index.html").read_text()
    # The audit agrees: the card of the embargoed release in a build before the lift is a leak.
    shutil.copy(after.output / "fi" / "contacts" / "uusi-johtaja.vcf", before.output / "fi" / "contacts")
    result = _newsroom("audit", "--content", str(content), "--output", str(before.output), "--now", BEFORE)
    assert result.returncode == 1 and "uusi-johtaja.vcf" in result.stdout


# --- 8: a release id changed after publishing ------------------------------------------------------------------


def test_a_release_id_changed_after_publishing_is_a_problem_unless_marked_new(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Alku", PUBLIC, release_id="first-id")})
    state = tmp_path / "state"
    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    state.mkdir()
    shutil.copy(site.output / "newsroom-manifest.json", state)
    env = {"NEWSROOM_STATE_DIR": str(state)}
    path = content / "releases" / "a.fi.md"
    path.write_text(release("Alku", PUBLIC, release_id="second-id"))
    settings = {**_settings(content, tmp_path / "out", BEFORE), "NEWSROOM_STATE_DIR": str(state)}
    problems = [str(p) for p in renamed_problems(catalog_for(settings), settings)]
    assert len(problems) == 1 and problems[0].startswith(f"{path}:5: Release: this file was published as 'first-id'")
    check = _newsroom("check", "--content", str(content), env=env)
    assert check.returncode == 1 and f"{path}:5: Release:" in check.stdout
    publish = _newsroom(
        "publish", "--content", str(content), "--now", BEFORE, "--target", str(tmp_path / "site"), env=env
    )
    assert publish.returncode == 1 and f"{path}:5: Release:" in publish.stderr and not (tmp_path / "site").exists()
    path.write_text(release("Alku", PUBLIC, release_id="second-id", New_Release="yes"))
    assert renamed_problems(catalog_for(settings), settings) == []


def test_a_published_address_does_not_move_with_its_title_until_the_header_says_where(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Avajaiset 2.3.", PUBLIC)})
    state = tmp_path / "state"
    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    assert (site.output / "fi" / "releases" / "avajaiset-2-3" / "index.html").exists()
    state.mkdir()
    shutil.copy(site.output / "newsroom-manifest.json", state)
    settings = {**_settings(content, tmp_path / "out", BEFORE), "NEWSROOM_STATE_DIR": str(state)}
    assert renamed_problems(catalog_for(settings), settings) == []
    path = content / "releases" / "a.fi.md"
    path.write_text(release("Avajaiset maanantaina 2.3.", PUBLIC))
    problems = [str(p) for p in renamed_problems(catalog_for(settings), settings)]
    assert problems == [
        f"{path}:1: Title: this release was published at /fi/releases/avajaiset-2-3/, but its title now makes the "
        "address /fi/releases/avajaiset-maanantaina-2-3/, and links to the old one would break. Add the line "
        "'Slug: avajaiset-2-3' to keep the address, or 'Slug: avajaiset-maanantaina-2-3' if it should move"
    ]
    check = _newsroom("check", "--content", str(content), env={"NEWSROOM_STATE_DIR": str(state)})
    assert check.returncode == 1 and f"{path}:1: Title:" in check.stdout
    path.write_text(release("Avajaiset maanantaina 2.3.", PUBLIC, Slug="avajaiset-2-3"))
    assert renamed_problems(catalog_for(settings), settings) == []


# --- 9: a failed build leaves the output as it was -------------------------------------------------------------


def test_a_build_that_fails_halfway_leaves_the_output_as_it_was(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Alku", PUBLIC)})
    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    before = _snapshot(site.output)
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    (theme / "templates" / "feeds.html").write_text("{{ 1 // 0 }}")  # written late, after the release pages
    (content / "releases" / "b.fi.md").write_text(release("Toinen", PUBLIC, release_id="b"))
    with pytest.raises(ZeroDivisionError):
        build_site(content, site.output, publish=True, now=BEFORE, settings={"THEME": str(theme)})
    assert _snapshot(site.output) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == [".out-cache"]


def test_a_build_the_audit_stops_leaves_the_output_as_it_was(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Alku", PUBLIC)})
    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    before = _snapshot(site.output)
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    about = theme / "templates" / "about.html"
    about.write_text(about.read_text().replace("{% block content %}", "{% block content %}Salainen suunnitelma", 1))
    (content / "releases" / "b.fi.md").write_text(release("Salainen suunnitelma", LIFT, release_id="b"))
    with pytest.raises(LeakError):
        build_site(content, site.output, publish=True, now=BEFORE, settings={"THEME": str(theme)})
    assert _snapshot(site.output) == before
