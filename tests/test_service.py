"""The subscription service on a real uvicorn, with a real HTTP client and a real SMTP server: sign-up, double
opt-in, preferences, one-click unsubscribe, and what it does with abuse and bad input."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from newsroom.build.run import BuildOptions, load_settings
from newsroom.mail import store, subscribers
from newsroom.mail.notify import notify
from newsroom.mail.subscribers import Preferences
from newsroom.subscriptions import optin, ratelimit
from newsroom.subscriptions.app import create_app, server
from newsroom.subscriptions.config import origin_of
from newsroom.subscriptions.guard import MAX_BODY
from newsroom.theming import consent
from sitebuilder import ROOT, Site, build_site, release, write_content
from smtpsink import Received, SmtpServer, free_port

SITE = "https://newsroom.kaislaranta.example"
B0, B1, B2 = "2029-01-01T12:00+02:00", "2029-07-01T12:00+02:00", "2029-10-01T12:00+02:00"
FIRST, SECOND = "Ensimmäinen uutiskirjeen tiedote", "Toinen uutiskirjeen tiedote"
CONFIRM_LINK = re.compile(r"(http://[^\s]+/confirm/[\w-]+)")
PREFERENCES_LINK = re.compile(r"(http://[^\s]+/preferences/[\w-]+)")
SECURITY_HEADERS = {"content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"}
_addresses = (f"127.8.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def client_ip() -> str:
    """A client address of its own, told to the service as a reverse proxy on 127.0.0.1 would tell it."""
    return next(_addresses)


class Clock:
    """The service's clock: it starts at a pinned moment and moves on in real time, so no test hangs on today's
    date; the sign-ups it records come before the releases of 2029 that are mailed to them."""

    START = datetime(2026, 6, 1, 12, tzinfo=UTC)

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return self.START + timedelta(seconds=time.monotonic() - self.started)


@dataclass
class Service:
    url: str
    settings: dict
    db: Path
    sites: tuple[Site, Site, Site]
    smtp: SmtpServer
    http: httpx.Client
    clock: Clock

    def post(self, path: str, data: dict | None = None, ip: str | None = None, **options) -> httpx.Response:
        headers = {"X-Forwarded-For": ip or client_ip(), **options.pop("headers", {})}
        return self.http.post(path, data=data, headers=headers, **options)

    def get(self, path: str, **options) -> httpx.Response:
        return self.http.get(path, headers={"X-Forwarded-For": client_ip(), **options.pop("headers", {})}, **options)

    def sign_up(self, address: str, ip: str | None = None, **fields) -> httpx.Response:
        data = {"email": address, "languages": "fi", "consent": "yes", "lang": "fi", **fields}
        return self.post("/subscribe", {k: v for k, v in data.items() if v is not None}, ip, headers={"Origin": SITE})

    def conn(self):
        return store.connect(self.db)

    def subscriber(self, address: str) -> subscribers.Subscriber | None:
        conn = self.conn()
        try:
            return subscribers.find(conn, address)
        finally:
            conn.close()

    def mail_to(self, address: str, count: int = 1) -> list[Received]:
        domain = address.partition("@")[2]
        deadline = time.monotonic() + 30
        while len(mail := [r for r in self.smtp.handler.to(domain) if r.recipient == address]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(mail)} of {count} emails reached {address}")
            time.sleep(0.01)
        return mail


def _content(root: Path) -> Path:
    return write_content(
        root,
        {
            "old.fi.md": release("Vanha tiedote", "2026-01-10 09:00", release_id="old"),
            "first.fi.md": release(FIRST, "2029-06-01 09:00", release_id="first", Keywords="kirjastot"),
            "second.fi.md": release(SECOND, "2029-09-01 09:00", release_id="second", Keywords="liikenne"),
        },
    )


@pytest.fixture(scope="session")
def service(tmp_path_factory, smtp_server) -> Service:
    """The service on a free port, and the site built at three moments with its forms posting to that service."""
    root = tmp_path_factory.mktemp("service")
    content = _content(root / "content")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    previous = os.environ.get("NEWSROOM_SUBSCRIBE_URL")
    os.environ["NEWSROOM_SUBSCRIBE_URL"] = url
    try:
        sites = tuple(
            build_site(content, root / name, publish=True, now=now)
            for name, now in (("b0", B0), ("b1", B1), ("b2", B2))
        )
    finally:
        if previous is None:
            del os.environ["NEWSROOM_SUBSCRIBE_URL"]
        else:
            os.environ["NEWSROOM_SUBSCRIBE_URL"] = previous
    settings = load_settings(BuildOptions(ROOT / "publishconf.py", content))
    db = root / "state" / "newsroom.sqlite3"
    settings.update(
        NEWSROOM_DB=str(db),
        NEWSROOM_SMTP_URL=smtp_server.url,
        NEWSROOM_SUBSCRIBE_URL=url,
        NEWSROOM_MAIL_FROM="uutiset@testila.example",
        NEWSROOM_PUBLISH_WEBHOOK=None,
    )
    clock = Clock()
    uvicorn_server = server(create_app(settings, clock), "127.0.0.1", port)
    thread = threading.Thread(target=uvicorn_server.run, name="service-under-test")
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.02)
    with httpx.Client(base_url=url, timeout=30) as http:
        yield Service(url, settings, db, sites, smtp_server, http, clock)
    uvicorn_server.should_exit = True
    thread.join(30)


def _static_form(site: Site, page: str) -> tuple[str, dict]:
    """A form of the built site as a browser would send it: its action and its fields with their values."""
    form = site.html(page).select_one("form.subscribe__form")
    fields = {tag["name"]: tag.get("value", "") for tag in form.select("input[type=hidden]")}
    return form["action"], fields


def _text(message) -> str:
    part = message.get_body(("plain",))
    return part.get_content()


# --- the whole story ----------------------------------------------------------------------------------------


@dataclass
class Journey:
    confirmation: Received
    confirm_get: httpx.Response
    pending_after_get: str
    confirm_post: httpx.Response
    consent_row: dict
    consent_text: str
    release_mail: list[Received]
    preferences_get: httpx.Response
    unsubscribe_get: httpx.Response
    one_click: httpx.Response
    after_one_click: str
    control_mail: list[Received]
    reader_mail: list[Received]
    form_fields: dict


@pytest.fixture(scope="session")
def journey(service: Service) -> Journey:
    """Sign up on a release page -> confirm -> a release email -> one-click unsubscribe -> the next release."""
    b0, b1, b2 = (site.output for site in service.sites)
    notify(service.settings, b0, now=B0)  # the first run records the archive and sends nothing
    reader, control = "lukija@journey.test", "verrokki@journey.test"
    action, fields = _static_form(service.sites[0], "fi/releases/vanha-tiedote/")
    assert action == f"{service.url}/subscribe"
    response = service.http.post(
        action,
        data={**fields, "email": "Lukija@Journey.test", "consent": "yes"},
        headers={"Origin": SITE, "X-Forwarded-For": client_ip()},
    )
    assert response.status_code == 200, response.text
    conn = service.conn()
    subscribers.add(conn, control, Preferences(("fi",)), service.clock())
    conn.close()

    confirmation = service.mail_to(reader)[0]
    link = CONFIRM_LINK.search(_text(confirmation.message)).group(1)
    confirm_get = service.get(link)
    pending_after_get = service.subscriber(reader).status
    confirm_post = service.post(link, headers={"Origin": service.url})
    conn = service.conn()
    row = dict(
        conn.execute(
            "SELECT c.* FROM consents c JOIN subscribers s ON s.id = c.subscriber_id "
            "WHERE s.email = ? AND c.action = 'given'",
            (reader,),
        ).fetchone()
    )
    text_row = conn.execute("SELECT text FROM consent_texts WHERE version = ?", (row["text_version"],)).fetchone()
    conn.close()

    notify(service.settings, b1, now=B1)
    release_mail = service.mail_to(reader, 2)[1:]
    body = _text(release_mail[0].message)
    preferences_get = service.get(PREFERENCES_LINK.search(body).group(1))
    unsubscribe_get = service.get(re.search(r"(http://\S+/unsubscribe/[\w-]+)", body).group(1))
    one_click_url = re.search(r"<(http://[^>]+/one-click/[\w-]+)>", release_mail[0].message["List-Unsubscribe"]).group(
        1
    )
    one_click = service.http.post(
        one_click_url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    after_one_click = service.subscriber(reader).status

    notify(service.settings, b2, now=B2)
    control_mail = service.mail_to(control, 2)
    return Journey(
        confirmation,
        confirm_get,
        pending_after_get,
        confirm_post,
        row,
        text_row[0] if text_row else "",
        release_mail,
        preferences_get,
        unsubscribe_get,
        one_click,
        after_one_click,
        control_mail,
        [r for r in service.smtp.handler.to("journey.test") if r.recipient == reader],
        fields,
    )


def test_the_confirmation_email_links_to_a_page_that_confirms_nothing_on_get(journey: Journey, service: Service):
    message = journey.confirmation.message
    assert message["To"] == "lukija@journey.test"
    assert "Testilan kaupunki" in message["From"] and "uutiset@testila.example" in message["From"]
    assert message["Content-Language"] == "fi"
    assert journey.confirm_get.status_code == 200
    page = BeautifulSoup(journey.confirm_get.text, "html5lib")
    assert page.html["lang"] == "fi"
    form = page.select_one("main form")
    assert form["method"] == "post" and form.button
    assert journey.pending_after_get == "pending"


def test_the_post_confirms_and_keeps_the_consent_record(journey: Journey, service: Service):
    assert journey.confirm_post.status_code == 200
    page = BeautifulSoup(journey.confirm_post.text, "html5lib")
    assert page.select_one(f'a[href^="{service.url}/preferences/"]')
    consent_row = journey.consent_row
    assert consent_row["source"] == "web form /fi/releases/vanha-tiedote/"
    assert consent_row["text_version"] == journey.form_fields["consent_version"]
    assert consent.VERSION_PATTERN.fullmatch(consent_row["text_version"])
    assert datetime.fromisoformat(consent_row["at"]) <= service.clock()
    assert "I can unsubscribe at any time" in journey.consent_text or "voin perua" in journey.consent_text.lower()
    assert journey.consent_text.count("\n") >= 5  # the sentence and every paragraph of the privacy notice


def test_a_release_email_then_one_click_unsubscribes_at_once(journey: Journey):
    assert [r.message["Subject"] for r in journey.release_mail] == [f"Tiedote: {FIRST}"]
    assert journey.preferences_get.status_code == 200 and journey.unsubscribe_get.status_code == 200
    assert "lukija@journey.test" in journey.unsubscribe_get.text
    assert journey.one_click.status_code == 200 and not journey.one_click.history
    assert "location" not in journey.one_click.headers
    assert journey.after_one_click == "unsubscribed"


def test_one_click_takes_the_multipart_post_rfc_8058_prefers(service: Service):
    conn = service.conn()
    subscriber, _ = subscribers.add(conn, "multi@one-click.test", Preferences(("fi",)), service.clock())
    token = subscribers.issue_manage_token(conn, subscriber.id, service.clock())
    conn.close()
    page = service.get(f"/one-click/{token}")  # a mail program that only opens the address shows the button
    assert page.status_code == 200 and service.subscriber("multi@one-click.test").status == "confirmed"
    body = b'--b0undary\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b0undary--\r\n'
    response = service.http.post(
        f"/one-click/{token}",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=b0undary", "Origin": "https://mail.example"},
    )
    assert response.status_code == 200 and not response.history
    assert service.subscriber("multi@one-click.test").status == "unsubscribed"


def test_no_further_email_after_unsubscribing(journey: Journey):
    assert {r.message["Subject"] for r in journey.control_mail} == {f"Tiedote: {FIRST}", f"Tiedote: {SECOND}"}
    assert len(journey.reader_mail) == 2  # the confirmation and the first release, nothing after


def test_the_site_shows_the_forms_and_the_privacy_notice(service: Service):
    site = service.sites[0]
    for lang in ("fi", "sv", "en"):
        page = site.html(f"{lang}/subscribe/")
        form = page.select_one("form.subscribe__form")
        assert form["action"] == f"{service.url}/subscribe" and form["method"] == "post"
        names = {tag["name"] for tag in form.select("input")}
        assert {
            "email",
            "languages",
            "types",
            "keywords",
            "frequency",
            "consent",
            "website",
            "lang",
            "consent_version",
            "source",
        } <= names
        assert form.select_one(f'a[href="{SITE}/{lang}/privacy/"]')
        assert all(script["src"].startswith(f"{SITE}/") for script in page.select("script[src]"))  # our own only
        privacy = site.html(f"{lang}/privacy/")
        assert privacy.html["lang"] == lang
        assert len(privacy.select("main h2")) >= 5
    fi_privacy = site.html("fi/privacy/").get_text()
    assert "Testilan kaupunki" in fi_privacy and "media@testila.example" in fi_privacy
    box = site.html("fi/releases/vanha-tiedote/").select_one(".subscribe form")
    assert box.select_one('input[name="languages"]')["value"] == "fi"
    assert box.select_one(f'a[href="{SITE}/fi/privacy/"]')
    assert site.html("fi/").select_one(f'footer a[href="{SITE}/fi/subscribe/"]')


def test_the_site_form_offers_the_keywords_of_public_releases_and_the_service_takes_ticked_and_typed_ones(
    service: Service,
):
    def offered(site: Site) -> list[str]:
        form = site.html("fi/subscribe/").select_one("form.subscribe__form")
        assert form.select_one("input#subscribe-keywords[type=text][name=keywords]")
        return [box["value"] for box in form.select("fieldset input[type=checkbox][name=keywords]")]

    assert offered(service.sites[0]) == []  # the keywords of embargoed releases are not shown before their time
    assert offered(service.sites[2]) == ["kirjastot", "liikenne"]
    assert service.sign_up("ticked@keywords.test", keywords=["kirjastot", "satama, laivat", ""]).status_code == 200
    assert service.subscriber("ticked@keywords.test").preferences.keywords == ("kirjastot", "satama", "laivat")


def test_the_site_and_the_service_agree_on_the_consent_text_version(service: Service, journey: Journey):
    conn = service.conn()
    known = dict(conn.execute("SELECT lang, version FROM consent_texts"))
    conn.close()
    for lang in ("fi", "sv", "en"):
        _, fields = _static_form(service.sites[0], f"{lang}/subscribe/")
        assert fields["consent_version"] == known[lang]
    assert len(set(known.values())) == 3


# --- no enumeration -------------------------------------------------------------------------------------------


def test_the_same_reply_for_new_pending_and_confirmed_addresses(service: Service):
    conn = service.conn()
    subscribers.add(conn, "already@same.test", Preferences(("fi",)), service.clock())
    conn.close()
    first = service.sign_up("waiting@same.test")
    first_link = CONFIRM_LINK.search(_text(service.mail_to("waiting@same.test")[0].message)).group(1)
    replies = [service.sign_up(address) for address in ("new@same.test", "waiting@same.test", "already@same.test")]
    assert {r.status_code for r in replies} == {200}
    assert replies[0].text == replies[1].text == replies[2].text == first.text
    assert "Check your email" in first.text or "sähköpostisi" in first.text
    # Each address was told what fits it, by email: only its owner reads that.
    already = _text(service.mail_to("already@same.test")[0].message)
    assert PREFERENCES_LINK.search(already) and not CONFIRM_LINK.search(already)
    second_link = CONFIRM_LINK.search(_text(service.mail_to("waiting@same.test", 2)[1].message)).group(1)
    assert service.get(first_link).status_code == 200  # a stranger's sign-up does not kill the owner's link
    assert service.get(second_link).status_code == 200


def _link(service: Service, address: str, count: int = 1, pattern: re.Pattern = CONFIRM_LINK) -> str:
    return pattern.search(_text(service.mail_to(address, count)[count - 1].message)).group(1)


def test_a_sign_up_changes_nothing_of_a_pending_or_unsubscribed_owner_until_confirmed(service: Service):
    owner = Preferences(("fi",), keywords=("kirjastot",))
    service.sign_up("pending@owner.test", keywords="kirjastot")
    own_link = _link(service, "pending@owner.test")
    conn = service.conn()
    subscribers.add(conn, "left@owner.test", owner, datetime.now(UTC))
    subscribers.remove(conn, "left@owner.test", datetime.now(UTC))
    conn.close()
    for address in ("pending@owner.test", "left@owner.test"):
        assert service.sign_up(address, languages="sv", keywords="satama").status_code == 200
    assert service.subscriber("pending@owner.test").preferences == owner
    assert service.subscriber("left@owner.test").preferences == owner
    assert service.subscriber("left@owner.test").status == "unsubscribed"
    stranger_link = _link(service, "pending@owner.test", 2)
    assert service.post(own_link).status_code == 200  # the owner's own link still works, with the owner's choices
    assert service.subscriber("pending@owner.test").preferences == owner
    assert service.subscriber("pending@owner.test").status == "confirmed"
    assert service.get(stranger_link).status_code == 404  # confirming used up every link of the address
    assert service.post(_link(service, "left@owner.test")).status_code == 200  # the owner confirms the new request
    assert service.subscriber("left@owner.test").preferences == Preferences(("sv",), keywords=("satama",))


def test_an_erased_address_is_not_stored_again_until_its_owner_confirms(service: Service):
    conn = service.conn()
    subscribers.add(conn, "forget.me@erased.test", Preferences(("fi",)), datetime.now(UTC))
    subscribers.erase(conn, "forget.me@erased.test", datetime.now(UTC))
    conn.close()
    first = service.sign_up("new.person@erased.test")
    again = service.sign_up("forget.me@erased.test", keywords="satama")
    assert again.status_code == 200 and again.text == first.text  # the same answer: no enumeration
    link = _link(service, "forget.me@erased.test")
    conn = service.conn()
    try:
        rows = [tuple(r) for r in conn.execute("SELECT * FROM subscribers")]
        assert not any("forget.me" in str(cell) for row in rows for cell in row)  # the address is nowhere in clear
        assert conn.execute("SELECT count(*) FROM confirmations WHERE address IS NOT NULL").fetchone()[0] == 0
        assert subscribers.find(conn, "forget.me@erased.test") is None
        assert subscribers.erased(conn, "forget.me@erased.test")  # imports still refuse it
    finally:
        conn.close()
    assert service.post(link).status_code == 200  # its owner, from their own mailbox, brings it back
    back = service.subscriber("forget.me@erased.test")
    assert back.status == "confirmed" and back.preferences.keywords == ("satama",)
    conn = service.conn()
    assert not subscribers.erased(conn, "forget.me@erased.test")
    conn.close()


# --- tokens ---------------------------------------------------------------------------------------------------


def test_expired_reused_and_unknown_links_get_a_clear_page(service: Service):
    conn = service.conn()
    long_ago = service.clock() - timedelta(days=subscribers.CONFIRM_DAYS, minutes=1)
    expired = subscribers.create_pending(conn, "late@tokens.test", Preferences(("sv",)), long_ago, "test", "")
    conn.close()
    for response in (service.get(f"/confirm/{expired}"), service.post(f"/confirm/{expired}")):
        assert response.status_code == 404
        page = BeautifulSoup(response.text, "html5lib")
        assert page.h1 and "Traceback" not in response.text
    assert service.subscriber("late@tokens.test").status == "pending"

    service.sign_up("once@tokens.test")
    link = CONFIRM_LINK.search(_text(service.mail_to("once@tokens.test")[0].message)).group(1)
    assert service.post(link).status_code == 200
    reused = service.post(link)
    assert reused.status_code == 404 and BeautifulSoup(reused.text, "html5lib").h1
    assert service.get(link).status_code == 404
    for path in ("/confirm/" + "A" * 43, "/preferences/" + "B" * 43, "/unsubscribe/x", "/one-click/" + "C" * 43):
        response = service.get(path)
        assert response.status_code == 404 and BeautifulSoup(response.text, "html5lib").h1
    assert service.post("/one-click/" + "C" * 43, {"List-Unsubscribe": "One-Click"}).status_code == 404


def test_unconfirmed_sign_ups_are_purged_after_the_expiry(service: Service):
    conn = service.conn()
    now = service.clock()
    old = now - timedelta(days=subscribers.CONFIRM_DAYS, hours=1)
    subscribers.create_pending(conn, "stale@purge.test", Preferences(("fi",)), old, "test", "")
    subscribers.create_pending(conn, "fresh@purge.test", Preferences(("fi",)), now, "test", "")
    subscribers.add(conn, "back@purge.test", Preferences(("fi",)), old)
    subscribers.remove(conn, "back@purge.test", old)
    subscribers.create_pending(conn, "back@purge.test", Preferences(("fi",)), old, "test", "")
    optin.purge(conn, now, ratelimit.RateLimiter(()))
    assert subscribers.find(conn, "stale@purge.test") is None
    assert subscribers.find(conn, "fresh@purge.test").status == "pending"
    assert subscribers.find(conn, "back@purge.test").status == "unsubscribed"
    conn.close()


# --- preferences ----------------------------------------------------------------------------------------------


def test_preferences_show_and_change_what_is_received(service: Service):
    conn = service.conn()
    subscriber, _ = subscribers.add(conn, "prefs@prefs.test", Preferences(("sv",), ("news",)), service.clock())
    token = subscribers.issue_manage_token(conn, subscriber.id, service.clock())
    conn.close()
    page = BeautifulSoup(service.get(f"/preferences/{token}").text, "html5lib")
    assert page.html["lang"] == "sv"
    assert {i["value"] for i in page.select("input[name=languages][checked]")} == {"sv"}
    assert {i["value"] for i in page.select("input[name=types][checked]")} == {"news"}
    changed = service.post(
        f"/preferences/{token}",
        {"languages": ["fi", "en"], "types": ["blog", "news"], "keywords": "kirjastot, liikenne", "frequency": "daily"},
        headers={"Origin": service.url},
    )
    assert changed.status_code == 200 and BeautifulSoup(changed.text, "html5lib").select_one("[role=status]")
    prefs = service.subscriber("prefs@prefs.test").preferences
    assert prefs == Preferences(("fi", "en"), ("blog", "news"), ("kirjastot", "liikenne"), "daily")
    wrong = service.post(
        f"/preferences/{token}", {"types": "gossip", "keywords": "x" * 61}, headers={"Origin": service.url}
    )
    assert wrong.status_code == 400 and BeautifulSoup(wrong.text, "html5lib").select_one(".form-errors li")
    assert service.subscriber("prefs@prefs.test").preferences == prefs
    leave = service.post(f"/unsubscribe/{token}", {"List-Unsubscribe": "One-Click"}, headers={"Origin": service.url})
    assert leave.status_code == 200 and service.subscriber("prefs@prefs.test").status == "unsubscribed"
    assert service.get(f"/preferences/{token}").status_code == 200  # a clear "not subscribed" page
    assert not BeautifulSoup(service.get(f"/preferences/{token}").text, "html5lib").select("main form")


# --- abuse ----------------------------------------------------------------------------------------------------


def test_rate_limits_per_client_and_per_address(service: Service):
    ip = client_ip()
    replies = [service.sign_up(f"person{n}@limits.test", ip=ip) for n in range(5)]
    assert [r.status_code for r in replies] == [200, 200, 200, 200, 429]
    assert int(replies[-1].headers["retry-after"]) > 0
    page = BeautifulSoup(replies[-1].text, "html5lib")
    assert page.html["lang"] == "fi" and page.h1
    assert service.subscriber("person4@limits.test") is None
    same = [service.sign_up("target@limits.test") for _ in range(5)]
    assert [r.status_code for r in same] == [200, 200, 200, 200, 429]


def test_the_hourly_limit_counts_across_minutes(tmp_path):
    conn = store.connect(tmp_path / "limits.sqlite3")
    limiter = ratelimit.RateLimiter(ratelimit.parse("4/minute, 40/hour"))
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    key = ratelimit.key("email", "a@b.test")
    answers = [limiter.hit(conn, [key], start + timedelta(seconds=16 * n)) for n in range(41)]
    assert answers[:40] == [None] * 40 and answers[40] is not None
    assert limiter.hit(conn, [key], start + timedelta(hours=1, minutes=1)) is None
    assert limiter.forget(conn, start + timedelta(hours=3)) == 41
    with pytest.raises(ratelimit.LimitSettingError, match="4/minute"):
        ratelimit.parse("lots")
    conn.close()


def test_the_honeypot_takes_nothing_but_answers_the_same(service: Service):
    trapped = service.sign_up("bot@honeypot.test", website="http://spam.example")
    normal = service.sign_up("human@honeypot.test")
    assert trapped.status_code == normal.status_code == 200 and trapped.text == normal.text
    service.mail_to("human@honeypot.test")
    assert [r.recipient for r in service.smtp.handler.to("honeypot.test")] == ["human@honeypot.test"]
    assert service.subscriber("bot@honeypot.test") is None


def test_oversized_and_malformed_posts_get_a_page_not_a_traceback(service: Service):
    huge = service.post("/subscribe", {"email": "a@big.test", "keywords": "x" * (MAX_BODY + 10)})
    assert huge.status_code == 413

    def chunks():
        for _ in range(40):
            yield b"keywords=" + b"y" * 1000 + b"&"

    streamed = service.http.post(
        "/subscribe",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": client_ip()},
    )
    assert streamed.status_code == 413
    cases = [
        service.http.post("/subscribe", json={"email": "a@json.test"}, headers={"X-Forwarded-For": client_ip()}),
        service.http.post("/subscribe", files={"email": ("cv.pdf", b"%PDF")}, headers={"X-Forwarded-For": client_ip()}),
        service.http.post(
            "/subscribe",
            content=b"email=%FF%FE%00@x&consent=yes&languages=fi",
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": client_ip()},
        ),
        service.sign_up("not an address"),
        service.sign_up("no-consent@bad.test", consent=None),
        service.sign_up("no-language@bad.test", languages=None),
        service.sign_up("klingon@bad.test", languages="tlh"),
        service.sign_up(("x" * 250) + "@long.test"),
        service.sign_up("dots..twice@bad.test"),
    ]
    assert [r.status_code for r in cases] == [415, 400, 400, 400, 400, 400, 400, 400, 400]
    for response in [huge, streamed, *cases, service.http.put("/subscribe"), service.get("/nothing/here")]:
        assert response.status_code >= 400
        assert SECURITY_HEADERS <= set(response.headers)
        assert BeautifulSoup(response.text, "html5lib").h1 and "Traceback" not in response.text
    errors = BeautifulSoup(cases[4].text, "html5lib").select(".form-errors li")
    assert len(errors) == 1
    assert BeautifulSoup(cases[4].text, "html5lib").select_one("input[name=email]")["value"] == "no-consent@bad.test"
    assert service.subscriber("no-consent@bad.test") is None


def test_an_international_domain_is_stored_in_ascii(service: Service):
    assert service.sign_up("Aiti@Kärkkäinen.test").status_code == 200
    conn = service.conn()
    stored = [r[0] for r in conn.execute("SELECT email FROM subscribers WHERE email LIKE 'aiti@%'")]
    conn.close()
    assert stored == ["aiti@" + "kärkkäinen".encode("idna").decode() + ".test"]
    assert service.mail_to(stored[0])[0].message["To"] == stored[0]
    refused = service.sign_up("äiti@kärkkäinen.test")
    assert refused.status_code == 400 and BeautifulSoup(refused.text, "html5lib").select_one(".form-errors")


INJECTION = "\r\nBcc: victim@evil.test\r\nX-Injected: yes"


@pytest.mark.parametrize(
    "field",
    ["email", "languages", "types", "keywords", "frequency", "consent", "lang", "source", "consent_version", "website"],
)
def test_header_injection_in_any_field_sends_nothing(service: Service, field: str):
    address = f"{field.replace('_', '-')}@inject.test"
    data = {
        "email": address,
        "languages": "fi",
        "types": "news",
        "keywords": "kirjastot",
        "frequency": "immediate",
        "consent": "yes",
        "lang": "fi",
        "source": "/fi/subscribe/",
        "consent_version": "fi-0123456789ab",
        "website": "",
    }
    data[field] += INJECTION
    response = service.post("/subscribe", data, headers={"Origin": SITE})
    assert response.status_code == (200 if field == "website" else 400)
    assert "X-Injected" not in response.headers and "victim" not in str(response.headers)
    assert service.subscriber(address) is None
    assert not service.smtp.handler.to("evil.test", accepted_only=False)


def test_header_injection_in_preferences_and_one_click(service: Service):
    conn = service.conn()
    subscriber, _ = subscribers.add(conn, "inject@prefs-inject.test", Preferences(("fi",)), service.clock())
    token = subscribers.issue_manage_token(conn, subscriber.id, service.clock())
    conn.close()
    response = service.post(
        f"/preferences/{token}", {"languages": "fi", "keywords": "a" + INJECTION}, headers={"Origin": service.url}
    )
    assert response.status_code == 400
    assert service.subscriber("inject@prefs-inject.test").preferences.keywords == ()
    assert service.post(f"/one-click/{token}", {"List-Unsubscribe": "One-Click" + INJECTION}).status_code == 400
    assert service.subscriber("inject@prefs-inject.test").status == "confirmed"


def test_state_changing_posts_from_another_site_are_refused(service: Service):
    evil = {"Origin": "https://evil.example"}
    refused = service.post(
        "/subscribe", {"email": "csrf@origin.test", "languages": "fi", "consent": "yes"}, headers=evil
    )
    assert refused.status_code == 403 and BeautifulSoup(refused.text, "html5lib").h1
    by_referer = service.post(
        "/subscribe",
        {"email": "csrf@origin.test", "languages": "fi", "consent": "yes"},
        headers={"Referer": "https://evil.example/page"},
    )
    assert by_referer.status_code == 403
    assert service.subscriber("csrf@origin.test") is None
    service.sign_up("victim@origin.test")
    link = CONFIRM_LINK.search(_text(service.mail_to("victim@origin.test")[0].message)).group(1)
    assert service.post(link, headers=evil).status_code == 403
    assert service.subscriber("victim@origin.test").status == "pending"
    assert service.post(link, headers={"Origin": service.url}).status_code == 200
    assert origin_of("HTTPS://Newsroom.Example:443/x") == "https://newsroom.example"


def test_pages_carry_security_headers_and_load_nothing_from_elsewhere(service: Service):
    for path in ("/subscribe?lang=sv", "/", "/confirm/" + "D" * 43):
        response = service.get(path)
        assert SECURITY_HEADERS <= set(response.headers)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in policy
        page = BeautifulSoup(response.text, "html5lib")
        assert not page.select("iframe, script:not([src])")
        loaded = [tag.get("src") or tag.get("href") for tag in page.select("link[href], script[src], img[src]")]
        assert {"/static/newsroom.css", "/static/js/menu.js", "/static/logo.svg"} <= {
            address.removeprefix(service.url) for address in loaded
        }
        assert all(address.startswith(service.url) for address in loaded), loaded
        for address in loaded:
            assert service.get(address.removeprefix(service.url)).status_code == 200
    css = service.get("/static/newsroom.css")
    assert css.headers["content-type"].startswith("text/css") and "--brand: #123456" in css.text
    assert service.get("/static/logo.svg").headers["content-type"] == "image/svg+xml"


def test_pages_wear_the_newsrooms_header_footer_and_logo(service: Service):
    page = BeautifulSoup(service.get("/subscribe?lang=fi").text, "html5lib")
    assert page.select_one(".site-header .brand img.brand__logo")
    assert page.select_one(".site-header .menu-button[aria-controls=site-menu]")
    assert page.select_one(".site-header form.header-search")["action"].endswith("/fi/search/")
    nav = [a.get_text() for a in page.select(".site-nav a")]
    assert nav[0] == "Uusimmat" and "Yhteyshenkilöt" in nav and "Tietoa meistä" in nav
    assert page.select_one(".site-footer .site-footer__name")
    switcher = page.select(".language-switcher--tools a")
    assert [a["hreflang"] for a in switcher] == ["sv", "en"] and switcher[0]["href"].endswith("/subscribe?lang=sv")


def test_pages_speak_the_readers_language(service: Service):
    assert (
        BeautifulSoup(
            service.get("/subscribe", headers={"Accept-Language": "sv-FI,sv;q=0.9,en;q=0.5"}).text, "html5lib"
        ).html["lang"]
        == "sv"
    )
    assert BeautifulSoup(service.get("/subscribe?lang=en").text, "html5lib").html["lang"] == "en"
    swedish = service.sign_up("svensk@lang.test", lang="sv", languages="sv")
    assert BeautifulSoup(swedish.text, "html5lib").html["lang"] == "sv"
    assert service.mail_to("svensk@lang.test")[0].message["Content-Language"] == "sv"
    finnish, swedish_reply = (service.sign_up(f"{lang}@lang-reply.test", lang=lang) for lang in ("fi", "sv"))
    assert finnish.text != swedish_reply.text


def test_the_service_logs_no_full_addresses(service: Service, caplog):
    caplog.set_level(logging.INFO, logger="newsroom.subscriptions.service")
    service.sign_up("secret.person@logs.test")
    link = CONFIRM_LINK.search(_text(service.mail_to("secret.person@logs.test")[0].message)).group(1)
    service.post(link)
    token = link.rsplit("/", 1)[1]
    lines = [record.getMessage() for record in caplog.records if record.name == "newsroom.subscriptions.service"]
    assert any("s…@logs.test" in line for line in lines)
    assert not any("secret.person" in line or token in line for line in lines)


# --- load -----------------------------------------------------------------------------------------------------


def test_200_parallel_sign_ups_lose_none_and_duplicate_none(service: Service):
    addresses = [f"reader{n:03d}@parallel.test" for n in range(100)] * 2

    async def run() -> list[httpx.Response]:
        gate = asyncio.Semaphore(32)
        async with httpx.AsyncClient(base_url=service.url, timeout=60, limits=httpx.Limits(max_connections=32)) as http:

            async def one(address: str) -> httpx.Response:
                async with gate:
                    return await http.post(
                        "/subscribe",
                        data={"email": address, "languages": "fi", "consent": "yes", "lang": "fi"},
                        headers={"X-Forwarded-For": client_ip(), "Origin": SITE},
                    )

            return await asyncio.gather(*(one(address) for address in addresses))

    replies = asyncio.run(run())
    assert [r.status_code for r in replies] == [200] * 200
    assert len({r.text for r in replies}) == 1
    conn = service.conn()
    rows = conn.execute(
        "SELECT s.email, s.status, count(t.hash) AS tokens, "
        "(SELECT count(*) FROM consents c WHERE c.subscriber_id = s.id) AS consents "
        "FROM subscribers s LEFT JOIN tokens t ON t.subscriber_id = s.id "
        "WHERE s.email LIKE '%@parallel.test' GROUP BY s.id"
    ).fetchall()
    assert sorted(r["email"] for r in rows) == sorted(set(addresses))
    # Both requests wait for their owner's link; consent is recorded only when one is used.
    assert {(r["status"], r["tokens"], r["consents"]) for r in rows} == {("pending", 2, 0)}
    service.smtp.handler.wait_for(200, "parallel.test")
    live = {r[0] for r in conn.execute("SELECT hash FROM tokens WHERE purpose = 'confirm'")}
    conn.close()
    sent = [
        CONFIRM_LINK.search(_text(r.message)).group(1).rsplit("/", 1)[1]
        for r in service.smtp.handler.to("parallel.test")
    ]
    assert len(sent) == 200 and sum(store.token_hash(token) in live for token in sent) == 200


# --- the command ----------------------------------------------------------------------------------------------


def test_the_command_serves_and_refuses_a_bad_setting(tmp_path, smtp_server):
    port = free_port()
    env = {
        **os.environ,
        "NEWSROOM_DB": str(tmp_path / "cli.sqlite3"),
        "NEWSROOM_SMTP_URL": smtp_server.url,
        "NEWSROOM_SUBSCRIBE_URL": f"http://127.0.0.1:{port}",
    }
    command = [
        sys.executable,
        "-m",
        "newsroom.cli",
        "--settings",
        "pelicanconf.py",
        "subscriptions",
        "serve",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
                time.sleep(0.1)
        assert health.text == "ok"
        form = BeautifulSoup(httpx.get(f"http://127.0.0.1:{port}/subscribe").text, "html5lib")
        assert form.select_one("a[href='http://127.0.0.1:8000/fi/privacy/']")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Subscription service on http://127.0.0.1" in output
    bad = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, "NEWSROOM_SMTP_URL": "mail.example.org"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "NEWSROOM_SMTP_URL" in bad.stderr and "Traceback" not in bad.stderr


# --- slow clients ---------------------------------------------------------------------------------------------


def test_slow_clients_are_cut_off_and_a_part_of_a_form_signs_nobody_up(service: Service, tmp_path):
    """300 connections trickling headers or a body byte by byte are closed at the deadline; the service answers
    others meanwhile, and a form cut off mid-body is not taken as a sign-up."""
    import socket

    settings = {**service.settings, "NEWSROOM_DB": str(tmp_path / "slow.sqlite3")}
    port = free_port()
    slow_server = server(create_app(settings), "127.0.0.1", port, request_seconds=1.5)
    thread = threading.Thread(target=slow_server.run, name="slow-clients-service")
    thread.start()
    sockets: list[socket.socket] = []
    try:
        while not slow_server.started:
            time.sleep(0.02)
        form = b"email=slowpoke%40slow.test&languages=fi&consent=yes&lang=fi"
        for n in range(300):
            sock = socket.create_connection(("127.0.0.1", port))
            if n % 2:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
            else:
                sock.sendall(
                    b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n" + form
                )
            sockets.append(sock)
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).text == "ok"
        closed: dict[int, bytes] = {}
        while len(closed) < len(sockets) and time.monotonic() - started < 8:
            for n, sock in enumerate(sockets):
                if n in closed:
                    continue
                try:
                    sock.sendall(b"X")  # a byte now and then: never idle
                    sock.settimeout(0.001)
                    answer = sock.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    answer = b""
                closed[n] = answer
            time.sleep(0.25)
        held = time.monotonic() - started
    finally:
        for sock in sockets:
            sock.close()
        slow_server.should_exit = True
        thread.join(30)
    assert len(closed) == 300 and held < 8
    # A 408 for headers never finished (a reset racing our next byte may swallow it), nothing else for the rest.
    answers = [closed[n] for n in closed if n % 2]
    assert all(
        a in (b"", b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n") for a in answers
    )
    assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) > len(answers) // 2
    conn = store.connect(Path(settings["NEWSROOM_DB"]))
    try:
        assert subscribers.find(conn, "slowpoke@slow.test") is None
    finally:
        conn.close()
