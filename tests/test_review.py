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
    assert to_olli[0]["Subject"] == f"For review: {TITLE_FI}" or to_olli[0]["Subject"].startswith("For review")
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
