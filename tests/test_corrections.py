"""A correction the desk asks subscribers to be told of reaches those who got the release, once, over real SMTP."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from newsroom.build.run import BuildOptions, load_settings
from newsroom.mail import store, subscribers
from newsroom.mail.notify import notify
from newsroom.mail.subscribers import Preferences
from sitebuilder import ROOT, build_site, release, write_content
from smtpsink import Received

DOMAIN = "corrections.example"
NEW_YEAR = datetime.fromisoformat("2026-01-01T00:00+02:00")
# The archive; the release goes public; it is corrected (told: yes); corrected again (told: no); and once more
# with no Correction-Notify field at all.
B0, B1, B2, B3, B4 = (
    "2026-02-01T12:00+02:00",
    "2026-03-02T12:00+02:00",
    "2026-03-03T12:00+02:00",
    "2026-03-04T12:00+02:00",
    "2026-03-05T12:00+02:00",
)
TITLE_FI, TITLE_SV = "Kirjasto avautuu", "Biblioteket öppnar"
NOTE_FI, NOTE_SV = "Aukioloaika on 10–18, ei 9–17.", "Öppettiden är 10–18, inte 9–17."


def _files(**correction: str) -> dict[str, str]:
    """The archive release and the library release in Finnish and Swedish, both carrying `correction` fields."""
    sv_fields = {k: (NOTE_SV if k == "Correction" else v) for k, v in correction.items()}
    return {
        "old.fi.md": release("Vanha tiedote", "2026-01-10 09:00", release_id="old"),
        "library.fi.md": release(TITLE_FI, "2026-03-01 09:00", release_id="library", **correction),
        "library.sv.md": release(TITLE_SV, "2026-03-01 09:00", lang="sv", release_id="library", **sv_fields),
    }


@dataclass
class Story:
    steps: dict[str, list[Received]] = field(default_factory=dict)
    reports: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def story(smtp_server, tmp_path_factory) -> Story:
    root = tmp_path_factory.mktemp("corrections")
    content = write_content(root / "content", _files())
    releases = content / "releases"
    builds = {"b0": build_site(content, root / "b0", publish=True, now=B0).output}
    builds["b1"] = build_site(content, root / "b1", publish=True, now=B1).output
    for name, now, fields in (
        ("b2", B2, {"Modified": "2026-03-03 08:00", "Correction": NOTE_FI, "Correction-Notify": "yes"}),
        ("b3", B3, {"Modified": "2026-03-04 08:00", "Correction": NOTE_FI + " Toinen.", "Correction-Notify": "no"}),
        ("b4", B4, {"Modified": "2026-03-05 08:00", "Correction": NOTE_FI + " Kolmas."}),
    ):
        for file, text in _files(**fields).items():
            (releases / file).write_text(text, encoding="utf-8")
        builds[name] = build_site(content, root / name, publish=True, now=now).output

    db = root / "newsroom.sqlite3"
    settings = load_settings(BuildOptions(ROOT / "publishconf.py"))
    settings.update(
        NEWSROOM_DB=str(db),
        NEWSROOM_SMTP_URL=smtp_server.url,
        NEWSROOM_SUBSCRIBE_URL="https://subscribe.testila.example/s",
        NEWSROOM_MAIL_FROM="uutiset@testila.example",
        NEWSROOM_PUBLISH_WEBHOOK=None,
    )
    conn = store.connect(db)
    subscribers.add(conn, f"anna@{DOMAIN}", Preferences(("fi",)), NEW_YEAR)
    subscribers.add(conn, f"sven@{DOMAIN}", Preferences(("sv",)), NEW_YEAR)
    # Signed up after the release went out, before the correction: never got the release, gets no correction.
    subscribers.add(conn, f"late@{DOMAIN}", Preferences(("fi", "sv")), datetime.fromisoformat(B1))
    conn.close()

    result, seen = Story(), 0
    for step, build, now in (
        ("first", "b0", B0),
        ("release", "b1", B1),
        ("correction", "b2", B2),
        ("correction again", "b2", B2),
        ("told no", "b3", B3),
        ("told nothing", "b4", B4),
    ):
        result.reports[step] = notify(settings, builds[build], now)
        mail = smtp_server.handler.to(DOMAIN)
        result.steps[step], seen = mail[seen:], len(mail)
    return result


def _sent(mail: list[Received]) -> Counter:
    return Counter((r.recipient, r.message["Subject"]) for r in mail)


def test_the_release_goes_to_the_two_subscribers_before_it(story):
    assert _sent(story.steps["release"]) == Counter(
        {
            (f"anna@{DOMAIN}", f"Tiedote: {TITLE_FI}"): 1,
            (f"sven@{DOMAIN}", f"Pressmeddelande: {TITLE_SV}"): 1,
        }
    )


def test_a_correction_to_be_told_reaches_exactly_those_who_got_the_release_in_their_language(story):
    assert _sent(story.steps["correction"]) == Counter(
        {
            (f"anna@{DOMAIN}", f"Korjaus: Tiedote: {TITLE_FI}"): 1,
            (f"sven@{DOMAIN}", f"Rättelse: Pressmeddelande: {TITLE_SV}"): 1,
        }
    )
    lines = story.reports["correction"].lines()
    assert f"Queued the correction of '{TITLE_FI}' (fi): 1 email(s) to those who got it" in lines


def test_the_correction_note_opens_both_parts_of_the_email(story):
    by_recipient = {r.recipient: r.message for r in story.steps["correction"]}
    for address, note, word in ((f"anna@{DOMAIN}", NOTE_FI, "Korjattu"), (f"sven@{DOMAIN}", NOTE_SV, "Rättat")):
        message = by_recipient[address]
        text = message.get_body(("plain",)).get_content().strip()
        assert text.startswith(f"{word} ") and text.splitlines()[0].endswith(note)
        html = message.get_body(("html",)).get_content()
        assert html.index(note) < html.index("<h1")


def test_a_second_run_sends_the_correction_to_nobody(story):
    assert story.steps["correction again"] == []
    assert story.reports["correction again"].announcement.corrected == []


def test_a_subscriber_who_signed_up_after_the_release_gets_no_correction(story):
    assert not any(r.recipient == f"late@{DOMAIN}" for mail in story.steps.values() for r in mail)


def test_a_correction_not_to_be_told_sends_nothing(story):
    assert story.steps["told no"] == [] and story.steps["told nothing"] == []
    assert story.reports["told no"].announcement.corrected == []
    assert story.reports["told nothing"].announcement.corrected == []
