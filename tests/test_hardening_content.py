"""Content a careless author writes: each is a `newsroom check` problem naming the file and line, never a
traceback, a half-written site or a file from outside the content folder on the public site (issue #20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsroom.content.catalog import MAX_KEYWORDS, load_catalog
from runcli import newsroom
from sitebuilder import CONTACT, PUBLISHER, ROOT, build_site, release, write_content

TZ = ZoneInfo("Europe/Helsinki")
DATE = "2026-01-01 10:00"


def _problems(content: Path) -> list[str]:
    return [str(p) for p in load_catalog(content, TZ).problems]


def _newsroom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsroom.cli", *args], cwd=ROOT, capture_output=True, text=True)


def _one(problems: list[str], start: str, *fragments: str) -> str:
    found = [p for p in problems if p.startswith(start) and all(f in p for f in fragments)]
    assert len(found) == 1, (start, fragments, problems)
    return found[0]


def _content(tmp_path: Path, releases: dict[str, str] | None = None, extra: dict[str, str] | None = None) -> Path:
    return write_content(tmp_path / "content", releases or {"a.fi.md": release("Alku", DATE)}, extra)


# --- 1: every named path inside the content folder -------------------------------------------------------------


@pytest.mark.parametrize("logo", ["../var/newsroom.sqlite3", "/etc/passwd"])
def test_a_logo_outside_the_content_folder_is_refused(tmp_path, logo):
    content = _content(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "newsroom.sqlite3").write_bytes(b"SQLite format 3\x00" + bytes(100))
    (content / "newsroom.yaml").write_text(PUBLISHER.replace("logo: logo.svg", f"logo: {logo}"))
    line = PUBLISHER.splitlines().index("logo: logo.svg") + 1
    _one(_problems(content), f"{content}/newsroom.yaml:{line}: logo: '{logo}' lies outside the content folder")


def test_a_picture_symlinked_from_outside_is_refused(tmp_path):
    content = _content(tmp_path)
    secret = tmp_path / "private.png"
    (content / "images" / "red-square.png").rename(secret)
    os.symlink(secret, content / "images" / "red-square.png")
    _one(_problems(content), f"{content}/images/red-square.png: 'red-square.png' lies outside the content folder")


def test_an_attachment_symlinked_from_outside_is_refused(tmp_path):
    content = _content(tmp_path, {"a.fi.md": release("Alku", DATE, Attachments="plan.pdf")})
    (content / "attachments").mkdir()
    (tmp_path / "plan.pdf").write_bytes(b"%PDF-1.4 private")
    os.symlink(tmp_path / "plan.pdf", content / "attachments" / "plan.pdf")
    _one(_problems(content), f"{content}/releases/a.fi.md:", "Attachments: 'plan.pdf' lies outside the content folder")


def test_a_page_or_release_symlinked_from_outside_is_refused(tmp_path):
    content = _content(tmp_path)
    (tmp_path / "notes.md").write_text("Title: Notes\n\nPrivate notes.\n")
    os.symlink(tmp_path / "notes.md", content / "pages" / "notes.md")
    os.symlink(tmp_path / "notes.md", content / "releases" / "notes.fi.md")
    problems = _problems(content)
    _one(problems, f"{content}/pages/notes.md: 'pages/notes.md' lies outside the content folder")
    _one(problems, f"{content}/releases/notes.fi.md: 'releases/notes.fi.md' lies outside the content folder")


# --- 9: files that crashed check or the build ----------------------------------------------------------------


def test_a_release_that_is_not_utf8_is_a_problem_on_its_line(tmp_path):
    content = _content(tmp_path)
    (content / "releases" / "latin.fi.md").write_bytes(
        release("Kesä", DATE, release_id="latin", body="Hyvää päivää.").encode("latin-1")
    )
    _one(_problems(content), f"{content}/releases/latin.fi.md:1: is not UTF-8 text")
    result = _newsroom("check", "--content", str(content))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr


def test_a_folder_named_like_a_release_and_other_formats_are_problems(tmp_path):
    content = _content(tmp_path)
    (content / "releases" / "x.md").mkdir()
    (content / "releases" / "b.markdown").write_text(release("Toinen", DATE, release_id="b"))
    (content / "releases" / "c.html").write_text("<html><head><title>C</title></head><body>c</body></html>")
    problems = _problems(content)
    _one(problems, f"{content}/releases/x.md: is a folder")
    _one(problems, f"{content}/releases/b.markdown: is not a release", "rename it to 'b.md'")
    _one(problems, f"{content}/releases/c.html: is not a release")
    result = _newsroom("build", "--content", str(content), "--output", str(tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr


def test_a_contact_name_of_spaces_is_missing(tmp_path):
    content = _content(tmp_path)
    (content / "contacts" / "ville-virtanen.yaml").write_text(CONTACT.replace("name: Ville Virtanen", 'name: "   "'))
    _one(_problems(content), f"{content}/contacts/ville-virtanen.yaml:1: name: is missing")


@pytest.mark.parametrize("char", ["\x00", "\x0b"])
def test_control_characters_in_a_title_or_body_are_problems_on_their_line(tmp_path, char):
    content = _content(
        tmp_path,
        {
            "a.fi.md": release(f"Al{char}ku", DATE),
            "b.fi.md": release("Toinen", DATE, release_id="b", body=f"First line.\n\nSecond{char} line.\n"),
        },
    )
    problems = _problems(content)
    _one(problems, f"{content}/releases/a.fi.md:1: Title: contains the control character U+{ord(char):04X}")
    # Seven header lines, a blank line, the first paragraph, a blank line: the second paragraph is line 11.
    _one(problems, f"{content}/releases/b.fi.md:11: contains the control character U+{ord(char):04X}")
    result = _newsroom("build", "--content", str(content), "--output", str(tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr


# --- 10, 11: titles and keywords ------------------------------------------------------------------------------


def test_a_title_continued_on_an_indented_line_is_one_title(tmp_path):
    text = release("Kirjasto avautuu", DATE).replace("Kirjasto avautuu\n", "Kirjasto\n    avautuu\n", 1)
    content = _content(tmp_path, {"a.fi.md": text})
    assert load_catalog(content, TZ).releases[0].title == "Kirjasto avautuu"
    site = build_site(content, tmp_path / "out", now="2026-02-01T00:00+02:00")
    page = site.html("fi/releases/kirjasto-avautuu/")
    assert page.h1.get_text(strip=True) == "Kirjasto avautuu"
    assert "['" not in (site.output / "fi" / "releases" / "kirjasto-avautuu" / "index.html").read_text()


def test_titles_and_keywords_of_symbols_alone_are_refused(tmp_path):
    content = _content(
        tmp_path,
        {
            "a.fi.md": release("???", DATE, Keywords="!!!, kirjasto, .."),
            "b.fi.md": release("!!!", DATE, release_id="b", Slug="toinen"),
        },
    )
    problems = _problems(content)
    _one(problems, f"{content}/releases/a.fi.md:1: Title: has no letters or digits", "Slug:")
    _one(problems, f"{content}/releases/a.fi.md:", "Keywords: '!!!' has no letters or digits")
    _one(problems, f"{content}/releases/a.fi.md:", "Keywords: '..' has no letters or digits")
    assert not [p for p in problems if "b.fi.md" in p]


def test_a_release_with_too_many_keywords_is_refused(tmp_path):
    words = ", ".join(f"sana{n}" for n in range(MAX_KEYWORDS + 1))
    content = _content(tmp_path, {"a.fi.md": release("Alku", DATE, Keywords=words)})
    _one(
        _problems(content),
        f"{content}/releases/a.fi.md:",
        f"has {MAX_KEYWORDS + 1} keywords",
        f"at most {MAX_KEYWORDS}",
    )


# --- 12, 13: the cards ---------------------------------------------------------------------------------------


def test_an_unclosed_quote_in_newsroom_yaml_is_reported_on_its_own_line(tmp_path):
    content = _content(tmp_path)
    broken = PUBLISHER.replace('phone: "+358 9 555 2000"', 'phone: "+358 9 555 2000')
    (content / "newsroom.yaml").write_text(broken)
    line = broken.splitlines().index('phone: "+358 9 555 2000') + 1
    problems = [p for p in _problems(content) if "newsroom.yaml" in p]
    assert len(problems) == 1 and problems[0].startswith(f"{content}/newsroom.yaml:{line}: "), problems
    assert "is missing" not in problems[0]


def test_an_unclosed_quote_at_the_end_of_a_card_is_reported_on_its_own_line(tmp_path):
    content = _content(tmp_path)
    (content / "contacts" / "ville-virtanen.yaml").write_text(CONTACT + 'photo: "portrait\n')
    line = len(CONTACT.splitlines()) + 1
    _one(_problems(content), f"{content}/contacts/ville-virtanen.yaml:{line}: is not valid YAML")


@pytest.mark.parametrize("field", ["name", "phone", "email"])
def test_line_breaks_in_a_contact_card_field_are_refused(tmp_path, field):
    content = _content(tmp_path)
    values = {"name": "Ville Virtanen", "phone": '"+358 40 555 0150"', "email": "ville.virtanen@testila.example"}
    injected = CONTACT.replace(f"{field}: {values[field]}", f'{field}: "x\\r\\nEMAIL:attacker@evil.example"')
    (content / "contacts" / "ville-virtanen.yaml").write_text(injected)
    line = injected.splitlines().index(f'{field}: "x\\r\\nEMAIL:attacker@evil.example"') + 1
    _one(_problems(content), f"{content}/contacts/ville-virtanen.yaml:{line}: {field}: contains the control character")


def test_a_control_character_in_a_per_language_field_is_refused(tmp_path):
    content = _content(tmp_path)
    (content / "contacts" / "ville-virtanen.yaml").write_text(
        CONTACT.replace("en: Press officer", 'en: "Press\\nofficer"')
    )
    _one(_problems(content), f"{content}/contacts/ville-virtanen.yaml:2: title: contains the control character U+000A")


# --- 15: pictures larger than a press photo needs -------------------------------------------------------------


def test_a_picture_of_more_pixels_than_a_press_photo_needs_is_refused(tmp_path):
    from PIL import Image

    from newsroom.media.images import MAX_PIXELS

    content = _content(tmp_path)
    Image.new("RGB", (15000, 11900), "red").save(content / "images" / "red-square.png")  # 178 MP, a few hundred KB
    assert 15000 * 11900 > MAX_PIXELS
    _one(_problems(content), f"{content}/images/red-square.png: has 178 megapixels, more than the 64 megapixels")


MEASURE = """
import sys
from pathlib import Path
from newsroom.content.catalog import load_catalog
from newsroom.media import images
from zoneinfo import ZoneInfo
catalog = load_catalog(Path(sys.argv[1]), ZoneInfo("Europe/Helsinki"))
assert not catalog.problems, catalog.problems
derived, problems = images.derive(list(catalog.images.values()), Path(sys.argv[2]), processes=1)
assert not problems, problems
# The high-water mark of this process's own memory (ru_maxrss would carry over the parent's across exec).
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) // 1024)
"""


def test_a_large_png_is_shrunk_right_after_decoding_so_it_costs_its_size_once(tmp_path):
    """A 61-megapixel PNG (a full camera frame) decodes to 174 MB of RGB; every copy made of it at full size (colour
    conversion, turning) used to come on top: 609 MB at the peak. Shrunk first, the peak stays near one copy."""
    from PIL import Image

    content = _content(tmp_path)
    Image.new("RGB", (9504, 6336), (30, 120, 30)).save(content / "images" / "red-square.png")
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(content), str(tmp_path / "cache")], capture_output=True, text=True
    )
    assert measured.returncode == 0, measured.stderr
    peak = int(measured.stdout.split()[-1])
    assert peak < 420, f"peak {peak} MB"


@pytest.mark.parametrize("command", ["check", "build", "publish"])
def test_a_content_folder_that_does_not_exist_is_named_without_a_traceback(tmp_path, command):
    missing = tmp_path / "kontent"
    result = newsroom(command, "--content", str(missing), env={"NEWSROOM_STATE_DIR": str(tmp_path / "state")})
    assert result.returncode == 2
    assert f"the content folder {missing} does not exist" in result.stderr
    assert "Traceback" not in result.stderr
