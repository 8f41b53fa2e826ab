"""Email on publish against a real SMTP server: each release version reaches its subscribers once, whatever happens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup

from newsroom.build import manifest
from newsroom.build.run import BuildOptions, load_settings
from newsroom.mail import store, subscribers
from newsroom.mail.notify import notify
from newsroom.mail.subscribers import Preferences
from runcli import Result, newsroom
from sitebuilder import ROOT, build_site, release, write_content
from smtpsink import Received, RecordingHandler, free_port, start_server

NEW_YEAR = datetime.fromisoformat("2026-01-01T00:00+02:00")
B0, B1, B2, B3 = "2026-02-01T12:00+02:00", "2026-03-02T12:00+02:00", "2026-03-06T12:00+02:00", "2026-04-02T12:00+02:00"
SUBSCRIBE_URL = "https://subscribe.testila.example/s"
LIBRARY_FI, LIBRARY_SV = "Kirjasto avautuu", "Biblioteket öppnar"
ROADS, SECRET, EDITED = "Tietyöt alkavat", "Salainen satamahanke", "Kirjasto avautuu jo helmikuussa"


def _releases(library_title: str = LIBRARY_FI, **library_fields: str) -> dict[str, str]:
    return {
        "old.fi.md": release("Vanha tiedote", "2026-01-10 09:00", release_id="old", Keywords="kirjastot"),
        "library.fi.md": release(
            library_title,
            "2026-03-01 09:00",
            release_id="library",
            Images="red-square",
            Keywords="kirjastot, kulttuuri",
            Slug="kirjasto-avautuu",
            **library_fields,
        ),
        "library.sv.md": release(
            LIBRARY_SV, "2026-03-05 09:00", lang="sv", release_id="library", Images="red-square", Keywords="bibliotek"
        ),
        "roads.fi.md": release(ROADS, "2026-03-01 10:00", release_id="roads", kind="news", Keywords="liikenne"),
        "secret.fi.md": release(SECRET, "2026-04-01 09:00", release_id="secret"),
        "draft.fi.md": release("Luonnos laiturista", "2026-02-15 09:00", release_id="draft", Status="draft"),
    }


@dataclass
class Sites:
    b0: Path
    b1: Path
    b2: Path
    b3: Path


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Sites:
    """Public builds of one newsroom at four moments; before the last, the Finnish library release is edited."""
    root = tmp_path_factory.mktemp("notify")
    content = write_content(root / "content", _releases())
    built = [
        build_site(content, root / name, publish=True, now=now).output
        for name, now in (("b0", B0), ("b1", B1), ("b2", B2))
    ]
    (content / "releases" / "library.fi.md").write_text(
        _releases(EDITED, Modified="2026-04-02 08:00")["library.fi.md"], encoding="utf-8"
    )
    return Sites(*built, build_site(content, root / "b3", publish=True, now=B3).output)


def _settings(db: Path, smtp_url: str, **extra) -> dict:
    settings = load_settings(BuildOptions(ROOT / "publishconf.py"))
    settings.update(
        NEWSROOM_DB=str(db),
        NEWSROOM_SMTP_URL=smtp_url,
        NEWSROOM_SUBSCRIBE_URL=SUBSCRIBE_URL,
        NEWSROOM_MAIL_FROM="uutiset@testila.example",
        NEWSROOM_PUBLISH_WEBHOOK=None,
        **extra,
    )
    return settings


def _subscribe(db: Path, domain: str, names: list[str], when: datetime = NEW_YEAR, **prefs) -> None:
    conn = store.connect(db)
    for name in names:
        subscribers.add(conn, f"{name}@{domain}", Preferences(**{"languages": ("fi",), **prefs}), when)
    conn.close()


def _count(mail: list[Received]) -> Counter:
    return Counter((r.recipient, r.message["Subject"]) for r in mail)


def _token(message) -> str:
    return re.search(r"/one-click/([\w-]+)>", message["List-Unsubscribe"]).group(1)


# --- One newsroom's story, step by step, with the mail each step produced -------------------------------------

DOMAIN = "journey.example"
PEOPLE = {
    "fi-all": {},
    "sv-all": {"languages": ("sv",)},
    "both": {"languages": ("fi", "sv")},
    "news-only": {"types": ("news",)},
    "libraries": {"keywords": ("Kirjastot",)},
    "daily": {"languages": ("fi", "sv"), "frequency": "daily"},
    "gone": {},
}


@dataclass
class Journey:
    steps: dict[str, list[Received]] = field(default_factory=dict)
    reports: dict = field(default_factory=dict)
    dry_run: Result | None = None
    db: Path | None = None

    def to(self, step: str) -> set[str]:
        return {r.recipient.split("@")[0] for r in self.steps[step]}


@pytest.fixture(scope="module")
def journey(sites, smtp_server, tmp_path_factory) -> Journey:
    db = tmp_path_factory.mktemp("journey") / "newsroom.sqlite3"
    settings = _settings(db, smtp_server.url)
    conn = store.connect(db)
    for name, prefs in PEOPLE.items():
        subscribers.add(conn, f"{name}@{DOMAIN}", Preferences(**{"languages": ("fi",), **prefs}), NEW_YEAR)
    subscribers.add(conn, f"late@{DOMAIN}", Preferences(("fi",)), datetime.fromisoformat("2026-03-01T09:30+02:00"))
    subscribers.create_pending(conn, f"pending@{DOMAIN}", Preferences(("fi",)), NEW_YEAR, "web", "v1")
    subscribers.remove(conn, f"gone@{DOMAIN}", NEW_YEAR)
    result = Journey(db=db)
    seen = 0

    def step(name: str, output: Path, now: str, digest: bool = False) -> None:
        nonlocal seen
        result.reports[name] = notify(settings, output, now, digest=digest)
        mail = smtp_server.handler.to(DOMAIN)
        result.steps[name], seen = mail[seen:], len(mail)

    step("first", sites.b0, B0)
    result.dry_run = newsroom(
        "notify",
        "--output",
        str(sites.b1),
        "--now",
        "2026-03-01T09:30+02:00",
        "--dry-run",
        env={"NEWSROOM_DB": str(db), "NEWSROOM_SMTP_URL": smtp_server.url},
    )
    step("library", sites.b1, "2026-03-01T09:30+02:00", digest=True)
    step("roads", sites.b1, "2026-03-01T10:30+02:00", digest=True)
    step("again", sites.b1, B1)
    both = next(r for r in result.steps["roads"] if r.recipient == f"both@{DOMAIN}")
    subscribers.unsubscribe(conn, _token(both.message), datetime.fromisoformat(B1))
    step("swedish", sites.b2, B2, digest=True)
    step("before-lift", sites.b3, "2026-03-31T12:00+03:00", digest=True)
    step("lifted", sites.b3, B3)
    conn.close()
    return result


def test_first_run_records_the_archive_and_sends_nothing(journey):
    assert journey.reports["first"].announcement.first_run
    assert journey.reports["first"].announcement.recorded == 1
    assert journey.steps["first"] == []
    assert journey.reports["first"].lines()[0].startswith("First run: recorded 1 public release version(s)")


def test_dry_run_shows_what_would_be_sent_and_records_nothing(journey):
    assert journey.dry_run.returncode == 0, journey.dry_run.stderr
    assert f"Would queue '{LIBRARY_FI}' (fi): 3 email(s), 1 for daily digests" in journey.dry_run.stdout
    assert "Nothing was sent (dry run)" in journey.dry_run.stdout
    assert journey.reports["library"].announcement.queued[0].emails == 3


def test_a_new_release_reaches_exactly_the_matching_subscribers_once(journey):
    assert journey.to("library") == {"fi-all", "both", "libraries", "daily"}
    assert journey.to("roads") == {"fi-all", "both", "news-only", "late"}
    assert max(_count(journey.steps["library"] + journey.steps["roads"]).values()) == 1


def test_a_subscriber_gets_only_releases_dated_after_they_subscribed(journey):
    everything = [r for mail in journey.steps.values() for r in mail]
    late = {r.message["Subject"] for r in everything if r.recipient == f"late@{DOMAIN}"}
    assert late == {f"Uutinen: {ROADS}", f"Tiedote: {SECRET}"}


def test_pending_and_unsubscribed_addresses_get_nothing(journey):
    everything = {r.recipient for mail in journey.steps.values() for r in mail}
    assert f"pending@{DOMAIN}" not in everything and f"gone@{DOMAIN}" not in everything


def test_a_second_notify_sends_nothing(journey):
    assert journey.steps["again"] == []
    assert journey.reports["again"].lines() == ["No newly published releases to announce."]


def test_the_one_click_token_of_an_email_unsubscribes_its_reader(journey):
    assert "both" not in journey.to("swedish") | journey.to("lifted")


def test_a_language_version_published_later_goes_to_that_languages_subscribers(journey):
    assert journey.to("swedish") == {"sv-all", "daily"}
    assert {r.message["Subject"] for r in journey.steps["swedish"] if r.recipient == f"sv-all@{DOMAIN}"} == {
        f"Pressmeddelande: {LIBRARY_SV}"
    }


def test_an_embargoed_release_is_sent_only_by_a_build_after_its_time(journey):
    assert SECRET not in {r.message["Subject"] for step in ("library", "roads", "swedish") for r in journey.steps[step]}
    assert journey.steps["before-lift"] == []
    assert journey.to("lifted") == {"fi-all", "late"}


def test_an_edited_release_is_not_sent_again(journey):
    subjects = {r.message["Subject"] for r in journey.steps["lifted"]}
    assert subjects == {f"Tiedote: {SECRET}"}
    assert EDITED not in str(subjects)


def test_daily_subscribers_get_one_digest_a_day_listing_that_days_releases(journey):
    digests = [r for mail in journey.steps.values() for r in mail if r.recipient == f"daily@{DOMAIN}"]
    assert [r.message["Subject"] for r in digests] == [
        "Testilan kaupunki: 1 uusi julkaisu, 01.03.2026",
        "Testilan kaupunki: 2 uutta julkaisua, 06.03.2026",
    ]
    second = digests[1].message.get_body(("plain",)).get_content()
    assert ROADS in second and LIBRARY_SV in second and LIBRARY_FI not in second
    assert journey.reports["roads"].digests == 0 and journey.reports["before-lift"].digests == 0


def test_release_email_headers_follow_rfc_8058_and_name_the_list(journey):
    received = next(r for r in journey.steps["library"] if r.recipient == f"fi-all@{DOMAIN}")
    message = received.message
    assert message["From"] == "Testilan kaupunki <uutiset@testila.example>"
    assert message["To"] == f"fi-all@{DOMAIN}" and received.sender == "uutiset@testila.example"
    assert message["Subject"] == f"Tiedote: {LIBRARY_FI}"
    assert re.fullmatch(r"<[0-9a-f]{32}@testila\.example>", message["Message-ID"])
    assert message["List-Id"] == "Testilan kaupunki <newsroom.testila.example>"
    token = _token(message)
    assert message["List-Unsubscribe"] == (
        f"<{SUBSCRIBE_URL}/one-click/{token}>, <mailto:uutiset@testila.example?subject=unsubscribe>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    conn = store.connect(journey.db)
    assert conn.execute("SELECT count(*) FROM tokens WHERE hash = ?", (store.token_hash(token),)).fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM tokens WHERE hash = ?", (token,)).fetchone()[0] == 0
    assert subscribers.by_token(conn, token).email == f"fi-all@{DOMAIN}"
    conn.close()


def test_html_and_text_parts_both_carry_the_release_link_and_the_unsubscribe_address(journey):
    message = next(r for r in journey.steps["library"] if r.recipient == f"fi-all@{DOMAIN}").message
    token = _token(message)
    url = "https://newsroom.kaislaranta.example/fi/releases/kirjasto-avautuu/"
    text = message.get_body(("plain",)).get_content()
    html = BeautifulSoup(message.get_body(("html",)).get_content(), "html5lib")
    assert (
        url in text
        and f"{SUBSCRIBE_URL}/unsubscribe/{token}" in text
        and f"{SUBSCRIBE_URL}/preferences/{token}" in text
    )
    links = {a["href"] for a in html.select("a[href]")}
    assert {url, f"{SUBSCRIBE_URL}/unsubscribe/{token}", f"{SUBSCRIBE_URL}/preferences/{token}"} <= links
    assert html.html["lang"] == "fi" and html.h1.get_text() == LIBRARY_FI
    image = html.select_one("img")  # the file made for the email column, not the original
    assert image["src"] == "https://newsroom.kaislaranta.example/images/red-square/red-square-email.jpg"
    assert (image["alt"], image["width"], image["height"]) == ("Punainen neliö", "64", "48")
    assert "Ville Virtanen" in text and "Yhteyshenkilöt" in text and "Lead of Kirjasto avautuu." in text
    assert "Tiedote 01.03.2026 09:00 EET" in text and "Testilan kaupunki" in text and "PL 7" in text


def test_emails_are_in_the_language_of_the_release_version(journey):
    message = next(r for r in journey.steps["swedish"] if r.recipient == f"sv-all@{DOMAIN}").message
    assert message["Content-Language"] == "sv" and message["From"].startswith("Testby stad <")
    assert "Du får det här meddelandet" in message.get_body(("plain",)).get_content()


# --- Failures: crashes, concurrency, servers that refuse ------------------------------------------------------


def _fresh(tmp_path: Path, sites: Sites, smtp_url: str, domain: str, names: list[str], **prefs) -> dict:
    """A new database with subscribers, past its first run on the archive build."""
    db = tmp_path / "newsroom.sqlite3"
    _subscribe(db, domain, names, **prefs)
    settings = _settings(db, smtp_url)
    assert notify(settings, sites.b0, B0).announcement.first_run
    return settings


def _cli_env(settings: dict) -> dict:
    return {"NEWSROOM_DB": settings["NEWSROOM_DB"], "NEWSROOM_SMTP_URL": settings["NEWSROOM_SMTP_URL"]}


@pytest.mark.slow
def test_a_run_killed_mid_batch_and_run_again_delivers_everything_without_duplicates(sites, smtp_server, tmp_path):
    domain = "killed.example"
    names = [f"reader{n:03d}" for n in range(150)]
    settings = _fresh(tmp_path, sites, smtp_server.url, domain, names)
    command = [sys.executable, "-m", "newsroom.cli", "notify", "--output", str(sites.b1), "--now", B1]
    smtp_server.handler.hold(120)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **_cli_env(settings)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        smtp_server.handler.wait_for(120, domain)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        smtp_server.handler.release()
    assert len(smtp_server.handler.to(domain)) == 120
    rerun = newsroom("notify", "--output", str(sites.b1), "--now", B1, env=_cli_env(settings))
    assert rerun.returncode == 0, rerun.stderr
    mail = smtp_server.handler.to(domain)
    counts = _count(mail)
    assert set(counts) == {(f"{n}@{domain}", s) for n in names for s in (f"Tiedote: {LIBRARY_FI}", f"Uutinen: {ROADS}")}
    repeated = [key for key, count in counts.items() if count > 1]
    assert len(repeated) <= 1 and max(counts.values()) <= 2
    for recipient, subject in repeated:
        ids = {r.message["Message-ID"] for r in mail if r.recipient == recipient and r.message["Subject"] == subject}
        assert len(ids) == 1


@pytest.mark.slow
def test_concurrent_runs_do_not_send_anything_twice(sites, smtp_server, tmp_path):
    domain = "concurrent.example"
    names = [f"reader{n:03d}" for n in range(80)]
    settings = _fresh(tmp_path, sites, smtp_server.url, domain, names)
    command = [sys.executable, "-m", "newsroom.cli", "notify", "--output", str(sites.b1), "--now", B1]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env={**os.environ, **_cli_env(settings)}, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    counts = _count(smtp_server.handler.to(domain))
    assert len(counts) == 160 and set(counts.values()) == {1}
    assert sum("Queued" in output for output in outputs) == 1


def test_smtp_down_then_up_delivers_everything_on_the_next_run(sites, tmp_path):
    port = free_port()
    domain = "downup.example"
    settings = _fresh(tmp_path, sites, f"smtp://127.0.0.1:{port}", domain, ["a", "b"])
    down = notify(settings, sites.b1, B1)
    assert not down.ok
    assert any(
        line.startswith("Stopped sending email(s): cannot reach the mail server smtp://127.0.0.1:")
        and "wait in the outbox" in line
        for line in down.lines()
    )
    controller, handler = start_server(port)
    try:
        up = notify(settings, sites.b1, B1)
    finally:
        controller.stop()
    assert up.ok and up.tallies["email"].sent == 4
    assert len(_count(handler.to(domain))) == 4


def test_a_server_answering_451_is_tried_again_later_with_the_same_message_id(sites, smtp_server, tmp_path):
    domain = "retry.example"
    settings = _fresh(tmp_path, sites, smtp_server.url, domain, ["tempfail-one", "fine"], types=("press-release",))
    first = notify(settings, sites.b1, B1)
    assert first.tallies["email"].retrying == 1 and first.tallies["email"].sent == 1
    assert notify(settings, sites.b1, "2026-03-02T12:04+02:00").tallies["email"].sent == 0
    later = notify(settings, sites.b1, "2026-03-02T12:06+02:00")
    assert later.tallies["email"].sent == 1
    tries = [r for r in smtp_server.handler.received if r.recipient == f"tempfail-one@{domain}"]
    assert [r.answer[:3] for r in tries] == ["451", "250"]
    assert tries[0].message["Message-ID"] == tries[1].message["Message-ID"]
    assert tries[0].message["Date"] == tries[1].message["Date"]


def test_a_server_answering_550_suppresses_the_address(sites, smtp_server, tmp_path):
    domain = "bounce.example"
    settings = _fresh(tmp_path, sites, smtp_server.url, domain, ["reject-me", "fine"])
    report = notify(settings, sites.b1, B1)
    assert report.tallies["email"].failed == 1 and report.tallies["email"].skipped == 1
    assert report.tallies["email"].sent == 2
    conn = store.connect(Path(settings["NEWSROOM_DB"]))
    suppressed = subscribers.find(conn, f"reject-me@{domain}")
    assert suppressed.status == "suppressed"
    assert (
        "550 5.1.1 No such mailbox here"
        in conn.execute("SELECT note FROM subscribers WHERE id = ?", (suppressed.id,)).fetchone()[0]
    )
    conn.close()
    listing = newsroom("outbox", env=_cli_env(settings))
    assert "email failed: 1" in listing.stdout and "email skipped: 1" in listing.stdout
    assert (
        f"failed: email release:library:fi to reject-me@{domain} (1 attempt(s)): 550 5.1.1 No such mailbox here"
        in listing.stdout
    )


def test_a_title_with_line_breaks_cannot_add_headers(sites, smtp_server, tmp_path):
    domain = "inject.example"
    settings = _fresh(tmp_path, sites, smtp_server.url, domain, ["reader"], types=("press-release",))
    output = tmp_path / "build"
    shutil.copytree(sites.b1, output)
    data = manifest.read(output)
    data["releases"][0 if data["releases"][0]["release"] == "library" else 1]["title"] = (
        "Kirjasto\r\nBcc: victim@evil.example\r\nX-Injected: yes\n\nbody\u2028end"
    )
    (output / manifest.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    assert notify(settings, output, B1).tallies["email"].sent == 1
    [received] = smtp_server.handler.to(domain)
    message = received.message
    assert message["Subject"] == "Tiedote: Kirjasto Bcc: victim@evil.example X-Injected: yes body end"
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert received.recipient == f"reader@{domain}"


# --- The publish webhook: another channel of the same outbox ---------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    failures_left = 2
    posts: list[tuple[int, dict, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 500 if _Receiver.failures_left > 0 else 200
        _Receiver.failures_left -= 1
        _Receiver.posts.append((status, dict(self.headers), body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_webhook_receives_each_publication_once_signed_after_two_failures(sites, tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = "s3cret-for-tests"
    monkeypatch.setenv("NEWSROOM_WEBHOOK_SECRET", secret)
    try:
        settings = _fresh(tmp_path, sites, "smtp://127.0.0.1:9", "hook.example", [])
        settings["NEWSROOM_PUBLISH_WEBHOOK"] = f"http://127.0.0.1:{server.server_port}/hook"
        first = notify(settings, sites.b1, B1)
        assert first.tallies["webhook"].retrying == 2 and first.ok
        second = notify(settings, sites.b1, "2026-03-02T12:06+02:00")
        third = notify(settings, sites.b1, "2026-03-02T13:00+02:00")
    finally:
        server.shutdown()
    assert second.tallies["webhook"].sent == 2 and third.tallies["webhook"].sent == 0
    accepted = [(headers, body) for status, headers, body in _Receiver.posts if status == 200]
    assert [status for status, _, _ in _Receiver.posts] == [500, 500, 200, 200]
    published = Counter()
    for headers, body in accepted:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Newsroom-Signature"], expected)
        payload = json.loads(body)
        published[(payload["release"], payload["lang"])] += 1
        assert payload["event"] == "release.published" and payload["url"].startswith("https://newsroom.")
    assert published == {("library", "fi"): 1, ("roads", "fi"): 1}
    library = next(json.loads(b) for _, b in accepted if json.loads(b)["release"] == "library")
    assert library["title"] == LIBRARY_FI and library["type"] == "press-release"
    assert library["keywords"] == ["kirjastot", "kulttuuri"] and library["date"] == "2026-03-01T09:00:00+02:00"
    assert library["images"] == ["https://newsroom.kaislaranta.example/images/red-square.png"]


def test_webhook_without_a_secret_is_refused_before_anything_is_published(sites, tmp_path):
    env = {
        "NEWSROOM_STATE_DIR": str(tmp_path / "state"),
        "NEWSROOM_PUBLISH_WEBHOOK": "https://hooks.example/x",
        "NEWSROOM_WEBHOOK_SECRET": "",
    }
    result = newsroom("publish", "--target", str(tmp_path / "site"), env=env)
    assert result.returncode == 2
    assert "NEWSROOM_WEBHOOK_SECRET is not" in result.stderr and "Nothing was published." in result.stderr
    assert not (tmp_path / "site").exists()


# --- `newsroom publish` notifies ------------------------------------------------------------------------------


def test_publish_emails_each_newly_public_release_once(smtp_server, tmp_path):
    domain = "publish.example"
    content = write_content(
        tmp_path / "content",
        {
            "old.fi.md": release("Arkiston tiedote", "2026-01-10 09:00", release_id="old"),
            "soon.fi.md": release("Pian julkaistava", "2026-03-01 09:00", release_id="soon"),
        },
    )
    env = {
        "NEWSROOM_STATE_DIR": str(tmp_path / "state"),
        "NEWSROOM_SMTP_URL": smtp_server.url,
        "NEWSROOM_NOW": "2026-01-01T08:00+02:00",
    }
    added = newsroom("subscribers", "add", f"Reader@{domain}", "--lang", "fi", env=env)
    assert added.returncode == 0 and f"Added reader@{domain}: confirmed, fi, immediate" in added.stdout
    common = ("--content", str(content), "--target", str(tmp_path / "site"))
    first = newsroom("publish", *common, "--now", "2026-02-01T12:00+02:00", env=env)
    assert first.returncode == 0, first.stderr
    assert "First run: recorded 1 public release version(s)" in first.stdout
    second = newsroom("publish", *common, "--now", "2026-03-01T09:05+02:00", env=env)
    assert "now public: Pian julkaistava (fi)" in second.stdout and "Sent 1 email(s)." in second.stdout
    third = newsroom("publish", *common, "--now", "2026-03-01T09:10+02:00", env=env)
    assert "Nothing new to publish" in third.stdout and "Sent" not in third.stdout
    again = newsroom("notify", env=env)
    assert again.returncode == 0 and again.stdout.strip() == "No newly published releases to announce."
    assert [r.message["Subject"] for r in smtp_server.handler.to(domain)] == ["Tiedote: Pian julkaistava"]
    assert (tmp_path / "state" / "newsroom.sqlite3").exists()


def test_a_database_inside_the_published_site_is_refused(tmp_path):
    result = newsroom(
        "notify",
        env={
            "NEWSROOM_DEPLOY": str(tmp_path / "site"),
            "NEWSROOM_DB": str(tmp_path / "site" / "data" / "newsroom.sqlite3"),
        },
    )
    assert result.returncode == 2
    assert "is inside NEWSROOM_DEPLOY" in result.stderr and "would be published with the site" in result.stderr
    assert not (tmp_path / "site").exists()


def test_notify_without_a_published_build_says_what_to_do(tmp_path):
    result = newsroom("notify", env={"NEWSROOM_STATE_DIR": str(tmp_path / "state")})
    assert result.returncode == 1
    assert "no newsroom-manifest.json in the state folder" in result.stderr and "newsroom publish" in result.stderr


# --- A relay that refuses us, and one too slow to answer --------------------------------------------------------


class _RefusingHandler(RecordingHandler):
    """Answers every recipient (or every message) with the same refusal, as a relay that will not send for us."""

    def __init__(self, at: str, answer: str) -> None:
        super().__init__()
        self.at, self.answer = at, answer

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if self.at == "RCPT":
            with self._lock:
                self.received.append(Received(envelope.mail_from, address, b"", self.answer))
            return self.answer
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.at == "DATA":
            with self._lock:
                self.received.append(Received(envelope.mail_from, envelope.rcpt_tos[0], b"", self.answer))
            return self.answer
        return await super().handle_DATA(server, session, envelope)


def _statuses(settings: dict) -> Counter:
    conn = store.connect(Path(settings["NEWSROOM_DB"]))
    try:
        return Counter(s.status for s in subscribers.every(conn))
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("at", "answer"),
    [
        ("RCPT", "550 5.7.1 Relaying denied"),
        ("RCPT", "530 5.7.0 Authentication required"),
        ("DATA", "554 Transaction failed"),
        ("RCPT", "550 Requested action not taken: mailbox unavailable"),  # the same words for everyone
    ],
)
def test_a_relay_refusing_us_unsubscribes_nobody_stops_and_the_next_run_delivers(sites, tmp_path, at, answer):
    domain = "refused.example"
    names = [f"reader{n}" for n in range(6)]
    port = free_port()
    settings = _fresh(tmp_path, sites, f"smtp://127.0.0.1:{port}", domain, names, types=("news",))
    handler = _RefusingHandler(at, answer)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run = newsroom("notify", "--output", str(sites.b1), "--now", B1, env=_cli_env(settings))
    finally:
        controller.stop()
    assert run.returncode == 1, run.stdout
    assert answer in run.stdout and "nobody was unsubscribed" in run.stdout
    assert "suppressed" not in run.stdout
    assert _statuses(settings) == {"confirmed": len(names)}
    assert len(handler.received) <= 3  # it stopped instead of trying the whole list
    controller, fixed = start_server(port)
    try:
        later = newsroom("notify", "--output", str(sites.b1), "--now", "2026-03-02T13:00+02:00", env=_cli_env(settings))
    finally:
        controller.stop()
    assert later.returncode == 0, later.stdout
    assert sorted(r.recipient for r in fixed.to(domain)) == [f"{n}@{domain}" for n in names]


def test_publish_exits_1_when_the_relay_refuses_us_and_unsubscribes_nobody(tmp_path):
    """The site goes out, the mail does not: a cron job's exit status must say so (the output alone would not)."""
    domain = "refused-publish.example"
    content = write_content(
        tmp_path / "content",
        {
            "old.fi.md": release("Arkiston tiedote", "2026-01-10 09:00", release_id="old"),
            "soon.fi.md": release("Pian julkaistava", "2026-03-01 09:00", release_id="soon"),
        },
    )
    port = free_port()
    env = {
        "NEWSROOM_STATE_DIR": str(tmp_path / "state"),
        "NEWSROOM_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "NEWSROOM_NOW": "2026-01-01T08:00+02:00",
    }
    for name in ("first", "second"):
        assert newsroom("subscribers", "add", f"{name}@{domain}", "--lang", "fi", env=env).returncode == 0
    common = ("--content", str(content), "--target", str(tmp_path / "site"))
    assert newsroom("publish", *common, "--now", "2026-02-01T12:00+02:00", env=env).returncode == 0  # first run
    controller = Controller(_RefusingHandler("RCPT", "550 5.7.1 Relaying denied"), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        refused = newsroom("publish", *common, "--now", "2026-03-01T09:05+02:00", env=env)
    finally:
        controller.stop()
    assert refused.returncode == 1, refused.stdout
    assert "now public: Pian julkaistava (fi)" in refused.stdout and "550 5.7.1 Relaying denied" in refused.stdout
    assert "the site was published, but the mail could not be sent" in refused.stderr
    assert (tmp_path / "site" / "fi" / "releases" / "pian-julkaistava" / "index.html").is_file()
    assert _statuses({"NEWSROOM_DB": str(tmp_path / "state" / "newsroom.sqlite3")}) == {"confirmed": 2}
    controller, fixed = start_server(port)
    try:
        later = newsroom("publish", *common, "--now", "2026-03-01T09:10+02:00", env=env)
    finally:
        controller.stop()
    assert later.returncode == 0, later.stderr
    assert sorted(r.recipient for r in fixed.to(domain)) == [f"first@{domain}", f"second@{domain}"]


class _DeadMailboxes(RecordingHandler):
    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if address.split("-")[1].startswith("gone"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_dead_mailboxes_between_deliveries_are_suppressed_and_only_they(sites, tmp_path):
    domain = "bounces.example"
    names = ["a-gone", "b-gone", "c-fine", "d-gone", "e-gone", "f-fine"]
    port = free_port()
    settings = _fresh(tmp_path, sites, f"smtp://127.0.0.1:{port}", domain, names, types=("news",))
    controller = Controller(_DeadMailboxes(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = notify(settings, sites.b1, B1)
    finally:
        controller.stop()
    assert report.ok and report.tallies["email"].failed == 4 and report.tallies["email"].sent == 2
    assert _statuses(settings) == {"suppressed": 4, "confirmed": 2}


class _SlowHandler(RecordingHandler):
    """Takes each message whole, then answers only after `delay` seconds: longer than the sender waits."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return answer


def test_a_server_too_slow_to_answer_gets_a_message_at_most_twice(sites, tmp_path):
    domain = "slow.example"
    port = free_port()
    settings = _fresh(tmp_path, sites, f"smtp://127.0.0.1:{port}?timeout=1", domain, ["patient"], types=("news",))
    handler = _SlowHandler(delay=2.5)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    copies = []
    try:
        for when in ("2026-03-02T12:00+02:00", "2026-03-02T12:01+02:00", "2026-03-02T12:10+02:00", "2026-03-03T12:00"):
            report = notify(settings, sites.b1, when)
            copies.append(len(handler.to(domain, accepted_only=False)))
    finally:
        controller.stop()
    assert report.ok
    assert copies == [1, 1, 2, 2]  # not again in the same run or the next minute; once more later; never a third
    ids = {r.message["Message-ID"] for r in handler.to(domain, accepted_only=False)}
    assert len(ids) == 1
    assert _statuses(settings) == {"confirmed": 1}
