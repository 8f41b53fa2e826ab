"""Media lists against a real SMTP server and the real subscription service on loopback: who gets a release, when,
in which language, under embargo or not, and that a killed run neither loses nor doubles mail."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from newsroom.build import manifest
from newsroom.build.run import BuildOptions, load_settings
from newsroom.content.catalog import load_catalog
from newsroom.mail import distribution, medialists, store, subscribers
from newsroom.mail.medialists import Entry
from newsroom.mail.notify import NotifyConfig, notify
from newsroom.mail.subscribers import Preferences
from newsroom.subscriptions.app import create_app, server
from sitebuilder import ROOT, build_site, release, write_content
from smtpsink import Received, free_port

PRESS, PUBLIC = "press.example", "readers.example"
T0, T1 = "2027-01-01T12:00+02:00", "2027-01-03T09:05+02:00"
ADVANCE_AT, LIFTED = "2027-01-05T07:05+02:00", "2027-01-05T09:05+02:00"
PUB_FI, PUB_SV = "Kirjaston uusi siipi", "Bibliotekets nya flygel"
AWARD_FI, AWARD_SV = "Kulttuuripalkinto 2027", "Kulturpriset 2027"
LANGS = ("fi", "sv", "en")
# name: (full name, languages, lists)
JOURNALISTS = {
    "kaisa": ("Kaisa Korhonen", ("fi",), ("culture-desk",)),
    "sven": ("Sven Berg", ("sv",), ("culture-desk",)),
    "both": ("Bo Tharp", ("fi",), ("culture-desk", "regional-papers")),
    "optout": ("Otto Poissa", ("fi",), ("culture-desk",)),
    "rita": ("Rita Ränn=Åberg " + "von " * 20 + "Ruotsi", ("sv", "fi"), ("regional-papers",)),
    "emma": ("Emma English", ("en",), ("regional-papers",)),
}


def _content(root: Path) -> Path:
    lists = "culture-desk, regional-papers"
    return write_content(
        root,
        {
            "old.fi.md": release("Vanha tiedote", "2026-12-01 09:00", release_id="old"),
            "pub.fi.md": release(PUB_FI, "2027-01-03 09:00", release_id="pub", Distribution=lists),
            "pub.sv.md": release(PUB_SV, "2027-01-03 09:00", lang="sv", release_id="pub", Distribution=lists),
            "award.fi.md": release(
                AWARD_FI,
                "2027-01-05 09:00",
                release_id="award",
                Distribution="culture-desk",
                Advance="2027-01-05 07:00",
                body="Palkinnon saa **Aino Aaltonen**.",
            ),
            "award.sv.md": release(
                AWARD_SV,
                "2027-01-05 09:00",
                lang="sv",
                release_id="award",
                Distribution="culture-desk",
                Advance="2027-01-05 07:00",
            ),
        },
    )


def _settings(content: Path, db: Path, smtp_url: str, subscribe_url: str) -> dict:
    settings = load_settings(BuildOptions(ROOT / "publishconf.py", content))
    settings.update(
        NEWSROOM_DB=str(db),
        NEWSROOM_SMTP_URL=smtp_url,
        NEWSROOM_SUBSCRIBE_URL=subscribe_url,
        NEWSROOM_MAIL_FROM="uutiset@testila.example",
        NEWSROOM_PUBLISH_WEBHOOK=None,
        NEWSROOM_STATE_DIR=str(db.parent),
    )
    return settings


def _add(conn, domain: str, people: dict, when: datetime) -> None:
    for key, (name, langs, lists) in people.items():
        for list_name in lists:
            medialists.add(
                conn, list_name, Entry.checked(f"{key}@{domain}", name, "Testilan Sanomat", langs, (), LANGS), when
            )


def _text(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def _newsroom(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsroom.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


@dataclass
class World:
    content: Path
    db: Path
    settings: dict
    outputs: dict[str, Path]
    steps: dict[str, list[Received]] = field(default_factory=dict)
    opt_out_answer: httpx.Response | None = None

    def to(self, step: str, domain: str = PRESS) -> dict[str, list[Received]]:
        """The step's media list emails to `domain` by recipient (or the subscriber emails, for PUBLIC)."""
        found: dict[str, list[Received]] = {}
        for r in self.steps[step]:
            press = "<press." in r.message["List-Id"]
            if r.recipient.endswith("@" + domain) and press == (domain == PRESS):
                found.setdefault(r.recipient.split("@")[0], []).append(r)
        return found


@pytest.fixture(scope="module")
def world(tmp_path_factory, smtp_server) -> World:
    """One newsroom through a publication to two lists, an opt-out, an advance under embargo and its lift."""
    root = tmp_path_factory.mktemp("medialists")
    content = _content(root / "content")
    outputs = {
        name: build_site(content, root / name, publish=True, now=now).output
        for name, now in (("b0", T0), ("b1", T1), ("advance", ADVANCE_AT), ("lifted", LIFTED))
    }
    port = free_port()
    db = root / "state" / "newsroom.sqlite3"
    settings = _settings(content, db, smtp_server.url, f"http://127.0.0.1:{port}")
    conn = store.connect(db)
    start = datetime.fromisoformat("2026-11-01T09:00+02:00")
    _add(conn, PRESS, JOURNALISTS, start)
    for name in ("reader", "optout"):
        domain = PUBLIC if name == "reader" else PRESS
        subscribers.add(conn, f"{name}@{domain}", Preferences(("fi",)), start)
    conn.close()
    uvicorn_server = server(create_app(settings), "127.0.0.1", port)
    thread = threading.Thread(target=uvicorn_server.run, name="service-for-media-lists")
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.02)
    world = World(content, db, settings, outputs)
    seen = 0

    def step(name: str, output: str, now: str) -> None:
        nonlocal seen
        notify(settings, outputs[output], now)
        mail = [r for r in smtp_server.handler.received if r.recipient.endswith(("@" + PRESS, "@" + PUBLIC))]
        world.steps[name], seen = mail[seen:], len(mail)

    try:
        step("first", "b0", T0)
        step("publication", "b1", T1)
        leaving = world.to("publication")["optout"][0].message
        url = re.fullmatch(r"<(.+)>", leaving["List-Unsubscribe"]).group(1)
        world.opt_out_answer = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=30)
        step("advance", "advance", ADVANCE_AT)
        step("lifted", "lifted", LIFTED)
    finally:
        uvicorn_server.should_exit = True
        thread.join(30)
    return world


def test_a_release_with_two_lists_reaches_each_journalist_once_in_their_language(world):
    got = world.to("publication")
    assert set(got) == set(JOURNALISTS)
    assert all(len(mail) == 1 for mail in got.values())
    subjects = {name: mail[0].message["Subject"] for name, mail in got.items()}
    # Emma reads English, which the release does not have: she gets the newsroom's first language.
    assert subjects == {
        "kaisa": PUB_FI,
        "sven": PUB_SV,
        "both": PUB_FI,
        "optout": PUB_FI,
        "rita": PUB_SV,
        "emma": PUB_FI,
    }
    assert got["sven"][0].message["Content-Language"] == "sv"
    public_url = next(e["url"] for e in manifest.read(world.outputs["b1"])["releases"] if e["release"] == "pub")
    assert public_url in _text(got["kaisa"][0].message) and public_url in _html(got["kaisa"][0].message)


def test_the_email_comes_from_the_contact_person_with_a_greeting_and_a_working_opt_out(world):
    message = world.to("publication")["kaisa"][0].message
    assert message["From"] == "Ville Virtanen <uutiset@testila.example>"
    assert message["Reply-To"] == "ville.virtanen@testila.example"
    assert "Hei Kaisa Korhonen," in _text(message) and "Hei Kaisa Korhonen," in _html(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://127\.0\.0\.1:\d+/press-opt-out/[\w-]{43}>", message["List-Unsubscribe"])
    assert message["List-Id"] and message["Message-ID"].endswith("@testila.example>")
    # A long name with letters quoted-printable must encode (and an '=') is filled into both parts intact.
    received = world.to("publication")["rita"][0]
    rita, long_name = received.message, JOURNALISTS["rita"][0]
    assert f"Hej {long_name}," in _text(rita) and f"Hej {long_name}," in _html(rita)
    body = received.data.split(b"\r\n\r\n", 1)[1]
    assert max(map(len, body.split(b"\r\n"))) <= 78  # as the email package folds
    swedish = world.to("publication")["sven"][0].message
    assert "Hej Sven Berg," in _text(swedish) and "medielista" in _text(swedish)
    assert world.opt_out_answer.status_code == 200
    assert "Olet poistunut medialistoiltamme" in world.opt_out_answer.text


def test_subscribers_get_their_own_email_beside_the_lists(world):
    readers = world.to("publication", PUBLIC)
    assert [r.message["Subject"] for r in readers["reader"]] == [f"Tiedote: {PUB_FI}"]
    to_optout = [r.message["Subject"] for r in world.steps["publication"] if r.recipient == f"optout@{PRESS}"]
    assert sorted(to_optout) == [PUB_FI, f"Tiedote: {PUB_FI}"]  # on a list, and a subscriber too


def test_an_advance_goes_to_its_lists_only_with_the_embargo_and_no_public_link(world):
    got = world.to("advance")
    assert set(got) == {"kaisa", "sven", "both"}  # not optout (opted out), not the regional papers
    fi, sv = got["kaisa"][0].message, got["sven"][0].message
    assert fi["Subject"] == f"EMBARGO 5.1.2027 klo 9.00 asti: {AWARD_FI}"
    assert sv["Subject"] == f"EMBARGO till 5.1.2027 kl. 9.00: {AWARD_SV}"
    assert _text(fi).startswith("EMBARGO 5.1.2027 klo 9.00 asti\n")
    assert _text(sv).startswith("EMBARGO till 5.1.2027 kl. 9.00\n")
    assert "Palkinnon saa **Aino Aaltonen**." in _text(fi) and "<strong>Aino Aaltonen</strong>" in _html(fi)
    public_url = next(e["url"] for e in manifest.read(world.outputs["lifted"])["releases"] if e["release"] == "award")
    site = world.settings["SITEURL"]
    for message in (fi, sv):
        for text in (message.as_string(), _text(message), _html(message)):
            assert public_url not in text and site not in text
    # Each journalist's own embargoed preview link (tests/test_review.py opens one), and the opt-out link.
    previews = []
    for message in (fi, sv):
        preview, opt_out = re.findall(r'href="(http[^"]+)"', _html(message))
        assert opt_out == re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
        assert re.fullmatch(re.escape(world.settings["NEWSROOM_DESK_PREVIEW_URL"]) + r"/t/[\w-]{43}/", preview)
        assert preview in _text(message)
        previews.append(preview)
    assert previews[0] != previews[1]
    assert "Toimittajien ennakkoversio embargon ajaksi" in _text(fi)


def test_before_the_lift_the_site_feeds_and_subscribers_know_nothing_of_the_release(world):
    assert world.to("advance", PUBLIC) == {}
    for path in world.outputs["advance"].rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert AWARD_FI not in text and AWARD_SV not in text, path
    assert "award" not in {e["release"] for e in manifest.read(world.outputs["advance"])["releases"]}


def test_at_the_lift_the_subscribers_get_it_and_the_advance_is_not_sent_again(world):
    assert {name: [r.message["Subject"] for r in mail] for name, mail in world.to("lifted", PUBLIC).items()} == {
        "reader": [f"Tiedote: {AWARD_FI}"]
    }
    assert world.to("lifted") == {}


def test_an_opted_out_journalist_gets_nothing_from_the_lists_or_the_subscriptions(world):
    later = world.steps["advance"] + world.steps["lifted"]
    assert f"optout@{PRESS}" not in {r.recipient for r in later}
    conn = store.connect(world.db)
    try:
        assert subscribers.find(conn, f"optout@{PRESS}").status == "unsubscribed"
        assert medialists.blocked(conn, f"optout@{PRESS}").startswith("opted out")
    finally:
        conn.close()


def test_the_report_shows_per_list_who_was_sent_and_who_suppressed(world):
    env = {"NEWSROOM_DB": str(world.db)}
    shown = _newsroom("distribution", "report", "award", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "culture-desk, advance (embargoed): 3 sent, 1 suppressed" in shown.stdout
    assert re.search(rf"suppressed +optout@{PRESS} Otto Poissa", shown.stdout)
    pub = {(line.list_name, line.email): line.state for line in _report(world, "pub")}
    assert pub[("regional-papers", f"both@{PRESS}")] == pub[("culture-desk", f"both@{PRESS}")] == "sent"
    assert len(pub) == 7


def _report(world: World, release_id: str) -> list[distribution.Line]:
    conn = store.connect(world.db)
    try:
        return distribution.report(conn, release_id)
    finally:
        conn.close()


def test_check_names_unknown_lists_and_an_advance_after_the_date(world, tmp_path):
    content = _content(tmp_path / "content")
    (content / "releases" / "late.fi.md").write_text(
        release("Myöhässä", "2027-02-01 09:00", release_id="late", Distribution="sports", Advance="2027-02-01 10:00"),
        encoding="utf-8",
    )
    catalog = load_catalog(content, ZoneInfo("Europe/Helsinki"))
    assert [str(p).split(": ", 1)[1] for p in catalog.problems] == [
        "Advance: is not before Date; an advance send under embargo goes before the release is public"
    ]
    (content / "releases" / "late.fi.md").write_text(
        release("Myöhässä", "2027-02-01 09:00", release_id="late", Distribution="sports"), encoding="utf-8"
    )
    checked = _newsroom("check", "--content", str(content), env={"NEWSROOM_DB": str(world.db)})
    assert checked.returncode == 1
    assert "late.fi.md:1: Distribution: no media list 'sports'; the lists are culture-desk, regional-papers" in (
        checked.stdout
    )
    unchecked = _newsroom("check", "--content", str(content), env={"NEWSROOM_DB": str(tmp_path / "none.sqlite3")})
    assert unchecked.returncode == 0, unchecked.stdout
    assert "were not checked: there is no database" in unchecked.stdout


def test_the_csv_import_reports_bad_rows_by_line_and_the_export_neutralises_formulas(tmp_path):
    listing = tmp_path / "press.csv"
    listing.write_text(
        "email,name,outlet,languages,beats\n"
        "anna@paper.example,Anna Aho,Päivälehti,fi;sv,kulttuuri;kirjastot\n"
        "not-an-address,Bad Address,X,fi,\n"
        "nameless@paper.example,,X,fi,\n"
        "dane@paper.example,Dane,X,da,\n"
        "ANNA@paper.example,Anna Again,X,fi,\n"
        'evil@paper.example,=HYPERLINK("http://x"),+Outlet,fi,-beat\n',
        encoding="utf-8",
    )
    env = {"NEWSROOM_DB": str(tmp_path / "n.sqlite3")}
    imported = _newsroom("lists", "import", "culture-desk", str(listing), env=env)
    assert imported.returncode == 1
    lines = imported.stdout.splitlines()
    assert lines[0].startswith(f"{listing}:3: email: 'not-an-address' is not an email address")
    assert lines[1] == f"{listing}:4: name: is empty; give the journalist's name (it is used in the greeting)"
    assert lines[2].startswith(f"{listing}:5: languages: 'da' is not a language of this newsroom")
    assert lines[3] == f"{listing}:6: email: anna@paper.example is also on line 2; only the first was used"
    assert "Imported 2 journalist(s) to culture-desk" in lines[4] and "4 row(s) skipped" in lines[4]
    exported = _newsroom("lists", "export", "culture-desk", env=env)
    assert exported.returncode == 0
    assert exported.stdout.splitlines() == [
        "email,name,outlet,languages,beats,status",
        "anna@paper.example,Anna Aho,Päivälehti,fi;sv,kulttuuri;kirjastot,active",
        'evil@paper.example,"\'=HYPERLINK(""http://x"")",\'+Outlet,fi,\'-beat,active',
    ]
    added = _newsroom("lists", "add", "sports", "Sami@paper.example", "--name", "Sami", "--lang", "sv,fi", env=env)
    assert added.returncode == 0 and "Added sami@paper.example on sports." in added.stdout
    assert _newsroom("lists", "show", env=env).stdout.splitlines() == [
        "culture-desk: 2 journalist(s)",
        "sports: 1 journalist(s)",
    ]
    removed = _newsroom("lists", "remove", "sports", "sami@paper.example", env=env)
    assert removed.returncode == 0 and _newsroom("lists", "show", "sports", env=env).stdout == ""
    injected = _newsroom("lists", "add", "sports", "a@paper.example\r\nBcc: x@y.example", "--name", "A", env=env)
    assert injected.returncode == 2 and "line break" in injected.stderr


def test_a_run_killed_mid_distribution_and_run_again_loses_nothing_and_doubles_at_most_one(smtp_server, tmp_path):
    domain = "killed-press.example"
    content = write_content(
        tmp_path / "content",
        {
            "old.fi.md": release("Vanha", "2026-12-01 09:00", release_id="old"),
            "big.fi.md": release("Iso uutinen", "2027-01-03 09:00", release_id="big", Distribution="a, b"),
        },
    )
    b0 = build_site(content, tmp_path / "b0", publish=True, now=T0).output
    b1 = build_site(content, tmp_path / "b1", publish=True, now=T1).output
    db = tmp_path / "n.sqlite3"
    settings = _settings(content, db, smtp_server.url, "https://subscribe.testila.example")
    conn = store.connect(db)
    people = {f"j{n:03d}": (f"Journalist {n}", ("fi",), ("a",) if n % 2 else ("a", "b")) for n in range(150)}
    _add(conn, domain, people, datetime.fromisoformat("2026-11-01T09:00+02:00"))
    conn.close()
    notify(settings, b0, T0)
    env = {
        "NEWSROOM_DB": str(db),
        "NEWSROOM_SMTP_URL": smtp_server.url,
        "NEWSROOM_SUBSCRIBE_URL": settings["NEWSROOM_SUBSCRIBE_URL"],
        "NEWSROOM_MAIL_FROM": settings["NEWSROOM_MAIL_FROM"],
    }
    command = [
        sys.executable,
        "-m",
        "newsroom.cli",
        "notify",
        "--output",
        str(b1),
        "--now",
        T1,
        "--content",
        str(content),
    ]
    smtp_server.handler.hold(100)
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        smtp_server.handler.wait_for(100, domain)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        smtp_server.handler.release()
    assert len(smtp_server.handler.to(domain)) == 100
    rerun = _newsroom("notify", "--output", str(b1), "--now", T1, "--content", str(content), env=env)
    assert rerun.returncode == 0, rerun.stderr
    mail = smtp_server.handler.to(domain)
    counts = Counter(r.recipient for r in mail)
    assert set(counts) == {f"{name}@{domain}" for name in people}
    repeated = [who for who, count in counts.items() if count > 1]
    assert len(repeated) <= 1 and max(counts.values()) <= 2
    for who in repeated:
        assert len({r.message["Message-ID"] for r in mail if r.recipient == who}) == 1


def test_a_451_is_retried_later_with_the_same_message_id_and_a_550_suppresses_everywhere(smtp_server, tmp_path):
    domain = "refusing-press.example"
    content = write_content(
        tmp_path / "content",
        {
            "old.fi.md": release("Vanha", "2026-12-01 09:00", release_id="old"),
            "news.fi.md": release(
                "Ennakkoon", "2027-01-05 09:00", release_id="news", Distribution="a", Advance="2027-01-05 07:00"
            ),
        },
    )
    db = tmp_path / "n.sqlite3"
    settings = _settings(content, db, smtp_server.url, "https://subscribe.testila.example")
    conn = store.connect(db)
    when = datetime.fromisoformat("2026-11-01T09:00+02:00")
    _add(conn, domain, {"tempfail": ("T", ("fi",), ("a",)), "reject": ("R", ("fi",), ("a",))}, when)
    subscribers.add(conn, f"reject@{domain}", Preferences(("fi",)), when)
    conn.close()
    config = NotifyConfig.from_settings(settings)
    first = distribution.send_due(settings, config, datetime.fromisoformat(ADVANCE_AT))
    assert (first.tally.sent, first.tally.retrying, first.tally.failed) == (0, 1, 1)
    too_soon = distribution.send_due(settings, config, datetime.fromisoformat("2027-01-05T07:06+02:00"))
    assert too_soon.tally.sent == 0
    later = distribution.send_due(settings, config, datetime.fromisoformat("2027-01-05T07:15+02:00"))
    assert later.tally.sent == 1
    tries = [r for r in smtp_server.handler.received if r.recipient == f"tempfail@{domain}"]
    assert [r.answer[:3] for r in tries] == ["451", "250"]
    assert len({r.message["Message-ID"] for r in tries}) == 1
    conn = store.connect(db)
    try:
        assert subscribers.find(conn, f"reject@{domain}").status == "suppressed"
        states = {line.email.split("@")[0]: line.state for line in distribution.report(conn, "news")}
        assert states == {"tempfail": "sent", "reject": "bounced"}
    finally:
        conn.close()


def test_an_advance_still_deferred_at_the_lift_gives_way_to_the_publication_send(smtp_server, tmp_path):
    domain = "deferred-press.example"
    content = write_content(
        tmp_path / "content",
        {
            "old.fi.md": release("Vanha", "2026-12-01 09:00", release_id="old"),
            "late.fi.md": release(
                "Viivästynyt ennakko",
                "2027-01-05 09:00",
                release_id="late",
                Distribution="a",
                Advance="2027-01-05 07:00",
            ),
        },
    )
    b0 = build_site(content, tmp_path / "b0", publish=True, now=T0).output
    lifted = build_site(content, tmp_path / "lifted", publish=True, now=LIFTED).output
    db = tmp_path / "n.sqlite3"
    settings = _settings(content, db, smtp_server.url, "https://subscribe.testila.example")
    conn = store.connect(db)
    _add(conn, domain, {"tempfail": ("T", ("fi",), ("a",))}, datetime.fromisoformat("2026-11-01T09:00+02:00"))
    conn.close()
    notify(settings, b0, T0)
    early = distribution.send_due(settings, NotifyConfig.from_settings(settings), datetime.fromisoformat(ADVANCE_AT))
    assert early.tally.retrying == 1
    notify(settings, lifted, LIFTED)
    got = smtp_server.handler.to(domain, accepted_only=False)
    assert [(r.answer[:3], r.message["Subject"]) for r in got] == [
        ("451", "EMBARGO 5.1.2027 klo 9.00 asti: Viivästynyt ennakko"),
        ("250", "Viivästynyt ennakko"),
    ]
    conn = store.connect(db)
    try:
        assert [(line.kind, line.state) for line in distribution.report(conn, "late")] == [
            ("advance", "skipped"),
            ("release", "sent"),
        ]
    finally:
        conn.close()
