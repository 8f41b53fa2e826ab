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

import gzip
import os
import re
import subprocess
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from newsroom.build.audit import audit
from newsroom.content.catalog import catalog_for
from newsroom.desk import accounts, app, preview, snapshot
from newsroom.mail import approvals, distribution, medialists, sharelinks, store
from newsroom.mail.medialists import Entry
from newsroom.mail.notify import NotifyConfig
from newsroom.publishing.publish import publish_at
from newsroom.publishing.publisher import Publisher, content_stamp
from newsroom.publishing.schedule import Clock
from sitebuilder import ROOT, release, write_content
from test_desk import ARTIFACTS, NOW, PASSWORD, TZ, Desk, _axe, _csrf, _free_port, _git, _serve, _sign_in, browser  # noqa: F401

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
    slug = {} if release_id == "yo" else {"Slug": f"yolainaamo-{release_id}"}  # each its own address
    (releases / f"{release_id}.fi.md").write_text(
        release(TITLE_FI, LIFT, release_id=release_id, body=body, **slug), "utf-8"
    )
    (releases / f"{release_id}.sv.md").write_text(
        release(TITLE_SV, LIFT, lang="sv", release_id=release_id, body=f"{SECRET_WORD} på svenska.", **slug), "utf-8"
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
    _add_embargoed(desk, "kysely")  # a release of its own, asked for review here first
    client = desk.client("aino")
    earlier = {to: len(_mails(smtp_server, to)) for to in (f"olli@{DOMAIN}", f"pormestari@{DOMAIN}")}
    _ask_review(desk, client, "kysely")
    to_olli, to_mayor = (_mails(smtp_server, to)[count:] for to, count in earlier.items())  # this ask's
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
    before = _status(desk, "kysely")
    page = anonymous.get(link)
    assert page.status_code == 200 and "Approve" in page.text and "Ask for changes" in page.text
    assert anonymous.get(link + "?decision=approved").status_code == 200
    assert _status(desk, "kysely") == before and before.state == approvals.ASKED
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
    assert _status(desk, "kysely") == before
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
    head = _git(
        desk.root, "log", "-1", "--format=%H", "--", "content/releases/yo.fi.md", "content/releases/yo.sv.md"
    ).strip()
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
    assert re.search(r'href="/review/yo"[^>]*>\s*Approval withdrawn: edited since', client.get("/").text)
    assert "The approval was withdrawn: the release was edited after it was approved." in client.get("/review/yo").text
    # A decision on the page opened before the edit is refused: the reviewer must read what changed.
    stale = httpx.Client(headers={"accept-language": "en", "origin": desk.url})
    page = stale.get(link)
    form = {"csrf": _csrf(page.text), "revision": head, "decision": "approved", "comment": ""}
    answer = stale.post(link, data=form)
    assert answer.status_code == 409 and _status(desk).state == approvals.WITHDRAWN


def test_the_boards_digests_read_a_release_again_only_when_a_file_changed_and_see_every_change(tmp_path, monkeypatch):
    paths = [tmp_path / "yo.fi.md", tmp_path / "yo.sv.md"]
    paths[0].write_text(release(TITLE_FI, LIFT, release_id="yo"), "utf-8")
    paths[1].write_text(release(TITLE_SV, LIFT, lang="sv", release_id="yo"), "utf-8")
    clock = [1000.0]
    digests = approvals.Digests(clock=lambda: clock[0])
    reads: list[str] = []
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: reads.append(path.name) or read_bytes(path))

    def loads(count: int, step: float = 0.0) -> list[str]:
        """The digest on `count` loads, `step` seconds apart; `reads` says which files they read."""
        reads.clear()
        found = []
        for _ in range(count):
            clock[0] += step
            found.append(digests(paths))
        return found

    first = approvals.digest(paths)
    # Within the racy window every load reads the files; one load after it makes the digest trusted; then none.
    assert loads(2, 0.5) == [first] * 2 and reads == ["yo.fi.md", "yo.sv.md"] * 2
    assert loads(1, approvals.Digests.RACY) == [first] and len(reads) == 2
    assert loads(3, 60.0) == [first] * 3 and reads == []
    # Rewritten in place to the same size with its modification time put back (as `cp -p` or `touch -r` would):
    # its change time and so the digest move on.
    time.sleep(0.05)  # past one tick of a coarse file clock
    before = paths[0].stat()
    text = paths[0].read_text("utf-8")
    paths[0].write_text(text.replace("Kirjasto", "Kirjastp"), "utf-8")
    os.utime(paths[0], ns=(before.st_atime_ns, before.st_mtime_ns))
    assert paths[0].stat().st_size == before.st_size and paths[0].stat().st_mtime_ns == before.st_mtime_ns
    changed = approvals.digest(paths)
    assert changed != first and loads(1, 60.0) == [changed] and len(reads) == 2
    # A change the stats cannot show (one timestamp tick) is seen while the digest is untrusted: each load reads.
    same = paths[0].stat()
    monkeypatch.setattr(Path, "stat", lambda path, **kw: same if path == paths[0] else os.stat(path))
    paths[0].write_text(text, "utf-8")
    assert loads(1, 0.5) == [first] and len(reads) == 2


def _share(desk: Desk, client: httpx.Client, recipients: str, lang: str = "fi", media_list: str = "") -> None:
    csrf = _csrf(client.get("/press/yo").text)
    answer = client.post("/press/yo", data={"csrf": csrf, "recipients": recipients, "lang": lang, "list": media_list})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/press/yo?done=shared"


def test_a_press_link_shows_the_embargo_banner_records_openings_and_is_refused_once_revoked(desk, smtp_server):
    conn = _db(desk)
    medialists.add(
        conn,
        "kulttuuri",
        Entry.checked(f"kaisa@{DOMAIN}", "Kaisa K", "Lehti", ("sv",), (), ("fi", "sv", "en")),
        datetime.fromisoformat(NOW),
    )
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
    for other in (
        "index.html",
        "robots.txt",
        "api/releases.json",
        "sv/",
        "%2E%2E/%2E%2E/preview-key.json",
    ):
        assert anonymous.get(f"{desk.preview_url}/t/{token}/{other}").status_code == 404, other
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
        press, _ = sharelinks.issue(
            conn, "press", "yo", "fi", f"late@{DOMAIN}", "", "test", datetime.fromisoformat(NOW)
        )
        review, _ = sharelinks.issue(
            conn,
            "review",
            "yo",
            "en",
            f"slow@{DOMAIN}",
            "",
            "test",
            datetime.fromisoformat(NOW),
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


# --- approval required: the publisher holds, tells, and lets it out -------------------------------------------


class SteppedClock(Clock):
    """The publisher's wall clock, moved by the test; a sleep moves it on at once (no real waiting)."""

    def __init__(self, start: datetime):
        super().__init__(TZ)
        self.at = start

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float, wake) -> None:
        self.at += timedelta(seconds=max(seconds, 0.001))


def _public_files(folder: Path) -> dict[Path, str]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            found[path] = data.decode("utf-8", "ignore")
    return found


def test_a_release_needing_approval_is_held_at_its_time_its_writer_told_once_then_out_at_the_next_pass(
    tmp_path, smtp_server
):
    due = datetime.fromisoformat(NOW) + timedelta(hours=1)
    running = Desk(tmp_path, **_mail_settings(tmp_path, smtp_server.url, NEWSROOM_APPROVAL="required"))
    try:
        releases = running.content / "releases"
        (releases / "held.fi.md").write_text(
            release("Pidätetty tiedote", f"{due:%Y-%m-%d %H:%M}", release_id="held", body=f"{SECRET_WORD} pidossa."),
            "utf-8",
        )
        _git(tmp_path, "add", "-A")
        _git(tmp_path, "-c", "user.name=Kirjoittaja", "-c", f"user.email=kirjoittaja@{DOMAIN}", "commit", "-qm", "held")
        conn = accounts.connect(accounts.db_path(running.settings))
        accounts.add(
            conn, "olli", "Olli Osasto", f"olli-held@{DOMAIN}", "approver", PASSWORD, datetime.fromisoformat(NOW)
        )
        conn.close()
        clock = SteppedClock(datetime.fromisoformat(NOW))
        publisher = Publisher(running.settings, clock=clock)
        publisher.publish_now("start")
        target = Path(running.settings["NEWSROOM_DEPLOY"])
        page = target / "fi" / "releases" / "pidatetty-tiedote" / "index.html"
        assert (target / "index.html").is_file() and not page.exists()
        assert "Held until approved" in running.client("aino").get("/").text  # red on the board, in words too
        # Its time comes: the publisher looks, finds it unapproved, keeps it hidden and tells its writer.
        clock.at = due + timedelta(seconds=1)
        publisher.step()
        assert not page.exists()
        hidden = [r for r in catalog_for(running.settings).releases if r.release_id == "held"]
        assert audit(target, running.settings, hidden) == []
        assert not any(SECRET_WORD in text for text in _public_files(target).values())
        told = _mails(smtp_server, f"kirjoittaja@{DOMAIN}")
        assert [m["Subject"] for m in told] == ["Ei julkaistu: Pidätetty tiedote odottaa hyväksyntää"]
        # Approved by an emailed link, by POST; the next pass publishes it, and the writer is not told again.
        client = running.client("aino")
        _ask_review(running, client, "held", users=["olli"], addresses="")
        link = _link(_mails(smtp_server, f"olli-held@{DOMAIN}")[-1], running.url)
        assert _decide(running, link, "approved").status_code == 303
        publisher.step()  # waits (on the stepped clock) until the next look
        assert not page.exists()
        publisher.step()
        assert page.is_file() and SECRET_WORD in page.read_text("utf-8")
        publisher.step()
        told = [m["Subject"] for m in _mails(smtp_server, f"kirjoittaja@{DOMAIN}")]
        assert told == ["Ei julkaistu: Pidätetty tiedote odottaa hyväksyntää", "Hyväksytty: Pidätetty tiedote"]
    finally:
        running.stop()


# --- no trace in public ----------------------------------------------------------------------------------------


def test_an_advance_send_carries_each_journalists_own_working_preview_link(desk, smtp_server):
    text = release(
        TITLE_FI,
        LIFT,
        release_id="yo",
        body=f"{SECRET_WORD} kertoo.",
        Distribution="ennakko",
        Advance="2026-03-01 08:00",
    )
    conn = _db(desk)
    for who in ("eka", "toka"):
        medialists.add(
            conn,
            "ennakko",
            Entry.checked(f"{who}@{DOMAIN}", who.title(), "Lehti", ("fi",), (), ("fi", "sv", "en")),
            datetime.fromisoformat(NOW),
        )
    conn.close()
    path = desk.content / "releases" / "yo.fi.md"
    original = path.read_text("utf-8")
    path.write_text(text, "utf-8")
    try:
        settings = desk.settings
        sent = distribution.send_due(settings, NotifyConfig.from_settings(settings), datetime.fromisoformat(NOW))
        assert sent.tally.sent == 2
    finally:
        path.write_text(original, "utf-8")
    links = [_link(_mails(smtp_server, f"{who}@{DOMAIN}")[-1], desk.preview_url) for who in ("eka", "toka")]
    assert links[0] != links[1]
    for link in links:
        page = httpx.get(link, follow_redirects=True)
        assert page.status_code == 200 and "EMBARGO – ei julkaistavaksi ennen 5.1.2027 klo 9.00" in page.text
    conn = _db(desk)
    try:
        made = [x for x in sharelinks.for_release(conn, "yo", "press") if x.created_by == "advance send"]
        assert sorted(x.email for x in made) == [f"eka@{DOMAIN}", f"toka@{DOMAIN}"]
        assert all(len(sharelinks.openings(conn, x.id)) == 1 for x in made)
    finally:
        conn.close()


def test_the_public_build_and_its_search_index_hold_no_trace_of_a_shared_release(desk, smtp_server):
    """Its own review and press links, their emails and snapshots, beside any the tests before it made."""
    client = desk.client("aino")
    _share(desk, client, f"jalki@{DOMAIN}")
    _ask_review(desk, client, users=[], addresses=f"jalkiarvio@{DOMAIN}")
    review = _link(_mails(smtp_server, f"jalkiarvio@{DOMAIN}")[-1], desk.url).rsplit("/", 1)[1]
    for address in (
        _link(_mails(smtp_server, f"jalki@{DOMAIN}")[-1], desk.preview_url),
        f"{desk.preview_url}/t/{review}/",
    ):
        assert httpx.get(address, follow_redirects=True, timeout=60).status_code == 200
    conn = _db(desk)
    try:
        assert sharelinks.for_release(conn, "yo", "press") and sharelinks.for_release(conn, "yo", "review")
    finally:
        conn.close()
    assert any((Path(desk.settings["NEWSROOM_STATE_DIR"]) / "desk" / "snapshots").iterdir())
    result = publish_at(desk.settings, None, datetime.fromisoformat(NOW))
    target = Path(result.deployed_to or desk.settings["NEWSROOM_DEPLOY"])
    files = _public_files(target)
    assert any("pagefind" in str(p) for p in files), "the search index is part of what is checked"
    hidden = [r for r in catalog_for(desk.settings).releases if r.release_id == "yo"]
    assert audit(target, desk.settings, hidden) == []
    tokens = [
        link
        for r in smtp_server.handler.to(DOMAIN)
        for link in re.findall(r"/(?:t|r)/([\w-]{43})", r.message.get_body(("plain",)).get_content())
    ]
    assert tokens
    for path, text in files.items():
        for trace in (SECRET_WORD, TITLE_FI, TITLE_SV, desk.preview_url, "/t/", "NEWSROOMxSHARED", *tokens):
            assert trace not in text, f"{trace} in {path}"


# --- in the browser --------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_in_chromium_a_reviewer_with_no_session_approves_and_a_journalist_sees_the_embargo(desk, smtp_server, browser):  # noqa: F811
    releases = desk.content / "releases"
    (releases / "ilta.fi.md").write_text(release("Iltakirjasto aukeaa", LIFT, release_id="ilta"), "utf-8")
    _git(desk.root, "add", "-A")
    _git(desk.root, "-c", "user.name=Aino", "-c", f"user.email=aino@{DOMAIN}", "commit", "-qm", "ilta")
    writer_context = browser.new_context(locale="fi-FI", bypass_csp=True)  # bypass: axe's own script
    writer = writer_context.new_page()
    _sign_in(writer, desk)
    writer.goto(f"{desk.url}/review/ilta")
    writer.get_by_label("Olli Osasto").check()
    writer.get_by_role("button", name="Lähetä tarkastuslinkit").click()
    expect(writer.get_by_role("status")).to_have_text(
        "Tarkastusta pyydetty: tarkastajat saivat linkkinsä sähköpostilla."
    )
    violations = _axe(writer)
    link = _link(_mails(smtp_server, f"olli@{DOMAIN}")[-1], desk.url)
    # The approver: a browser that has never seen the desk, in Swedish.
    reviewer_context = browser.new_context(locale="sv-SE")
    reviewer = reviewer_context.new_page()
    reviewer.goto(link)
    expect(reviewer.get_by_role("heading", level=1)).to_have_text("För granskning: Iltakirjasto aukeaa")
    assert not reviewer_context.cookies(desk.url)
    with reviewer.expect_navigation():
        reviewer.get_by_role("link", name=re.compile("Iltakirjasto aukeaa")).click()
    banner = reviewer.locator(".shared-banner")
    expect(banner).to_contain_text("Tarkastettavaksi: tätä tiedotetta ei ole vielä julkaistu.")
    expect(reviewer.get_by_role("heading", name="Iltakirjasto aukeaa", level=1)).to_be_visible()
    reviewer.get_by_role("link", name="Hyväksy tai pyydä muutoksia").click()
    reviewer.get_by_role("button", name="Godkänn").click()
    expect(reviewer.get_by_role("status")).to_have_text("Tack: ditt godkännande är registrerat.")
    assert _status(desk, "ilta").approved
    assert _status(desk, "ilta").approval.revision == _git(desk.root, "log", "-1", "--format=%H").strip()
    writer.goto(link)
    violations += _axe(writer)
    # A journalist's link, shared from the desk, in a third fresh browser.
    writer.goto(f"{desk.url}/press/ilta")
    writer.get_by_label("Vastaanottajat, yksi riville: nimi, osoite").fill(f"Jussi Juttu, jussi@{DOMAIN}")
    writer.get_by_role("button", name="Lähetä ennakkolinkit").click()
    expect(writer.get_by_role("status")).to_have_text(
        "Jaettu: jokainen vastaanottaja sai oman linkkinsä sähköpostilla."
    )
    press_context = browser.new_context(locale="en-GB")
    journalist = press_context.new_page()
    journalist.goto(_link(_mails(smtp_server, f"jussi@{DOMAIN}")[-1], desk.preview_url))
    expect(journalist.locator(".shared-banner")).to_contain_text("EMBARGO – ei julkaistavaksi ennen 5.1.2027 klo 9.00")
    writer.goto(f"{desk.url}/press/ilta")
    expect(writer.locator("ul.openings li")).to_have_count(1)
    violations += _axe(writer)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    writer.screenshot(path=str(ARTIFACTS / "desk-press-links.png"), full_page=True)
    journalist.screenshot(path=str(ARTIFACTS / "press-preview-embargo.png"), full_page=True)
    for context in (writer_context, reviewer_context, press_context):
        context.close()
    assert violations == []


def test_under_required_approval_the_advance_to_media_lists_waits_for_the_approval(desk, smtp_server):
    text = release("Varauskirjasto", LIFT, release_id="varaus", Distribution="odottajat", Advance="2026-03-01 08:00")
    (desk.content / "releases" / "varaus.fi.md").write_text(text, "utf-8")
    _git(desk.root, "add", "-A")
    _git(desk.root, "-c", "user.name=Aino", "-c", f"user.email=aino@{DOMAIN}", "commit", "-qm", "varaus")
    conn = _db(desk)
    medialists.add(
        conn,
        "odottajat",
        Entry.checked(f"odottaja@{DOMAIN}", "Odottaja", "Lehti", ("fi",), (), ("fi", "sv", "en")),
        datetime.fromisoformat(NOW),
    )
    conn.close()
    settings = desk.settings.replace(NEWSROOM_APPROVAL="required")
    config, now = NotifyConfig.from_settings(settings), datetime.fromisoformat(NOW)
    try:
        assert distribution.send_due(settings, config, now).queued == []
        assert _mails(smtp_server, f"odottaja@{DOMAIN}") == []
        _ask_review(desk, desk.client("aino"), "varaus", users=[], addresses=f"hyvaksyja@{DOMAIN}")
        assert (
            _decide(desk, _link(_mails(smtp_server, f"hyvaksyja@{DOMAIN}")[-1], desk.url), "approved").status_code
            == 303
        )
        assert distribution.send_due(settings, config, now).tally.sent == 1
        assert _mails(smtp_server, f"odottaja@{DOMAIN}")[0]["Subject"].startswith("EMBARGO 5.1.2027 klo 9.00 asti")
    finally:
        (desk.content / "releases" / "varaus.fi.md").unlink()
        _git(desk.root, "add", "-A")
        _git(desk.root, "-c", "user.name=Aino", "-c", f"user.email=aino@{DOMAIN}", "commit", "-qm", "varaus gone")


def test_a_withdrawn_links_snapshot_and_an_earlier_revisions_are_removed_and_a_live_one_stays(desk, smtp_server):
    _add_embargoed(desk, "siivous")
    client = desk.client("aino")
    csrf = _csrf(client.get("/press/siivous").text)
    shared = client.post("/press/siivous", data={"csrf": csrf, "recipients": f"siivous@{DOMAIN}", "lang": "fi"})
    assert shared.status_code == 303
    _ask_review(desk, client, "siivous", users=[], addresses=f"arvioija@{DOMAIN}")
    press = _link(_mails(smtp_server, f"siivous@{DOMAIN}")[-1], desk.preview_url)
    review = _link(_mails(smtp_server, f"arvioija@{DOMAIN}")[-1], desk.url).rsplit("/", 1)[1]
    for address in (press, f"{desk.preview_url}/t/{review}/"):
        assert httpx.get(address, follow_redirects=True, timeout=60).status_code == 200
    folder = snapshot.folder(desk.settings)

    def built() -> set[str]:
        return {p.name for p in folder.iterdir() if p.name.startswith("siivous-")}

    sha = _git(desk.root, "log", "-1", "--format=%H", "--", "content/releases/siivous.fi.md").strip()
    assert built() == {snapshot.name("siivous", sha, "press"), snapshot.name("siivous", sha, "review")}
    page = client.get("/press/siivous").text
    link_id = re.search(r'name="link" value="(\d+)"', page[page.index(f"siivous@{DOMAIN}") :])[1]
    assert client.post("/links/revoke", data={"csrf": _csrf(page), "link": link_id}).status_code == 303
    assert built() == {snapshot.name("siivous", sha, "review")}  # the withdrawn press link's is gone
    assert httpx.get(f"{desk.preview_url}/t/{review}/", follow_redirects=True, timeout=60).status_code == 200
    # An edit: the review link opens the new revision, and the next ask for review removes the old one.
    path = desk.content / "releases" / "siivous.fi.md"
    path.write_text(path.read_text("utf-8") + "\nUusi kappale.\n", "utf-8")
    _git(desk.root, "commit", "-qam", "siivous edited")
    edited = _git(desk.root, "log", "-1", "--format=%H").strip()
    assert httpx.get(f"{desk.preview_url}/t/{review}/", follow_redirects=True, timeout=60).status_code == 200
    _ask_review(desk, client, "siivous", users=[], addresses=f"toinen@{DOMAIN}")
    assert built() == {snapshot.name("siivous", edited, "review")}


def test_with_nobody_acting_the_desk_removes_a_snapshot_on_its_timer_once_no_link_opens_it(tmp_path, smtp_server):
    running = Desk(tmp_path, **_mail_settings(tmp_path, smtp_server.url))
    _add_embargoed(running, "ajastin")
    conn = _db(running)
    token, link = sharelinks.issue(
        conn, "press", "ajastin", "fi", f"ajastin@{DOMAIN}", "", "test", datetime.fromisoformat(NOW)
    )
    timed = _serve(app.create_app(running.settings, prune_every=0.2), _free_port())
    try:
        assert httpx.get(f"{running.preview_url}/t/{token}/", follow_redirects=True, timeout=60).status_code == 200
        sha = _git(running.root, "log", "-1", "--format=%H").strip()
        site = snapshot.folder(running.settings) / snapshot.name("ajastin", sha, "press")
        time.sleep(1)  # several ticks: a snapshot a working link opens stays
        assert site.is_dir()
        # Withdrawn outside the desk (no desk action follows): the next tick removes its snapshot.
        sharelinks.revoke(conn, link.id, "someone", datetime.fromisoformat(NOW))
        deadline = time.monotonic() + 15
        while site.is_dir() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not site.is_dir()
    finally:
        conn.close()
        timed.should_exit = True
        running.stop()


def test_the_writer_is_told_each_decision_with_its_comment_in_their_desk_language_else_the_releases(desk, smtp_server):
    _add_embargoed(desk, "paatos", author="aino@testila.example")  # aino, a desk user, wrote it
    client = desk.client("aino")
    client.cookies.set("desk_lang", "sv")
    _ask_review(desk, client, "paatos", users=[], addresses=f"paattaja@{DOMAIN}")
    link = _link(_mails(smtp_server, f"paattaja@{DOMAIN}")[-1], desk.url)
    assert _decide(desk, link, "changes", "Korjaa kellonaika otsikkoon.").status_code == 303
    told = [r.message for r in smtp_server.handler.to("testila.example") if r.recipient == "aino@testila.example"]
    assert [m["Subject"] for m in told] == [f"Ändringar önskas: {TITLE_SV}"]
    text = told[0].get_body(("plain",)).get_content()
    head = _git(desk.root, "log", "-1", "--format=%H", "--", "content/releases/paatos.fi.md").strip()
    assert f"paattaja@{DOMAIN} önskar ändringar i meddelandet nedan (version {head[:10]})." in text
    assert "Korjaa kellonaika otsikkoon." in text and f"{desk.url}/review/paatos" in text
    # A writer the desk does not know hears in the release's first language; the queue is empty once sent.
    _add_embargoed(desk, "ulkoinen", author=f"ulkopuolinen@{DOMAIN}")
    _ask_review(desk, client, "ulkoinen", users=[], addresses=f"paattaja2@{DOMAIN}")
    assert _decide(desk, _link(_mails(smtp_server, f"paattaja2@{DOMAIN}")[-1], desk.url), "approved").status_code == 303
    told = _mails(smtp_server, f"ulkopuolinen@{DOMAIN}")
    assert [m["Subject"] for m in told] == [f"Hyväksytty: {TITLE_FI}"]
    assert (
        "hyväksyi alla olevan tiedotteen sellaisena kuin se oli versiossa" in told[0].get_body(("plain",)).get_content()
    )
    conn = _db(desk)
    try:
        assert conn.execute("SELECT COUNT(*) FROM share_mail").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_bare_pelican_run_holds_an_unapproved_release_too_and_builds_it_once_approved(tmp_path):
    content = write_content(
        tmp_path / "content",
        {"pidossa.fi.md": release("Pidossa oleva tiedote", "2026-02-01 09:00", release_id="pidossa", body=SECRET_WORD)},
    )
    state, output = tmp_path / "state", tmp_path / "output"
    conf = tmp_path / "conf.py"
    conf.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom pelicanconf import *\n"
        f"PATH = {str(content)!r}\nTHEME = {str(ROOT / 'theme')!r}\nPLUGIN_PATHS = [{str(ROOT / 'plugins')!r}]\n"
        f"NEWSROOM_STATE_DIR = {str(state)!r}\nNEWSROOM_NOW = {NOW!r}\nNEWSROOM_APPROVAL = 'required'\n"
    )
    page = output / "fi" / "releases" / "pidossa-oleva-tiedote" / "index.html"

    def pelican() -> None:
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "pelican"), str(content), "-s", str(conf), "-o", str(output)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    pelican()
    assert (output / "index.html").is_file() and not page.exists()
    assert not any(SECRET_WORD in text for text in _public_files(output).values())
    conn = store.connect(store.db_path({"NEWSROOM_STATE_DIR": str(state)}))
    try:
        _, link = sharelinks.issue(
            conn, "review", "pidossa", "fi", f"ok@{DOMAIN}", "", "test", datetime.fromisoformat(NOW)
        )
        digest = approvals.digest([content / "releases" / "pidossa.fi.md"])
        approvals.decide(conn, link, "approved", "", "0" * 40, digest, datetime.fromisoformat(NOW))
    finally:
        conn.close()
    pelican()
    assert SECRET_WORD in page.read_text("utf-8")


def test_a_review_decision_makes_a_prebuild_stale_when_approval_is_required(tmp_path):
    """A prebuild made before a decision holds (or shows) what the decision changed: the lift must not swap it in."""
    content = write_content(
        tmp_path / "content",
        {"pidossa.fi.md": release("Pidossa oleva tiedote", "2026-02-01 09:00", release_id="pidossa")},
    )
    settings = {"PATH": str(content), "NEWSROOM_STATE_DIR": str(tmp_path / "state"), "NEWSROOM_APPROVAL": "required"}
    (tmp_path / "state").mkdir()
    before = content_stamp(settings)
    conn = store.connect(store.db_path(settings))
    try:
        _, link = sharelinks.issue(
            conn, "review", "pidossa", "fi", f"ok@{DOMAIN}", "", "test", datetime.fromisoformat(NOW)
        )
        assert content_stamp(settings) == before  # asking is no decision
        digest = approvals.digest([content / "releases" / "pidossa.fi.md"])
        approvals.decide(conn, link, "approved", "", "0" * 40, digest, datetime.fromisoformat(NOW))
    finally:
        conn.close()
    assert content_stamp(settings) != before


# Last: it spends the module desk's rate limits.
def test_guessing_links_is_rate_limited_on_both_origins(tmp_path, smtp_server):
    """A desk of its own: spending this client's allowance for the minute leaves the other tests' desk alone."""
    running = Desk(tmp_path, **_mail_settings(tmp_path, smtp_server.url))
    try:
        with httpx.Client() as client:
            answers = [client.get(f"{running.url}/r/{'x' * 43}").status_code for _ in range(31)]
            assert answers[0] == 404 and answers[-1] == 429
            answers = [client.get(f"{running.preview_url}/t/{'y' * 43}/").status_code for _ in range(301)]
            assert answers[0] == 404 and answers[-1] == 429
    finally:
        running.stop()
