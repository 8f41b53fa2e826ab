"""The desk on real servers on loopback: a writer drives it in headless Chromium (Playwright) from sign-in to a
scheduled, previewed, bilingual release that `newsroom check` accepts; the guards (CSRF, origin, roles, a file
changed meanwhile, sign-in limits, a script in a body) are tried against it as an attacker would; axe-core checks
every desk page for WCAG 2.1 A/AA."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
import yaml
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from newsroom.build.run import BuildOptions, load_settings
from newsroom.cli.main import main
from newsroom.desk import accounts, app, preview
from sitebuilder import ROOT, build_site, release, write_content
from test_browser import AXE, CHROMIUM, CHROMIUM_FLAGS, WCAG_TAGS

NOW = "2026-03-01T09:00+02:00"
TZ = ZoneInfo("Europe/Helsinki")
PASSWORD = "correct horse battery"
ARTIFACTS = ROOT / "test-artifacts" / "desk"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(asgi, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    return server


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


class Desk:
    def __init__(self, root: Path, port: int = 0, **extra: str):
        self.root = root
        self.content = write_content(
            root / "content",
            {
                "tri.fi.md": release("Julkinen tiedote", "2026-01-10 12:00", release_id="tri", Keywords="kirjastot"),
                "tri.sv.md": release("Offentligt meddelande", "2026-01-10 12:00", lang="sv", release_id="tri"),
            },
        )
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "commit", "-qm", "Content")
        self.port, self.preview_port = port or _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.preview_url = f"http://127.0.0.1:{self.preview_port}"
        settings = load_settings(BuildOptions(ROOT / "pelicanconf.py", self.content, root / "output", now=NOW))
        self.settings = settings.replace(
            NEWSROOM_STATE_DIR=str(root / "var"),
            NEWSROOM_DESK_URL=self.url,
            NEWSROOM_DESK_PREVIEW_URL=self.preview_url,
            **extra,
        )
        conn = accounts.connect(accounts.db_path(self.settings))
        now = datetime.fromisoformat(NOW)
        accounts.add(conn, "aino", "Aino Lehtonen", "aino@testila.example", "writer", PASSWORD, now)
        accounts.add(conn, "boss", "Bo Ss", "boss@testila.example", "admin", PASSWORD, now)
        conn.close()
        self.servers = [
            _serve(app.create_app(self.settings), self.port),
            _serve(preview.create_preview_app(self.settings), self.preview_port),
        ]

    def client(self, username: str = "aino") -> httpx.Client:
        """An HTTP client signed in as `username`, sending the desk's Origin like a browser on its pages."""
        client = httpx.Client(base_url=self.url, headers={"origin": self.url, "accept-language": "en"})
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        answer = client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD, "next": "/"})
        assert answer.status_code == 303, answer.text
        return client

    def stop(self) -> None:
        for server in self.servers:
            server.should_exit = True


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    running = Desk(tmp_path_factory.mktemp("desk"))
    yield running
    running.stop()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def _editor_form(html: str) -> dict:
    """The editor's fields as the browser would send them (text inputs, textareas, checked boxes)."""
    form = html[html.index('id="editor"') :]
    data: dict = {"csrf": _csrf(form), "blob": re.search(r'name="blob" value="([^"]*)"', form)[1]}
    for name, value in re.findall(r'<input id="f-\w+" name="(\w+)" value="([^"]*)"', form):
        data[name] = value
    for name in ("lang", "release"):
        data[name] = re.search(rf'name="{name}" value="([^"]*)"', form)[1]
    for name, value in re.findall(r'<textarea id="f-\w+" name="(\w+)"[^>]*>([^<]*)</textarea>', form):
        data[name] = value.replace("&#39;", "'").replace("&amp;", "&")
    data["type"] = re.search(r'<option value="([\w-]+)" selected>', form)[1]
    data["contacts"] = re.findall(r'name="contacts" value="([^"]+)" checked', form)
    return data


# --- accounts and guards (HTTP) ---------------------------------------------------------------


def test_users_command_adds_lists_resets_and_removes(desk, capsys, monkeypatch):
    settings_args = ["--settings", str(ROOT / "pelicanconf.py"), "desk", "users"]
    monkeypatch.setenv("NEWSROOM_STATE_DIR", str(desk.root / "cli-var"))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long enough secret\n"))
    assert main([*settings_args, "add", "kim", "--name", "Kim K", "--role", "approver", "--password-stdin"]) == 0
    assert main([*settings_args, "list"]) == 0
    assert "kim approver local Kim K" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    assert main([*settings_args, "reset", "kim", "--password-stdin"]) == 2
    assert "too short" in capsys.readouterr().err
    conn = accounts.connect(desk.root / "cli-var" / accounts.DB_NAME)
    stored = conn.execute("SELECT password FROM users WHERE username = 'kim'").fetchone()[0]
    assert stored.startswith("$argon2id$") and "a long enough secret" not in stored
    assert accounts.authenticate(conn, "kim", "a long enough secret").role == "approver"
    assert main([*settings_args, "remove", "kim"]) == 0
    assert accounts.every(conn) == []


def test_session_cookie_is_httponly_strict_and_sessions_expire(desk):
    client = httpx.Client(base_url=desk.url, headers={"origin": desk.url})
    token = _csrf(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "username": "aino", "password": PASSWORD, "next": "/"})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    session_id = answer.cookies["desk_session"]
    conn = accounts.connect(accounts.db_path(desk.settings))
    stored = [row[0] for row in conn.execute("SELECT hash FROM sessions")]
    assert session_id not in stored, "only a hash of the session id is kept"
    expires = conn.execute("SELECT created_at, expires_at FROM sessions WHERE purpose = 'desk'").fetchall()[-1]
    opened = accounts.store.unstamp(expires["created_at"])
    assert accounts.store.unstamp(expires["expires_at"]) - opened == timedelta(hours=accounts.SESSION_HOURS)
    assert accounts.session(conn, session_id, opened + timedelta(minutes=1)) is not None
    assert accounts.session(conn, session_id, opened + timedelta(hours=accounts.SESSION_HOURS, seconds=1)) is None


def test_posts_without_the_csrf_token_or_from_another_origin_are_refused(desk):
    client = desk.client()
    before = (desk.content / "releases" / "tri.fi.md").read_text()
    form = _editor_form(client.get("/edit/tri/fi").text)
    assert client.post("/edit/tri/fi", data={**form, "csrf": "forged", "title": "Hacked"}).status_code == 403
    foreign = client.post("/edit/tri/fi", data={**form, "title": "Hacked"}, headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403
    sibling = client.post("/edit/tri/fi", data={**form, "title": "Hacked"}, headers={"origin": desk.preview_url})
    assert sibling.status_code == 403, "the preview origin cannot post to the desk either"
    assert (desk.content / "releases" / "tri.fi.md").read_text() == before
    assert httpx.post(f"{desk.url}/edit/tri/fi", data=form, headers={"origin": desk.url}).status_code == 403


def test_a_writer_cannot_act_as_admin(desk):
    client = desk.client("aino")
    assert client.get("/users").status_code == 403
    csrf = _csrf(client.get("/").text)
    assert client.post("/users/remove", data={"csrf": csrf, "username": "boss"}).status_code == 403
    conn = accounts.connect(accounts.db_path(desk.settings))
    assert [u.username for u in accounts.every(conn)] == ["aino", "boss"]
    admin = desk.client("boss")
    assert "aino" in admin.get("/users").text


def test_sign_in_is_rate_limited(desk):
    client = httpx.Client(base_url=desk.url, headers={"origin": desk.url})
    token = _csrf(client.get("/login").text)
    codes = [
        client.post("/login", data={"csrf": token, "username": "nobody", "password": "wrong guess!!"}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [401] * 5 and codes[-1] == 429


def test_an_edit_of_a_file_changed_since_it_was_opened_is_refused_with_both_versions(desk):
    client = desk.client()
    form = _editor_form(client.get("/edit/tri/sv").text)
    path = desk.content / "releases" / "tri.sv.md"
    theirs = path.read_text().replace("Offentligt meddelande", "Ändrat utanför desken")
    path.write_text(theirs)
    _git(desk.root, "-c", "user.name=Dev", "-c", "user.email=dev@example.org", "commit", "-qam", "Outside edit")
    answer = client.post("/edit/tri/sv", data={**form, "title": "Min version", "action": "draft"})
    assert answer.status_code == 409
    assert "Ändrat utanför desken" in answer.text and "Title: Min version" in answer.text
    assert path.read_text() == theirs, "never overwritten"


def test_history_shows_every_save_and_restores_an_earlier_version(desk):
    client = desk.client()
    path = desk.content / "releases" / "tri.fi.md"
    first = path.read_text()
    form = _editor_form(client.get("/edit/tri/fi").text)
    assert client.post("/edit/tri/fi", data={**form, "lead": "Uusi ingressi.", "action": "draft"}).status_code == 303
    assert "Lead: Uusi ingressi." in path.read_text()
    history = client.get("/history/tri/fi").text
    shas = re.findall(r"\?sha=([0-9a-f]{40})", history)
    assert "Lead, now draft" in history and len(shas) >= 2
    shown = client.get(f"/history/tri/fi?sha={shas[-1]}").text
    blob = re.search(r'name="blob" value="([^"]+)"', shown)[1]
    restored = client.post("/restore/tri/fi", data={"csrf": _csrf(shown), "sha": shas[-1], "blob": blob})
    assert restored.status_code == 303
    assert path.read_text() == first
    assert "restored the version of" in _git(desk.root, "log", "-1", "--format=%s")


def _upload(client: httpx.Client, data: bytes, image_id: str, **fields: str) -> httpx.Response:
    values = {
        "csrf": _csrf(client.get("/images").text),
        "id": image_id,
        "photographer": "Kuvaaja Kuvitteellinen",
        "licence": "CC BY 4.0",
        **{f"alt_{lang}": f"Alt {lang}" for lang in ("fi", "sv", "en")},
        **{f"caption_{lang}": f"Caption {lang}" for lang in ("fi", "sv", "en")},
        **fields,
    }
    return client.post("/images", data=values, files={"file": ("photo.jpg", data, "image/jpeg")})


def _png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def test_uploads_are_checked_like_the_build_checks_pictures(desk):
    client = desk.client()
    images = desk.content / "images"
    text = _upload(client, b"GIF89a... this is text, not a picture", "fake")
    assert text.status_code == 422 and "not a JPEG, PNG or WebP picture" in text.text
    bomb = _upload(client, _png((20_000, 10_000), "1"), "bomb")
    assert bomb.status_code == 422 and "pixels" in bomb.text
    no_alt = _upload(client, _png((64, 48)), "harbour", alt_sv="")
    assert no_alt.status_code == 422 and 'id="err-alt_sv"><p>' in no_alt.text
    assert 'value="Kuvaaja Kuvitteellinen"' in no_alt.text, "what was typed is kept"
    assert not any(images.glob("fake.*")) and not any(images.glob("bomb.*")) and not any(images.glob("harbour.*"))
    saved = _upload(client, _png((64, 48)), "harbour")
    assert saved.status_code == 303
    assert (images / "harbour.png").is_file(), "named by its sniffed type, not by the uploaded name"
    card = yaml.safe_load((images / "harbour.yaml").read_text())
    assert card["alt"] == {"fi": "Alt fi", "sv": "Alt sv", "en": "Alt en"} and card["licence"] == "CC BY 4.0"
    assert (
        _git(desk.root, "log", "-1", "--format=%an|%s")
        == "Aino Lehtonen|New image harbour (Kuvaaja Kuvitteellinen, CC BY 4.0)\n"
    )


def test_contact_cards_are_edited_and_checked(desk):
    client = desk.client()
    page = client.get("/contacts/ville-virtanen").text
    form = dict(re.findall(r'name="(\w+)"(?: lang="\w+")? value="([^"]*)"', page))
    form.update(csrf=_csrf(page), photo="")
    bad = client.post("/contacts/ville-virtanen", data={**form, "email": "not an address"})
    assert bad.status_code == 422 and "is not an email address" in bad.text
    good = client.post("/contacts/ville-virtanen", data={**form, "phone": "+358 40 555 0199"})
    assert good.status_code == 303
    card = yaml.safe_load((desk.content / "contacts" / "ville-virtanen.yaml").read_text())
    assert card["phone"] == "+358 40 555 0199" and card["title"]["sv"] == "informatör"
    again = client.post("/contacts/ville-virtanen", data={**form, "phone": "+358 40 555 0100"})
    assert again.status_code == 409, "the form's version is stale after the save"


def test_a_correction_of_a_public_release_needs_a_note_and_is_shown_on_the_page(desk, tmp_path):
    client = desk.client()
    path = desk.content / "releases" / "tri.fi.md"
    page = client.get("/edit/tri/fi").text
    assert 'name="correction_notify" value="yes">' in page, "telling subscribers is off unless chosen"
    form = _editor_form(page)
    before = path.read_text()
    unnoted = client.post("/edit/tri/fi", data={**form, "lead": "Korjattu ingressi.", "action": "schedule"})
    assert unnoted.status_code == 422 and 'id="problem-correction">\n<p>' in unnoted.text
    assert path.read_text() == before
    note = "Aukioloaika korjattu: kirjasto avautuu kello 9."
    saved = client.post(
        "/edit/tri/fi", data={**form, "lead": "Korjattu ingressi.", "correction": note, "action": "schedule"}
    )
    assert saved.status_code == 303
    text = path.read_text()
    assert f"Correction: {note}" in text and "Modified: 2026-03-01 09:00" in text and "Correction-Notify: no" in text
    assert "Status: published" in text
    subject = _git(desk.root, "log", "-1", "--format=%s")
    assert "corrected" in subject and "subscribers not told" in subject
    site = build_site(desk.content, tmp_path / "site", now=NOW)
    shown = site.html("fi/releases/julkinen-tiedote/").select_one(".release__correction")
    assert shown is not None and "Korjattu" in shown.text and note in shown.text
    assert shown.time["datetime"].startswith("2026-03-01T09:00")


# --- the writer in a browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists() or not AXE.exists():
        pytest.fail("Chromium (/usr/bin/chromium) or axe-core (node_modules) is missing: `make test` installs both")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _axe(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [f"{page.url}: {v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]


def _sign_in(page: Page, desk: Desk, username: str = "aino") -> None:
    page.goto(f"{desk.url}/login")
    page.get_by_label("Käyttäjätunnus").fill(username)
    page.get_by_label("Salasana").fill(PASSWORD)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    expect(page.get_by_role("heading", name="Tiedotteet", level=1)).to_be_visible()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_a_writer_writes_checks_translates_previews_and_schedules_a_release(desk, browser, capsys):
    context = browser.new_context(locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, desk)
    _shot(page, "board")
    photo = desk.root / "uimahalli.jpg"
    Image.new("RGB", (800, 600), "teal").save(photo, "JPEG")
    page.get_by_role("link", name="Kuvat").click()
    page.get_by_label("Kuva (JPEG").set_input_files(str(photo))
    page.get_by_label("Kuvan nimi").fill("uimahalli-allas")
    page.get_by_label("Kuvaaja tai muu tekijä").fill("Leena Saarinen")
    for lang, alt in (("fi", "Tyhjä uima-allas"), ("sv", "En tom simbassäng"), ("en", "An empty pool")):
        fieldset = page.locator(f"fieldset[lang={lang}]")
        fieldset.get_by_label("Vaihtoehtoinen teksti").fill(alt)
        fieldset.get_by_label("Kuvateksti").fill(alt + ".")
    page.get_by_role("button", name="Lataa ja tallenna").click()
    expect(page.get_by_role("status")).to_contain_text("uimahalli-allas")
    page.get_by_role("link", name="Uusi tiedote").first.click()
    page.get_by_label("Otsikko").fill("Uimahalli avautuu keväällä")
    page.get_by_role("button", name="Aloita tiedote").click()
    expect(page.get_by_label("Otsikko")).to_have_value("Uimahalli avautuu keväällä")
    # The editor's live check is htmx's (a deferred script): text typed before it has run is checked only at the
    # next edit. On a loaded machine the test typed that soon, and the message never came (three failed runs).
    page.wait_for_load_state("load")

    # A time the clocks skip (the DST night): the message appears at the field while typing, not at save. The check
    # reads the content on the server, which takes seconds on a loaded two-core machine, hence the long wait.
    page.get_by_label("Julkaisuaika (Europe/Helsinki)").fill("2026-03-29 03:30")
    expect(page.locator("#problem-date")).to_contain_text(
        "ei ole olemassa aikavyöhykkeellä Europe/Helsinki", timeout=30_000
    )
    page.get_by_label("Ingressi").fill("Uusi uimahalli avautuu huhtikuussa.")
    page.get_by_label("Ville Virtanen, tiedottaja").check()
    page.get_by_label("uimahalli-allas: Tyhjä uima-allas").check()
    body = page.get_by_label("Teksti (Markdown)")
    body.fill("Uimahalli avautuu.\n\nAltaita on kolme.")
    body.press("Control+End")
    page.get_by_role("button", name="Väliotsikko").click()
    expect(page.frame_locator("#body-preview").locator("h2")).to_have_text("Altaita on kolme.", timeout=10_000)
    expect(page.frame_locator("#body-preview").locator("p").first).to_have_text("Uimahalli avautuu.")
    _shot(page, "editor-with-problem")
    page.get_by_role("button", name="Ajasta julkaisuaikaan").click()
    expect(page.get_by_role("alert")).to_contain_text("Ei ajastettu")
    expect(page.locator("#problem-date")).to_contain_text("kelloja siirretään sinä yönä eteenpäin")
    page.get_by_label("Julkaisuaika (Europe/Helsinki)").fill("2026-03-30 09:00")
    page.get_by_role("button", name="Ajasta julkaisuaikaan").click()
    expect(page.get_by_role("status").first).to_contain_text("Ajastettu")

    path = desk.content / "releases" / "uimahalli-avautuu-kevaalla.fi.md"
    text = path.read_text()
    for line in (
        "Date: 2026-03-30 09:00",
        "Lang: fi",
        "Contacts: ville-virtanen",
        "Images: uimahalli-allas",
        "Status: published",
        "## Altaita on kolme.",
    ):
        assert line in text
    sidecar = yaml.safe_load((desk.content / "images" / "uimahalli-allas.yaml").read_text())
    assert sidecar["photographer"] == "Leena Saarinen" and sidecar["alt"]["sv"] == "En tom simbassäng"
    assert (desk.content / "images" / "uimahalli-allas.jpg").is_file()
    author = _git(desk.root, "log", "-1", "--format=%an <%ae>|%s", "--", str(path))
    assert author.startswith("Aino Lehtonen <aino@testila.example>|Uimahalli avautuu keväällä (fi):")
    assert "public from 2026-03-30 09:00" in author

    # The Swedish version starts from the shared fields and is scheduled beside the Finnish one.
    page.get_by_role("button", name="Lisää kieliversio: svenska").click()
    expect(page.get_by_role("heading", name="Uimahalli avautuu keväällä", level=1)).to_be_visible()
    _shot(page, "side-by-side")
    page.get_by_role("link", name="Muokkaa").nth(1).click()
    page.get_by_label("Otsikko").fill("Simhallen öppnar i vår")
    page.get_by_label("Ingressi").fill("Den nya simhallen öppnar i april.")
    page.get_by_label("Teksti (Markdown)").fill("Simhallen öppnar.")
    page.get_by_role("button", name="Ajasta julkaisuaikaan").click()
    expect(page.get_by_role("status").first).to_contain_text("Ajastettu")
    swedish = (desk.content / "releases" / "uimahalli-avautuu-kevaalla.sv.md").read_text()
    assert "Title: Simhallen öppnar i vår" in swedish and "Contacts: ville-virtanen" in swedish
    assert "Date: 2026-03-30 09:00" in swedish and "Status: published" in swedish

    # The preview: the real theme from the second origin, marked as a preview.
    page.get_by_role("button", name="Esikatsele").click()
    page.wait_for_url(f"{desk.preview_url}/p/*/sv/releases/**", timeout=60_000)
    expect(page.get_by_role("heading", name="Simhallen öppnar i vår", level=1)).to_be_visible()
    assert "Ville Virtanen" in page.content()
    picture = page.locator(".release img").first
    expect(picture).to_have_attribute("alt", "En tom simbassäng")
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0"), "the sandboxed preview loads its pictures"
    assert page.evaluate("getComputedStyle(document.body).margin") != "8px", "and its styles (not the browser's)"
    _shot(page, "preview")

    page.goto(f"{desk.url}/")
    row = page.get_by_role("row").filter(has_text="Uimahalli avautuu keväällä")
    expect(row).to_contain_text("Ajastettu")
    expect(row).to_contain_text("30.03.2026 09:00 EEST")
    expect(row).to_contain_text("Puuttuu")

    assert main(["--settings", str(ROOT / "pelicanconf.py"), "check", "--content", str(desk.content)]) == 0
    assert "All good" in capsys.readouterr().out
    context.close()


@pytest.mark.browser
def test_a_script_in_a_body_does_not_run_in_the_desks_origin(desk, browser):
    client = desk.client()
    csrf = _csrf(client.get("/new").text)
    client.post("/new", data={"csrf": csrf, "type": "news", "lang": "fi", "title": "Skriptitesti"})
    form = _editor_form(client.get("/edit/skriptitesti/fi").text)
    script = "<script>document.documentElement.dataset.ran = String(window.origin);</script>"
    body = f"Teksti.\n\n{script}\n\n<img src=x onerror=\"document.documentElement.dataset.img = 'ran'\">"
    assert client.post("/edit/skriptitesti/fi", data={**form, "body": body, "action": "draft"}).status_code == 303

    context = browser.new_context(locale="fi-FI")
    page = context.new_page()
    _sign_in(page, desk)
    page.goto(f"{desk.url}/edit/skriptitesti/fi")
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.dataset.ran") is None
    assert page.evaluate("document.documentElement.dataset.img") is None
    frame = page.frame_locator("#body-preview")
    assert frame.locator("html").get_attribute("data-ran") is None, "the live preview frame runs no script"
    page.get_by_role("button", name="Esikatsele").click()
    page.wait_for_url(f"{desk.preview_url}/p/**", timeout=60_000)
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.dataset.ran") == "null", "a preview script runs in no origin"
    policy = httpx.get(page.url).headers["content-security-policy"]
    assert policy.startswith("sandbox") and "allow-same-origin" not in policy
    key = re.search(r"/p/([^/]+)/", page.url)[1]
    assert httpx.get(page.url.replace(key, "guessed" + key[7:])).status_code == 403, "only the desk hands out the key"
    assert httpx.get(f"{desk.preview_url}/fi/").status_code == 403
    context.close()


@pytest.mark.browser
def test_every_desk_page_passes_axe(desk, browser):
    context = browser.new_context(locale="fi-FI", bypass_csp=True)  # the desk's CSP would refuse axe's own script
    page = context.new_page()
    page.goto(f"{desk.url}/login")
    violations = _axe(page)
    _sign_in(page, desk, "boss")
    for lang in ("fi", "sv", "en"):
        page.goto(f"{desk.url}/lang/{lang}?next=/")
        for url in (
            "/",
            "/new",
            "/edit/tri/fi",
            "/release/tri",
            "/history/tri/fi",
            "/users",
            "/images",
            "/contacts",
            "/contacts/ville-virtanen",
            "/edit/none/fi",
        ):
            page.goto(f"{desk.url}{url}")
            violations += _axe(page)
    history = page.goto(f"{desk.url}/history/tri/fi")
    assert history.ok
    sha = re.findall(r"\?sha=([0-9a-f]{40})", page.content())[0]
    page.goto(f"{desk.url}/history/tri/fi?sha={sha}")
    violations += _axe(page)
    assert violations == [], json.dumps(violations, indent=1)
    context.close()


# --- single sign-on against a real OpenID Connect provider ----------------------------------------


@pytest.fixture(scope="module")
def sso_desk(tmp_path_factory):
    """A desk whose sign-in goes through node's oidc-provider on loopback; groups map to roles."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("node and oidc-provider (npm ci) are needed: `make test` installs them")
    provider_port = _free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    root = tmp_path_factory.mktemp("sso-desk")
    desk_port = _free_port()
    redirect = f"http://127.0.0.1:{desk_port}/login/oidc/callback"
    provider = subprocess.Popen(
        [node, str(ROOT / "tests" / "oidc_provider.mjs"), str(provider_port), "desk", "desk-secret", redirect],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert provider.stdout.readline().strip() == b"ready"
        running = Desk(
            root,
            port=desk_port,
            NEWSROOM_DESK_OIDC_ISSUER=issuer,
            NEWSROOM_DESK_OIDC_CLIENT_ID="desk",
            NEWSROOM_DESK_OIDC_CLIENT_SECRET="desk-secret",
        )
        yield running
        running.stop()
    finally:
        provider.terminate()
        provider.wait(10)


def _sso(page: Page, desk: Desk, login: str) -> None:
    page.goto(f"{desk.url}/login")
    page.get_by_role("link", name="Kirjaudu organisaation tunnuksella").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


@pytest.mark.browser
def test_single_sign_on_maps_the_providers_groups_to_roles(sso_desk, browser):
    context = browser.new_context(locale="fi-FI")
    page = context.new_page()
    _sso(page, sso_desk, "sanna")
    expect(page.get_by_role("heading", name="Tiedotteet", level=1)).to_be_visible()
    expect(page.get_by_text("Sanna Single (kirjoittaja)")).to_be_visible()
    conn = accounts.connect(accounts.db_path(sso_desk.settings))
    sanna = accounts.get(conn, "sanna")
    assert (sanna.source, sanna.role, sanna.email) == ("oidc", "writer", "sanna.sso@testila.example")
    assert page.goto(f"{sso_desk.url}/users").status == 403, "a writer from single sign-on is no admin"
    context.close()

    stranger = browser.new_context(locale="fi-FI").new_page()
    _sso(stranger, sso_desk, "olli")
    expect(stranger.get_by_role("alert")).to_contain_text("ei ole roolia")
    assert [u.username for u in accounts.every(conn)] == ["aino", "boss", "sanna"]
    stranger.context.close()


def test_a_sign_on_answer_without_the_browsers_state_is_refused(sso_desk):
    client = httpx.Client(base_url=sso_desk.url, headers={"accept-language": "en"})
    started = client.get("/login/oidc")
    assert started.status_code == 303 and started.headers["location"].startswith("http://127.0.0.1:")
    state = re.search(r"state=([^&]+)", started.headers["location"])[1]
    forged = httpx.get(
        f"{sso_desk.url}/login/oidc/callback?state={state}&code=stolen", headers={"accept-language": "en"}
    )
    assert forged.status_code == 403 and "another browser" in forged.text
    assert "desk_session" not in forged.cookies
