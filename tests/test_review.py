"""Review before release and journalists' embargoed previews, on a real desk and preview origin on loopback, with
mail to the real SMTP sink and (browser tests) a fresh Chromium context that has no desk session.

Proves: a review link opens the release in the real theme with the review banner and decides only by POST (GET
changes nothing, a forged or cross-origin POST is refused); the decision is recorded with its commit and an edit
withdraws it; "required" keeps an unapproved release out of a real publish at its time, tells the writer once,
and lets it out at the next pass after approval; a press link shows the EMBARGO banner in the reader's language,
records each opening, is refused after revocation (403) and after expiry (410); links are single-purpose; and no
public build or search index holds a trace of a shared release before its lift.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from newsroom.build.audit import audit
from newsroom.content.catalog import catalog_for
from newsroom.desk import accounts, preview
from newsroom.mail import approvals, distribution, medialists, sharelinks, store
from newsroom.mail.medialists import Entry
from newsroom.mail.notify import NotifyConfig
from newsroom.publishing.publish import publish_at
from newsroom.publishing.publisher import Publisher
from newsroom.publishing.schedule import Clock
from sitebuilder import release
from test_desk import NOW, PASSWORD, TZ, Desk, _csrf, _git, _serve, _free_port, browser  # noqa: F401

DOMAIN = "review-sink.example"
LIFT = "2027-01-05 09:00"
LIFT_AT = datetime(2027, 1, 5, 9, 0, tzinfo=TZ)
TITLE_FI, TITLE_SV = "Kirjasto avaa yölainaamon", "Biblioteket öppnar nattlån"
SECRET_WORD = "Yölainaamosalaisuus"


def _mail_settings(root: Path, smtp_url: str, **extra) -> dict:
    return {
        "NEWSROOM_SMTP_URL": smtp_url,
        "NEWSROOM_MAIL_FROM": f"uutiset@{DOMAIN}",
        "NEWSROOM_SUBSCRIBE_URL": "https://subscribe.testila.example",
        "NEWSROOM_DEPLOY": str(root / "site"),
        **extra,
    }


def _add_embargoed(desk: Desk, release_id: str = "yo", author: str = f"aino@{DOMAIN}") -> None:
    releases = desk.content / "releases"
    body = f"{SECRET_WORD} kertoo, miten yölainaamo toimii."
    (releases / f"{release_id}.fi.md").write_text(release(TITLE_FI, LIFT, release_id=release_id, body=body), "utf-8")
    (releases / f"{release_id}.sv.md").write_text(
        release(TITLE_SV, LIFT, lang="sv", release_id=release_id, body=f"{SECRET_WORD} på svenska."), "utf-8"
    )
    _git(desk.root, "add", "-A")
    _git(desk.root, "-c", "user.name=Aino", "-c", f"user.email={author}", "commit", "-qm", f"{release_id} embargoed")


@pytest.fixture(scope="module")
def desk(tmp_path_factory, smtp_server):
    root = tmp_path_factory.mktemp("review")
    running = Desk(root, **_mail_settings(root, smtp_server.url))
    conn = accounts.connect(accounts.db_path(running.settings))
    accounts.add(conn, "olli", "Olli Osasto", f"olli@{DOMAIN}", "approver", PASSWORD, datetime.fromisoformat(NOW))
    conn.close()
    _add_embargoed(running)
    yield running
    running.stop()


def _mails(smtp_server, to: str) -> list[EmailMessage]:
    return [r.message for r in smtp_server.handler.to(DOMAIN) if r.recipient == to]


def _link(message: EmailMessage, base: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(re.escape(base) + r"/\S+", text)[0]


def _db(desk: Desk):
    return store.connect(store.db_path(desk.settings))


def _ask_review(desk: Desk, client: httpx.Client, release_id: str = "yo", **form) -> None:
    csrf = _csrf(client.get(f"/review/{release_id}").text)
    data = {"csrf": csrf, "users": ["olli"], "addresses": f"pormestari@{DOMAIN}", "days": "7", **form}
    answer = client.post(f"/review/{release_id}", data=data)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/review/{release_id}?done=asked"


def _status(desk: Desk, release_id: str = "yo") -> approvals.Status:
    catalog = catalog_for(desk.settings)
    conn = _db(desk)
    try:
        return approvals.status(conn, release_id, approvals.digest(approvals.files(catalog, release_id)))
    finally:
        conn.close()


# --- review over HTTP ------------------------------------------------------------------------------------------


def test_review_is_asked_by_name_and_address_and_get_on_the_links_changes_nothing(desk, smtp_server):
    client = desk.client("aino")
    _ask_review(desk, client)
    to_olli, to_mayor = _mails(smtp_server, f"olli@{DOMAIN}"), _mails(smtp_server, f"pormestari@{DOMAIN}")
    assert len(to_olli) == 1 and len(to_mayor) == 1
    assert to_olli[0]["Subject"] == f"For review: {TITLE_FI}"  # in the asker's desk language (en here)
    link = _link(to_olli[0], desk.url)
    assert link != _link(to_mayor[0], desk.url)
    token = link.rsplit("/", 1)[1]
    conn = _db(desk)
    try:
        stored = [row[0] for row in conn.execute("SELECT hash FROM share_links")]
        assert token not in stored and store.token_hash(token) in stored
        assert conn.execute("SELECT COUNT(*) FROM share_mail").fetchone()[0] == 0  # sent, token gone
    finally:
        conn.close()
    anonymous = httpx.Client(headers={"accept-language": "en"})
    before = _status(desk)
    page = anonymous.get(link)
    assert page.status_code == 200 and "Approve" in page.text and "Ask for changes" in page.text
    assert anonymous.get(link + "?decision=approved").status_code == 200
    assert _status(desk) == before and before.state == approvals.ASKED
    # A POST without the link's form token, or from another site, decides nothing.
    revision = re.search(r'name="revision" value="(\w+)"', page.text)[1]
    forged = anonymous.post(link, data={"decision": "approved", "revision": revision, "csrf": "x" * 64})
    assert forged.status_code == 403
    csrf = _csrf(page.text)
    cross = anonymous.post(
        link,
        data={"decision": "approved", "revision": revision, "csrf": csrf},
        headers={"origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert _status(desk) == before
    # A review link is no press link: the preview origin's press pages open only its own release's pages.
    other = anonymous.get(f"{desk.preview_url}/t/{token}/fi/releases/julkinen-tiedote/")
    assert other.status_code == 404


def _decide(desk: Desk, link: str, decision: str, comment: str = "") -> httpx.Response:
    client = httpx.Client(headers={"accept-language": "en", "origin": desk.url})
    page = client.get(link)
    revision = re.search(r'name="revision" value="(\w+)"', page.text)[1]
    form = {"csrf": _csrf(page.text), "revision": revision, "decision": decision, "comment": comment}
    return client.post(link, data=form)


def test_an_approval_records_who_when_and_the_commit_and_an_edit_withdraws_it(desk, smtp_server):
    client = desk.client("aino")
    _ask_review(desk, client, addresses=f"johtaja@{DOMAIN}")
    link = _link(_mails(smtp_server, f"johtaja@{DOMAIN}")[-1], desk.url)
    asked_changes = _decide(desk, link, "changes")
    assert asked_changes.status_code == 422 and "Say what should change" in asked_changes.text
    assert _decide(desk, link, "approved").status_code == 303
    head = _git(desk.root, "log", "-1", "--format=%H", "--", "content/releases").strip()
    status = _status(desk)
    assert status.state == approvals.APPROVED
    assert (status.approval.email, status.approval.revision) == (f"johtaja@{DOMAIN}", head)
    page = client.get("/review/yo").text
    assert "Approved." in page and head[:10] in page
    assert re.search(r'href="/review/yo"[^>]*>\s*Approved', client.get("/").text)
    # The writer edits one language version in the desk: the approval no longer holds, and the desk says so.
    edit = client.get("/edit/yo/sv").text
    form = {k: v for k, v in re.findall(r'<input id="f-\w+" name="(\w+)" value="([^"]*)"', edit)}
    body = re.search(r'<textarea id="f-body" name="body"[^>]*>([^<]*)</textarea>', edit)[1]
    form.update(
        csrf=_csrf(edit),
        blob=re.search(r'name="blob" value="([^"]*)"', edit)[1],
        type="press-release",
        lang="sv",
        release="yo",
        body=body + "\n\nEn ny mening.",
        action="schedule",
        contacts=["ville-virtanen"],
    )
    assert client.post("/edit/yo/sv", data=form).status_code == 303
    assert _status(desk).state == approvals.WITHDRAWN
    assert "The approval was withdrawn: the release was edited after it was approved." in client.get("/review/yo").text
    # A decision on the page opened before the edit is refused: the reviewer must read what changed.
    stale = httpx.Client(headers={"accept-language": "en", "origin": desk.url})
    page = stale.get(link)
    form = {"csrf": _csrf(page.text), "revision": head, "decision": "approved", "comment": ""}
    answer = stale.post(link, data=form)
    assert answer.status_code == 409 and _status(desk).state == approvals.WITHDRAWN


def _share(desk: Desk, client: httpx.Client, recipients: str, lang: str = "fi", media_list: str = "") -> None:
    csrf = _csrf(client.get("/press/yo").text)
    answer = client.post("/press/yo", data={"csrf": csrf, "recipients": recipients, "lang": lang, "list": media_list})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/press/yo?done=shared"


def test_a_press_link_shows_the_embargo_banner_records_openings_and_is_refused_once_revoked(desk, smtp_server):
    conn = _db(desk)
    medialists.add(conn, "kulttuuri", Entry.checked(f"kaisa@{DOMAIN}", "Kaisa K", "Lehti", ("sv",), (), ("fi", "sv", "en")), datetime.fromisoformat(NOW))
    conn.close()
    client = desk.client("aino")
    _share(desk, client, f"Tiina Toimittaja, tiina@{DOMAIN}", "fi", "kulttuuri")
    tiina, kaisa = _mails(smtp_server, f"tiina@{DOMAIN}")[-1], _mails(smtp_server, f"kaisa@{DOMAIN}")[-1]
    assert tiina["Subject"] == f"EMBARGO 5.1.2027 klo 9.00 asti: {TITLE_FI}"
    assert kaisa["Subject"] == f"EMBARGO till 5.1.2027 kl. 9.00: {TITLE_SV}"
    link = _link(tiina, desk.preview_url)
    assert link != _link(kaisa, desk.preview_url)
    anonymous = httpx.Client(follow_redirects=True)
    page = anonymous.get(link)
    assert page.status_code == 200 and page.url.path.endswith("/fi/releases/kirjasto-avaa-yolainaamon/")
    assert "EMBARGO – ei julkaistavaksi ennen 5.1.2027 klo 9.00" in page.text and SECRET_WORD in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["x-robots-tag"] == "noindex"
    assert page.headers["content-security-policy"].startswith("sandbox")
    assert '<meta name="robots" content="noindex' in page.text
    # The page's own style sheet comes through the same link; nothing of the token's placeholder is left.
    css = re.search(r'href="([^"]+newsroom\.css)"', page.text)[1]
    assert anonymous.get(css).status_code == 200 and "NEWSROOMxSHARED" not in page.text
    swedish = anonymous.get(_link(kaisa, desk.preview_url))
    assert "EMBARGO – får inte publiceras före 5.1.2027 kl. 9.00" in swedish.text
    # A press link opens only its release, and is no review link.
    token = link.split("/t/")[1].strip("/")
    assert anonymous.get(f"{desk.preview_url}/t/{token}/fi/").status_code == 404
    assert anonymous.get(f"{desk.url}/r/{token}").status_code == 404
    anonymous.get(link)
    desk_page = client.get("/press/yo").text
    row = desk_page[desk_page.index(f"tiina@{DOMAIN}") :].split("</tr>")[0]
    assert row.count("<li>") == 2  # two openings of the page (its style sheet is no opening)
    link_id = re.search(r'name="link" value="(\d+)"', row)[1]
    revoked = client.post("/links/revoke", data={"csrf": _csrf(desk_page), "link": link_id})
    assert revoked.status_code == 303
    refused = httpx.get(link, headers={"accept-language": "en"})
    assert refused.status_code == 403 and "Uutishuone on perunut tämän linkin." in refused.text  # its language
    assert "<td>Withdrawn (aino, " in client.get("/press/yo").text
    assert httpx.get(_link(kaisa, desk.preview_url), follow_redirects=True).status_code == 200


def test_a_press_link_expires_after_the_lift_and_its_grace_and_a_review_link_after_its_time(desk, tmp_path):
    conn = _db(desk)
    try:
        press, _ = sharelinks.issue(conn, "press", "yo", "fi", f"late@{DOMAIN}", "", "test", datetime.fromisoformat(NOW))
        review, _ = sharelinks.issue(
            conn, "review", "yo", "en", f"slow@{DOMAIN}", "", "test", datetime.fromisoformat(NOW),
            expires_at=datetime.fromisoformat(NOW) - timedelta(minutes=1),
        )
    finally:
        conn.close()
    assert httpx.get(f"{desk.preview_url}/t/{press}/", follow_redirects=True).status_code == 200
    gone = httpx.get(f"{desk.url}/r/{review}", headers={"accept-language": "sv"})
    assert gone.status_code == 410 and "Den här länken har gått ut." in gone.text and 'lang="sv"' in gone.text
    after = LIFT_AT + timedelta(hours=desk.settings["NEWSROOM_PRESS_GRACE_HOURS"], seconds=1)
    port = _free_port()
    later = _serve(preview.create_preview_app(desk.settings.replace(NEWSROOM_NOW=after.isoformat())), port)
    try:
        expired = httpx.get(f"http://127.0.0.1:{port}/t/{press}/", headers={"accept-language": "en"})
        assert expired.status_code == 410 and "Tämä linkki on vanhentunut." in expired.text
        within = LIFT_AT + timedelta(hours=1)
    finally:
        later.should_exit = True
    port = _free_port()
    grace = _serve(preview.create_preview_app(desk.settings.replace(NEWSROOM_NOW=within.isoformat())), port)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/t/{press}/", follow_redirects=True).status_code == 200
    finally:
        grace.should_exit = True
