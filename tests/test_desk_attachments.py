"""Attachment upload in the desk's editor: the same checks as the build (type from the bytes, size limit), titles in
every language before the file is taken, file and sidecar one commit by the user, and a refused upload that says why
at its field and keeps everything typed. Real desk on loopback; the browser test drives it in Chromium."""

from __future__ import annotations

import httpx
import pytest
import yaml
from playwright.sync_api import expect

from newsroom.cli.main import main
from sitebuilder import ROOT
from test_attachments import _docx
from test_desk import Desk, _csrf, _editor_form, _git, _sign_in, browser  # noqa: F401 (browser is a fixture)

TITLES = {"fi": "Talousarvio 2027", "sv": "Budget 2027", "en": "Budget 2027"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    running = Desk(tmp_path_factory.mktemp("desk-attach"), NEWSROOM_ATTACHMENT_MAX_MB=1)
    yield running
    running.stop()


def _attach(client: httpx.Client, name: str, data: bytes, **changes: str) -> httpx.Response:
    """The editor of the Finnish release as typed (lead changed, not saved) with an upload."""
    form = _editor_form(client.get("/edit/tri/fi").text)
    form.update({"lead": "Kirjoitettu mutta tallentamatta.", "action": "attach"})
    form.update({f"attachment_title_{lang}": title for lang, title in TITLES.items()})
    form.update(changes)
    return client.post("/edit/tri/fi", data=form, files={"attachment_file": (name, data, "application/pdf")})


def _commits(desk: Desk) -> int:
    return int(_git(desk.root, "rev-list", "--count", "HEAD"))


def test_a_refused_upload_says_why_at_the_file_field_and_keeps_what_was_typed(desk):
    client = desk.client()
    before = _commits(desk)
    cases = [
        ("plan.pdf", b"<!DOCTYPE html><script>alert(1)</script>", "The contents of plan.pdf are not of a type"),
        ("plan.pdf", _docx(), "The contents of plan.pdf are DOCX, but its name ends in .pdf"),
        ("plan.pdf", b"%PDF-1.4\n" + bytes(1_100_000), "The file is 1.1 MB; an attachment may be at most 1 MB."),
    ]
    for name, data, why in cases:
        answer = _attach(client, name, data)
        assert answer.status_code == 422, answer.text
        field = answer.text[answer.text.index('id="upload-attachment_file"') :]
        assert field.startswith(f'id="upload-attachment_file"><p>{why}'), field[:300]
        assert "Kirjoitettu mutta tallentamatta." in answer.text, "the lead typed is kept"
        assert 'value="Talousarvio 2027"' in answer.text, "and the titles typed"
        assert 'aria-invalid="true"' in answer.text[answer.text.index('id="f-attachment_file"') - 100 :][:400]
    assert sorted(p.name for p in (desk.content / "attachments").glob("*")) == []
    assert _commits(desk) == before
    assert "Lead of Julkinen tiedote." in (desk.content / "releases" / "tri.fi.md").read_text(), "nothing saved"


def test_titles_in_every_language_are_required_before_the_file_is_taken(desk):
    client = desk.client()
    answer = _attach(client, "budjetti.pdf", b"%PDF-1.4 budget", attachment_title_sv="")
    assert answer.status_code == 422
    assert 'id="upload-attachment_title_sv"><p>Give the title in this language.' in answer.text
    assert 'value="Talousarvio 2027"' in answer.text
    assert not (desk.content / "attachments" / "budjetti.pdf").exists()


def test_an_upload_is_written_with_its_sidecar_and_committed_by_the_user(desk, capsys):
    client = desk.client()
    answer = _attach(client, "Budjetti 2027.pdf", b"%PDF-1.4 the budget")
    assert answer.status_code == 200, answer.text
    folder = desk.content / "attachments"
    assert (folder / "budjetti-2027.pdf").read_bytes() == b"%PDF-1.4 the budget"
    assert yaml.safe_load((folder / "budjetti-2027.yaml").read_text()) == {"title": TITLES}
    log = _git(desk.root, "log", "-1", "--format=%an <%ae>|%s", "--name-only")
    assert log.startswith(
        "Aino Lehtonen <aino@testila.example>|New attachment budjetti-2027.pdf (PDF): Talousarvio 2027"
    )
    assert "content/attachments/budjetti-2027.pdf" in log and "content/attachments/budjetti-2027.yaml" in log
    assert "Kirjoitettu mutta tallentamatta." in answer.text, "the release as typed, still to be saved"
    assert 'name="attachments" value="budjetti-2027.pdf" checked' in answer.text
    assert "Talousarvio 2027" in answer.text and "PDF" in answer.text

    again = _attach(client, "budjetti 2027.pdf", b"%PDF-1.4 another")
    assert again.status_code == 200 and (folder / "budjetti-2027-2.pdf").is_file(), "a taken name gets a number"

    form = _editor_form(answer.text)
    form.update(action="draft", attachments=["budjetti-2027.pdf"])
    assert client.post("/edit/tri/fi", data=form).status_code == 303
    saved = (desk.content / "releases" / "tri.fi.md").read_text()
    assert "Attachments: budjetti-2027.pdf" in saved and "Lead: Kirjoitettu mutta tallentamatta." in saved
    assert main(["--settings", str(ROOT / "pelicanconf.py"), "check", "--content", str(desk.content)]) == 0
    capsys.readouterr()


@pytest.mark.browser
def test_a_writer_uploads_an_attachment_in_the_editor(desk, browser, tmp_path):  # noqa: F811
    context = browser.new_context(locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, desk)
    page.goto(f"{desk.url}/edit/tri/sv")
    page.get_by_label("Ingressi").fill("Skrivet men inte sparat.")
    wrong = tmp_path / "karta.pdf"
    wrong.write_bytes(b"<html><body>not a map</body></html>")
    page.get_by_label("Tiedosto: PDF").set_input_files(str(wrong))
    for lang, title in (("Suomi", "Kartta"), ("Svenska", "Karta"), ("English", "Map")):
        page.get_by_label(f"Liitteen nimi ({lang})").fill(title)
    page.get_by_role("button", name="Lataa liite").click()
    expect(page.get_by_role("alert")).to_contain_text("Liitettä ei ladattu")
    expect(page.locator("#upload-attachment_file")).to_contain_text(
        "Tiedoston karta.pdf sisältö ei ole mitään uutishuoneen julkaisemaa tyyppiä"
    )
    expect(page.get_by_label("Ingressi")).to_have_value("Skrivet men inte sparat.")
    expect(page.get_by_label("Liitteen nimi (Svenska)")).to_have_value("Karta")

    right = tmp_path / "karta.pdf"
    right.write_bytes(b"%PDF-1.4 the map")
    page.get_by_label("Tiedosto: PDF").set_input_files(str(right))
    page.get_by_role("button", name="Lataa liite").click()
    expect(page.get_by_role("status").first).to_contain_text("karta.pdf")
    expect(page.get_by_label("Ingressi")).to_have_value("Skrivet men inte sparat.")
    expect(page.get_by_label("Karta (karta.pdf, PDF, 1 kt)")).to_be_checked()
    page.get_by_role("button", name="Tallenna luonnoksena").click()
    expect(page.get_by_role("status").first).to_contain_text("Tallennettu")
    saved = (desk.content / "releases" / "tri.sv.md").read_text()
    assert "Attachments: karta.pdf" in saved and "Lead: Skrivet men inte sparat." in saved
    context.close()
