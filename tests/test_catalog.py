"""Validation: every problem in the content reported at once, each with its file, line and field."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsroom.content.catalog import load_catalog
from runcli import newsroom
from sitebuilder import ROOT, Site, release, write_content

TZ = ZoneInfo("Europe/Helsinki")

BROKEN = {
    "missing.fi.md": "Title: Ilman päivämäärää\nType: news\nLang: fi\nRelease: missing\nLead: L\n\nText\n",
    "typo.fi.md": release("Kirjoitusvirhe", "2026-01-01 10:00", release_id="typo", Keyword="x"),
    "baddate.fi.md": release("Huono päivä", "1.3.2026 klo 9", release_id="baddate"),
    "badtype.fi.md": release("Tuntematon tyyppi", "2026-01-01 10:00", release_id="badtype", kind="pressrelease"),
    "badlang.md": release("Unknown language", "2026-01-01 10:00", lang="de", release_id="badlang"),
    "refs.fi.md": release(
        "Viitteet",
        "2026-01-01 10:00",
        release_id="refs",
        Contacts="ville-virtane",
        Images="no-such-image",
        Attachments="missing.pdf",
    ),
    "noalt.en.md": release("No alt", "2026-01-01 10:00", lang="en", release_id="noalt", Images="no-alt"),
    "dup-a.fi.md": release("Kaksoset A", "2026-01-01 10:00", release_id="twins"),
    "dup-b.fi.md": release("Kaksoset B", "2026-01-01 10:00", release_id="twins"),
    "mixed.fi.md": release("Sekatyypit", "2026-01-01 10:00", release_id="mixed", kind="news"),
    "mixed.sv.md": release("Blandade typer", "2026-01-01 10:00", lang="sv", release_id="mixed", kind="blog"),
    "gap.fi.md": release("Olematon hetki", "2026-03-29 03:30", release_id="gap"),
    "fold.fi.md": release("Kahdesti", "2026-10-25 03:30", release_id="fold"),
    "invite.fi.md": release("Kutsu ilman paikkaa", "2026-01-01 10:00", release_id="invite", kind="invitation"),
}
EXTRA = {
    "contacts/broken.yaml": "name: Rikki\ntitle:\n  fi: x\n phone: 1\n",
    "images/no-alt.png": "",
    "images/no-alt.yaml": "alt:\n  fi: Vain suomeksi\nphotographer: X\nlicence: CC0\n",
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    content = write_content(tmp_path_factory.mktemp("broken") / "content", BROKEN, EXTRA)
    from PIL import Image

    Image.new("RGB", (4, 4)).save(content / "images" / "no-alt.png")
    return content


@pytest.fixture(scope="module")
def problems(broken) -> list[str]:
    return [str(p) for p in load_catalog(broken, TZ).problems]


def _one(problems, start: str, *fragments: str) -> str:
    found = [p for p in problems if p.startswith(start) and all(f in p for f in fragments)]
    assert len(found) == 1, (start, fragments, problems)
    return found[0]


def test_missing_field_is_named_with_its_file(problems, broken):
    _one(problems, f"{broken}/releases/missing.fi.md:1: Date: is missing")


def test_unknown_field_suggests_the_right_name(problems, broken):
    _one(problems, f"{broken}/releases/typo.fi.md:8: Keyword: is not a known field", "did you mean 'Keywords'")


def test_unparseable_date_says_how_to_write_it(problems, broken):
    _one(problems, f"{broken}/releases/baddate.fi.md:2: Date: '1.3.2026 klo 9' is not a date", "2026-03-01 09:00")


def test_unknown_type_and_language(problems, broken):
    _one(
        problems,
        f"{broken}/releases/badtype.fi.md:3: Type: 'pressrelease' is not a release type",
        "did you mean 'press-release'",
    )
    _one(problems, f"{broken}/releases/badlang.md:4: Lang: 'de' is not a language")


def test_unknown_contact_image_and_attachment(problems, broken):
    path = f"{broken}/releases/refs.fi.md"
    _one(problems, f"{path}:7: Contacts: no contact 'ville-virtane'", "did you mean 'ville-virtanen'")
    _one(problems, f"{path}:8: Images: no image 'no-such-image'")
    _one(problems, f"{path}:9: Attachments: no file 'missing.pdf'")


def test_image_without_alt_text_in_the_release_language(problems, broken):
    _one(problems, f"{broken}/releases/noalt.en.md:8: Images: image 'no-alt' has no alt text in en")


def test_same_release_and_language_twice(problems, broken):
    _one(problems, f"{broken}/releases/dup-b.fi.md:5: Release: 'twins' already has a fi version", "dup-a.fi.md")


def test_language_versions_with_different_types(problems, broken):
    _one(problems, f"{broken}/releases/mixed.fi.md:3: Type: the language versions of 'mixed' have different types")
    _one(problems, f"{broken}/releases/mixed.sv.md:3: Type:")


def test_times_that_dst_skips_or_repeats_are_refused(problems, broken):
    _one(problems, f"{broken}/releases/gap.fi.md:2: Date: '2026-03-29 03:30' does not exist in Europe/Helsinki")
    _one(problems, f"{broken}/releases/fold.fi.md:2: Date: '2026-10-25 03:30' happens twice", "+03:00", "+02:00")


def test_invitation_needs_time_and_place(problems, broken):
    _one(problems, f"{broken}/releases/invite.fi.md:1: Event-Start: is missing")
    _one(problems, f"{broken}/releases/invite.fi.md:1: Location: is missing")


def test_bad_yaml_in_a_card_gives_its_line(problems, broken):
    _one(problems, f"{broken}/contacts/broken.yaml:4: is not valid YAML")


def test_check_command_lists_every_problem_and_exits_1(broken, problems):
    result = newsroom("check", "--content", str(broken))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(broken))]
    assert sorted(lines) == sorted(problems) and len(lines) >= 17
    assert "Traceback" not in result.stdout + result.stderr


def test_build_refuses_content_with_problems_and_writes_nothing(broken, tmp_path):
    result = newsroom("build", "--content", str(broken), "--output", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Nothing was built" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_sample_newsroom_checks_clean():
    result = newsroom("check")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("All good:")


def test_second_newsroom_builds_from_the_same_checkout(tmp_path):
    content = write_content(tmp_path / "other", {"x.en.md": release("Other newsroom", "2026-02-02 10:00", lang="en")})
    result = newsroom("build", "--content", str(content), "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    site = Site(content, tmp_path / "out")
    assert site.html("en/releases/other-newsroom/").h1.get_text() == "Other newsroom"
    assert "City of Testila" in site.html("en/").title.get_text()


def test_a_mistyped_build_time_is_a_usage_error_without_traceback(tmp_path):
    result = newsroom("build", "--now", "yesterday", "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "--now or NEWSROOM_NOW" in result.stderr and "'yesterday' is not a date" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_a_newsroom_setting_of_the_wrong_kind_is_a_usage_error_without_traceback(tmp_path):
    settings = tmp_path / "settings.py"
    settings.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom pelicanconf import *\n"
        f"PATH = {str(ROOT / 'content')!r}\nTHEME = {str(ROOT / 'theme')!r}\n"
        f"PLUGIN_PATHS = [{str(ROOT / 'plugins')!r}]\nNEWSROOM_SEARCH_SHARD_SIZE = '2000'\n"
    )
    result = newsroom("--settings", str(settings), "build", "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "NEWSROOM_SEARCH_SHARD_SIZE is '2000' in the settings file; write a whole number" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
