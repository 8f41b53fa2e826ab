"""Attachments as content: a sidecar title per language, the real type read from the bytes, a size limit, and the
release page and JSON API showing title, type and size."""

from __future__ import annotations

import io
import json
import os
import zipfile
from zoneinfo import ZoneInfo

import pytest

from newsroom.content.catalog import ContentError, load_catalog
from newsroom.media.attachments import BadAttachment, sniff
from sitebuilder import build_site, release, write_content

TZ = ZoneInfo("Europe/Helsinki")
DATE = "2026-01-10 12:00"
TITLES = "title:\n  fi: Asemakaava\n  sv: Detaljplan\n  en: Local plan\n"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _content(tmp_path, files: dict[str, bytes], releases: dict[str, str] | None = None):
    content = write_content(
        tmp_path / "content",
        releases
        or {
            "a.fi.md": release("Alku", DATE, Attachments="plan.pdf"),
            "a.sv.md": release("Början", DATE, lang="sv", Attachments="plan.pdf"),
        },
    )
    (content / "attachments").mkdir(exist_ok=True)
    for name, data in files.items():
        (content / "attachments" / name).write_bytes(data)
    return content


def _problems(content, **options) -> list[str]:
    return [str(p) for p in load_catalog(content, TZ, **options).problems]


def test_the_type_is_read_from_the_bytes_not_the_name():
    assert sniff(b"%PDF-1.7\n...", "plan.pdf").label == "PDF"
    assert sniff(_docx(), "plan.docx").label == "DOCX"
    assert sniff(b"nimi;osoite\nAino;Rantakatu 4\n", "list.csv").mime == "text/csv"
    with pytest.raises(
        BadAttachment, match="is of type DOCX by its contents, but its name ends in '.pdf'; rename it to 'plan.docx'"
    ):
        sniff(_docx(), "plan.pdf")
    with pytest.raises(BadAttachment, match="markup such as an HTML or SVG page"):
        sniff(b"<!DOCTYPE html><script>alert(1)</script>", "plan.pdf")
    with pytest.raises(BadAttachment, match="markup"):
        sniff(b"<svg onload='alert(1)'/>", "notes.txt")
    with pytest.raises(BadAttachment, match="a program"):
        sniff(b"MZ\x90\x00\x03" + bytes(100), "setup.pdf")


def test_a_release_shows_its_attachment_problems_at_its_field(tmp_path):
    content = _content(tmp_path, {"plan.pdf": b"<html><body>not a pdf</body></html>", "plan.yaml": TITLES.encode()})
    problems = _problems(content)
    assert f"{content}/attachments/plan.pdf: is not a file type the newsroom publishes" in "\n".join(problems)
    assert any(
        p.startswith(f"{content}/releases/a.fi.md:") and "Attachments: attachment 'plan.pdf' is not a file type" in p
        for p in problems
    )


def test_a_title_is_required_in_each_language_of_a_release_that_attaches_it(tmp_path):
    content = _content(tmp_path, {"plan.pdf": b"%PDF-1.4 plan", "plan.yaml": b"title:\n  fi: Asemakaava\n"})
    problems = _problems(content)
    sidecar = content / "attachments" / "plan.yaml"
    assert problems == [
        f"{content}/releases/a.sv.md:8: Attachments: attachment 'plan.pdf' has no title in sv; "
        f"add '  sv: ...' under 'title:' in {sidecar}"
    ]


def test_a_file_without_a_sidecar_and_a_sidecar_without_a_file_are_named(tmp_path):
    content = _content(tmp_path, {"plan.pdf": b"%PDF-1.4 plan", "old.yaml": TITLES.encode()})
    problems = _problems(content)
    assert f"{content}/attachments/plan.pdf: has no sidecar plan.yaml with its title in each language; add one" in (
        "\n".join(problems)
    )
    assert f"{content}/attachments/old.yaml:1: has no attachment beside it" in "\n".join(problems)
    assert any("a.fi.md" in p and "attachment 'plan.pdf' has no sidecar plan.yaml" in p for p in problems)


def test_the_size_limit_is_a_setting(tmp_path):
    content = _content(tmp_path, {"plan.pdf": b"%PDF-1.4\n" + bytes(1_200_000), "plan.yaml": TITLES.encode()})
    assert _problems(content) == []
    problems = _problems(content, attachment_max_mb=1)
    assert f"{content}/attachments/plan.pdf: is 1.2 MB, over the 1 MB limit for an attachment" in problems[0]
    with pytest.raises(ContentError, match="over the 1 MB limit"):
        build_site(content, tmp_path / "out", now="2026-02-01 12:00", settings={"NEWSROOM_ATTACHMENT_MAX_MB": 1})
    assert not (tmp_path / "out" / "attachments").exists()


def test_an_attachment_symlinked_from_outside_is_not_read(tmp_path):
    content = _content(tmp_path, {"plan.yaml": TITLES.encode()})
    (tmp_path / "secret.pdf").write_bytes(b"%PDF-1.4 private")
    os.symlink(tmp_path / "secret.pdf", content / "attachments" / "plan.pdf")
    problems = _problems(content)
    assert any(
        p.startswith(f"{content}/attachments/plan.pdf: ") and "outside the content folder" in p for p in problems
    )


@pytest.fixture(scope="module")
def attached(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("attached")
    releases = {
        f"a.{lang}.md": release(title, DATE, lang=lang, Attachments="plan.pdf, table.xlsx")
        for lang, title in (("fi", "Alku"), ("sv", "Början"), ("en", "Start"))
    }
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    files = {
        "plan.pdf": b"%PDF-1.4\n" + bytes(1_234_567),
        "plan.yaml": TITLES.encode(),
        "table.xlsx": xlsx.getvalue(),
        "table.yaml": b"title: Talousarvio 2027\n",
    }
    content = _content(tmp_path, files, releases)
    return build_site(content, tmp_path / "output", now="2026-02-01 12:00")


@pytest.mark.parametrize(
    ("lang", "slug", "title", "info"),
    [
        ("fi", "alku", "Asemakaava", "(PDF, 1,2 Mt)"),
        ("sv", "borjan", "Detaljplan", "(PDF, 1,2 MB)"),
        ("en", "start", "Local plan", "(PDF, 1.2 MB)"),
    ],
)
def test_the_release_page_shows_title_type_and_localised_size(attached, lang, slug, title, info):
    page = attached.html(f"{lang}/releases/{slug}/")
    items = page.select(".attachment-list li")
    link = items[0].a
    assert link.get_text() == title and link["href"] == "/attachments/plan.pdf" and link["type"] == "application/pdf"
    assert items[0].select_one(".file-info").get_text() == info
    assert items[1].a.get_text() == "Talousarvio 2027" and items[1].select_one(".file-info").get_text().startswith(
        "(XLSX, "
    )


def test_the_api_lists_title_media_type_and_size(attached):
    document = json.loads((attached.output / "api/releases.json").read_text())
    swedish = next(r for r in document["releases"] if r["language"] == "sv")
    assert swedish["attachments"][0] == {
        "name": "plan.pdf",
        "title": "Detaljplan",
        "url": swedish["attachments"][0]["url"],
        "type": "application/pdf",
        "size": 1_234_576,
    }
    assert swedish["attachments"][0]["url"].endswith("/attachments/plan.pdf")
