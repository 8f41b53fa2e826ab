"""Media lists in the desk over HTTP on loopback: an approver adds, removes and imports journalists (a bad CSV row
reported by its line), a release's distribution report after a real send to the test SMTP server, and the guards:
a POST without the session's CSRF token and a writer trying to change a list are refused and change nothing."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from newsroom.desk import accounts
from newsroom.mail import distribution, medialists, store
from newsroom.mail.medialists import Entry
from newsroom.mail.notify import NotifyConfig
from sitebuilder import release
from test_desk import NOW, PASSWORD, Desk, _axe, _csrf, _sign_in, browser  # noqa: F401  (browser: the fixture)

DOMAIN = "desk-press.example"
LANGS = ("fi", "sv", "en")


def _lists_desk(root: Path) -> Desk:
    """A desk with an approver, who may change the media lists."""
    running = Desk(root)
    conn = accounts.connect(accounts.db_path(running.settings))
    accounts.add(conn, "appro", "Ap Prover", "appro@testila.example", "approver", PASSWORD, datetime.fromisoformat(NOW))
    conn.close()
    return running


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    running = _lists_desk(tmp_path_factory.mktemp("desklists"))
    yield running
    running.stop()


def _members(desk, name: str) -> dict[str, str]:
    conn = store.connect(store.db_path(desk.settings))
    try:
        return {j.email: j.name for j in medialists.members(conn, name)}
    finally:
        conn.close()


def _actions(desk) -> list[str]:
    conn = accounts.connect(accounts.db_path(desk.settings))
    try:
        return [f"{a['username']} {a['action']} {a['detail']}" for a in accounts.recent_actions(conn)]
    finally:
        conn.close()


def test_an_approver_adds_and_removes_a_journalist_and_both_are_logged(desk):
    client = desk.client("appro")
    csrf = _csrf(client.get("/lists").text)
    form = {"csrf": csrf, "list": "culture-desk", "email": f"kaisa@{DOMAIN}", "name": "Kaisa Korhonen"}
    added = client.post("/lists/add", data={**form, "outlet": "Testilan Sanomat", "languages": ["fi", "sv"]})
    assert added.status_code == 303 and added.headers["location"] == "/lists/culture-desk?done=added"
    assert _members(desk, "culture-desk") == {f"kaisa@{DOMAIN}": "Kaisa Korhonen"}
    index = client.get("/lists").text
    assert re.search(r'href="/lists/culture-desk">culture-desk</a></td><td>1</td>', index), index
    page = client.get("/lists/culture-desk").text
    assert "Kaisa Korhonen" in page and "Testilan Sanomat" in page
    assert f"k…@{DOMAIN}" in page and f"kaisa@{DOMAIN}" not in page, "only administrators see full addresses"
    assert f"kaisa@{DOMAIN}" in desk.client("boss").get("/lists/culture-desk").text
    refused = client.post("/lists/add", data={**form, "email": "not an address", "languages": "fi"})
    assert refused.status_code == 422 and "Not saved" in refused.text
    journalist = re.search(r'name="journalist" value="(\d+)"', page)[1]
    removed = client.post("/lists/remove", data={"csrf": csrf, "list": "culture-desk", "journalist": journalist})
    assert removed.status_code == 303
    assert _members(desk, "culture-desk") == {}
    log = _actions(desk)
    assert f"appro added to media list culture-desk: k…@{DOMAIN}" in log
    assert f"appro removed from media list culture-desk: k…@{DOMAIN}" in log


def test_a_csv_import_reports_the_bad_row_by_its_line(desk):
    client = desk.client("appro")
    csrf = _csrf(client.get("/lists").text)
    sheet = (
        "email,name,outlet,languages,beats\n"
        f"sven@{DOMAIN},Sven Berg,Bladet,sv,kultur\n"
        f"broken@{DOMAIN},,Bladet,sv,\n"
        f"rita@{DOMAIN},Rita Ränn,Bladet,sv;fi,\n"
    )
    answer = client.post(
        "/lists/import",
        data={"csrf": csrf, "list": "regional-papers"},
        files={"file": ("papers.csv", io.BytesIO(sheet.encode()), "text/csv")},
    )
    assert answer.status_code == 422, answer.text
    assert "papers.csv:3: name: is empty" in answer.text
    assert "/tmp" not in answer.text, "the message names the uploaded file, not the scratch folder"
    assert set(_members(desk, "regional-papers")) == {f"sven@{DOMAIN}", f"rita@{DOMAIN}"}
    assert "appro imported to media list regional-papers: 2 added, 0 updated, 1 rows skipped" in _actions(desk)
    headless = client.post(
        "/lists/import",
        data={"csrf": csrf, "list": "regional-papers"},
        files={"file": ("bad.csv", io.BytesIO(b"address,who\nx@y.fi,X\n"), "text/csv")},
    )
    assert headless.status_code == 422 and "bad.csv: the first row must name the columns" in headless.text


def test_a_post_without_csrf_and_a_writer_changing_a_list_are_refused(desk):
    approver = desk.client("appro")
    form = {"list": "guarded", "email": f"guard@{DOMAIN}", "name": "Guard", "languages": "fi"}
    assert approver.post("/lists/add", data=form).status_code == 403
    assert approver.post("/lists/add", data={**form, "csrf": "forged"}).status_code == 403
    writer = desk.client("aino")
    csrf = _csrf(writer.get("/lists").text)
    assert writer.get("/lists").status_code == 200, "a writer may look"
    answer = writer.post("/lists/add", data={**form, "csrf": csrf})
    assert answer.status_code == 403 and "Your role does not allow this" in answer.text
    conn = store.connect(store.db_path(desk.settings))
    try:
        assert "guarded" not in medialists.names(conn)
    finally:
        conn.close()


def send_advance(desk, smtp_server, list_name: str, entries: list[Entry]) -> None:
    """A release 'news' with an advance to `list_name`, holding `entries`, sent to the test SMTP server (which
    refuses reject@ addresses with 550)."""
    text = release("Uutinen", "2026-03-05 09:00", release_id="news", Distribution=list_name, Advance="2026-03-01 08:00")
    (desk.content / "releases" / "news.fi.md").write_text(text, encoding="utf-8")
    conn = store.connect(store.db_path(desk.settings))
    for entry in entries:
        medialists.add(conn, list_name, entry, datetime.fromisoformat("2026-02-01T09:00+02:00"))
    conn.close()
    settings = desk.settings.replace(
        NEWSROOM_SMTP_URL=smtp_server.url,
        NEWSROOM_SUBSCRIBE_URL="https://subscribe.testila.example",
        NEWSROOM_MAIL_FROM="uutiset@testila.example",
    )
    sent = distribution.send_due(settings, NotifyConfig.from_settings(settings), datetime.fromisoformat(NOW))
    assert (sent.tally.sent, sent.tally.failed) == (1, 1)


def test_the_report_shows_who_was_sent_and_who_bounced(desk, smtp_server):
    people = [Entry.checked(f"{who}@{DOMAIN}", who.title(), "Lehti", ("fi",), (), LANGS) for who in ("ok", "reject")]
    send_advance(desk, smtp_server, "report-desk", people)
    page = desk.client("appro").get("/lists/report/news")
    assert page.status_code == 200
    assert "report-desk, advance (embargoed): 1 bounced, 1 sent" in page.text
    assert re.search(r"<td>bounced</td><td>Reject</td><td>Lehti</td><td>r…@" + DOMAIN + r"</td><td>550", page.text)
    assert "Nothing has been queued" in desk.client("aino").get("/lists/report/none").text


def test_the_list_pages_speak_finnish_and_swedish(desk):
    client = desk.client("appro")
    for lang, heading in (("fi", "Medialistat"), ("sv", "Medielistor")):
        client.get(f"/lang/{lang}?next=/lists")
        assert f"<h1>{heading}</h1>" in client.get("/lists").text


@pytest.fixture
def reported(tmp_path_factory, smtp_server):
    """A desk of its own with what the axe test visits: a list with members, one of them bounced, and its report."""
    running = _lists_desk(tmp_path_factory.mktemp("desklists-axe"))
    people = [Entry.checked(f"{who}@{DOMAIN}", who.title(), "Lehti", ("fi",), (), LANGS) for who in ("ok", "reject")]
    send_advance(running, smtp_server, "regional-papers", people)
    yield running
    running.stop()


@pytest.mark.browser
def test_the_list_pages_pass_axe(reported, browser, tmp_path):  # noqa: F811  (browser: test_desk's fixture)
    context = browser.new_context(locale="fi-FI", bypass_csp=True)  # the desk's CSP would refuse axe's own script
    page = context.new_page()
    _sign_in(page, reported, "appro")
    violations: list[str] = []
    for lang in ("fi", "sv", "en"):
        page.goto(f"{reported.url}/lang/{lang}?next=/lists")
        for url in ("/lists", "/lists/regional-papers", "/lists/report/news", "/lists/report/none", "/lists/nothing"):
            page.goto(f"{reported.url}{url}")
            violations += _axe(page)
    sheet = tmp_path / "rows.csv"
    sheet.write_text(f"email,name,outlet,languages,beats\nnew@{DOMAIN},,X,fi,\n", encoding="utf-8")
    page.goto(f"{reported.url}/lists/regional-papers")
    page.get_by_label("CSV file", exact=False).set_input_files(str(sheet))
    page.get_by_role("button", name="Import").click()
    assert "rows.csv:2: name: is empty" in page.content()
    violations += _axe(page)
    assert violations == [], json.dumps(violations, indent=1)
    context.close()
