"""Subscriber records in the SQLite store: addresses, consent, tokens, and the operator's commands."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from newsroom.cli import main
from newsroom.mail import store, subscribers
from newsroom.mail.outbox import Outbox
from newsroom.mail.subscribers import Preferences, SubscriberError
from sitebuilder import ROOT

NOW = datetime.fromisoformat("2026-02-01T12:00+02:00")
LANGS = ("fi", "sv", "en")


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def newsroom(capsys, monkeypatch) -> Callable[..., Ran]:
    """Runs the `newsroom` command in this process, on the database `db`, at NOW."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NEWSROOM_NOW", NOW.isoformat())

    def run(*args: str, db: Path) -> Ran:
        monkeypatch.setenv("NEWSROOM_DB", str(db))
        code = main(list(args))
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run


@pytest.fixture
def conn(tmp_path) -> sqlite3.Connection:
    connection = store.connect(tmp_path / "newsroom.sqlite3")
    yield connection
    connection.close()


def test_the_store_is_migrated_once_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = tmp_path / "state" / "newsroom.sqlite3"
    first = store.connect(db)
    assert first.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert first.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS
    subscribers.add(first, "kept@example.org", Preferences(("fi",)), NOW)
    first.execute(f"PRAGMA user_version = {len(store.MIGRATIONS) + 1}")
    first.close()
    with pytest.raises(RuntimeError, match="newer than this newsroom knows"):
        store.connect(db)
    raw = sqlite3.connect(db)
    raw.execute(f"PRAGMA user_version = {len(store.MIGRATIONS)}")
    raw.close()
    assert subscribers.find(store.connect(db), "kept@example.org").status == "confirmed"


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("  Aino.Lehtonen@Example.ORG ", "aino.lehtonen@example.org"),
        ("matti@bücher.example", "matti@xn--bcher-kva.example"),
        ("a+news@sub.example.fi", "a+news@sub.example.fi"),
    ],
)
def test_addresses_are_stored_in_one_form(typed, stored):
    assert subscribers.normalize_address(typed) == stored


@pytest.mark.parametrize(
    "typed, problem",
    [
        ("aino@example.org\r\nBcc: x@evil.example", "line break"),
        ("aino", "is not an email address"),
        ("aino@gmail", "domain that is not valid"),
        ("ai no@example.org", "characters before the @"),
        ("aino@-bad-.example", "domain that is not valid"),
        ("a" * 65 + "@example.org", "characters before the @"),
    ],
)
def test_addresses_that_cannot_be_used_are_refused_with_a_reason(typed, problem):
    with pytest.raises(SubscriberError, match=problem):
        subscribers.normalize_address(typed)


def test_preferences_are_checked_against_the_newsroom(conn):
    with pytest.raises(SubscriberError, match="'de' is not a language of this newsroom; use fi, sv, en"):
        Preferences(("fi", "de")).checked(LANGS)
    with pytest.raises(SubscriberError, match="'memo' is not a release type"):
        Preferences(("fi",), types=("memo",)).checked(LANGS)
    with pytest.raises(SubscriberError, match="frequency: 'weekly' is not known"):
        Preferences(("fi",), frequency="weekly").checked(LANGS)


def _consent_text(conn, version: str = "sv-0123456789ab") -> str:
    conn.execute(
        "INSERT INTO consent_texts (version, lang, text, recorded_at) VALUES (?, 'sv', 'Jag vill ha pressmeddelanden.', ?)",
        (version, store.stamp(NOW)),
    )
    return version


def test_a_sign_up_is_confirmed_once_by_its_token_and_records_consent(conn):
    version = _consent_text(conn)
    token = subscribers.create_pending(conn, "new@example.org", Preferences(("sv",)), NOW, "web", version)
    assert subscribers.find(conn, "new@example.org").status == "pending"
    assert conn.execute("SELECT count(*) FROM tokens WHERE hash = ?", (token,)).fetchone()[0] == 0
    assert subscribers.confirm(conn, "not-the-token", NOW) is None
    confirmed = subscribers.confirm(conn, token, NOW + timedelta(hours=1))
    assert confirmed.status == "confirmed" and confirmed.confirmed_at == NOW + timedelta(hours=1)
    assert subscribers.confirm(conn, token, NOW + timedelta(hours=2)) is None
    consent = conn.execute("SELECT action, source, text_version FROM consents").fetchall()
    assert [tuple(row) for row in consent] == [("given", "web", version)]
    assert subscribers.create_pending(conn, "new@example.org", Preferences(("sv",)), NOW, "web", version) is None


def test_a_consent_record_must_name_a_stored_text(conn):
    """Item: a version with no stored words, or a web-form consent with no version, cannot be recorded."""
    subscriber, _ = subscribers.add(conn, "reader@example.org", Preferences(("sv",)), NOW)
    insert = "INSERT INTO consents (subscriber_id, at, action, source, text_version) VALUES (?, ?, 'given', ?, ?)"
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(insert, (subscriber.id, store.stamp(NOW), "web form /sv/", "en-000000000000"))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(insert, (subscriber.id, store.stamp(NOW), "web form /sv/", None))
    token = subscribers.create_pending(conn, "other@example.org", Preferences(("sv",)), NOW, "web form /", "sv-000")
    with pytest.raises(sqlite3.IntegrityError):
        subscribers.confirm(conn, token, NOW)
    assert subscribers.find(conn, "other@example.org").status == "pending"
    conn.execute(insert, (subscriber.id, store.stamp(NOW), "web form /sv/", _consent_text(conn)))


def test_a_confirmation_token_expires_after_seven_days(conn):
    token = subscribers.create_pending(conn, "slow@example.org", Preferences(("fi",)), NOW, "web", "v1")
    assert subscribers.confirm(conn, token, NOW + timedelta(days=7, seconds=1)) is None
    assert subscribers.find(conn, "slow@example.org").status == "pending"


def test_an_email_token_changes_preferences_and_unsubscribes_and_never_expires(conn):
    subscriber, _ = subscribers.add(conn, "reader@example.org", Preferences(("fi",), frequency="daily"), NOW)
    token = subscribers.issue_manage_token(conn, subscriber.id, NOW)
    later = NOW + timedelta(days=3650)
    changed = subscribers.update_preferences(conn, token, Preferences(("fi", "en"), types=("news",)), later)
    assert changed.preferences == Preferences(("fi", "en"), types=("news",))
    assert subscribers.unsubscribe(conn, "wrong", later) is None
    assert subscribers.unsubscribe(conn, token, later).status == "unsubscribed"
    assert [tuple(r) for r in conn.execute("SELECT action, source FROM consents ORDER BY id")] == [
        ("given", "operator"),
        ("withdrawn", "link"),
    ]


def test_leaving_skips_emails_already_queued_and_released_digest_items_go_out_at_once(conn):
    keep, _ = subscribers.add(conn, "keep@example.org", Preferences(("fi",), frequency="daily"), NOW)
    leave, _ = subscribers.add(conn, "leave@example.org", Preferences(("fi",)), NOW)
    box = Outbox(conn)
    box.announce([], NOW)
    entry = {
        "release": "r",
        "lang": "fi",
        "type": "news",
        "title": "T",
        "lead": "L",
        "keywords": [],
        "url": "https://x.example/fi/releases/t/",
        "date": NOW.isoformat(),
        "modified": None,
    }
    box.announce([entry], NOW + timedelta(minutes=1))
    token = subscribers.issue_manage_token(conn, keep.id, NOW)
    subscribers.update_preferences(conn, token, Preferences(("fi",)), NOW)
    subscribers.remove(conn, "leave@example.org", NOW)
    statuses = dict(conn.execute("SELECT subscriber_id, status FROM outbox").fetchall())
    assert statuses == {keep.id: "pending", leave.id: "skipped"}


def _write_csv(path: Path, rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def test_importing_100000_rows_adds_the_good_ones_and_reports_bad_rows_by_line(tmp_path, newsroom):
    db = tmp_path / "newsroom.sqlite3"
    conn = store.connect(db)
    subscribers.add(conn, "left@example.org", Preferences(("fi",)), NOW)
    subscribers.remove(conn, "left@example.org", NOW)
    subscribers.erase(conn, "erased@example.org", NOW)
    conn.close()
    rows = [("email", "languages", "types", "keywords", "frequency")]
    rows += [(f"reader{n:06d}@example.org", "fi;sv" if n % 2 else "fi", "", "", "") for n in range(100_000)]
    rows[3] = ("not-an-address", "fi", "", "", "")
    rows[50_001] = ("lang@example.org", "fi;de", "", "", "")
    rows[70_000] = ("kind@example.org", "fi", "memo", "", "")
    rows[80_000] = ("reader000010@example.org", "fi", "", "", "")
    rows[90_000] = ("erased@example.org", "fi", "", "", "")
    rows[99_000] = ("left@example.org", "fi", "", "", "")
    rows[99_999] = ("daily@example.org", "en", "news;press-release", "kirjastot;Satama", "daily")
    listing = tmp_path / "list.csv"
    _write_csv(listing, rows)
    result = newsroom("subscribers", "import", str(listing), db=db)
    assert result.returncode == 1
    problems = result.stdout.splitlines()[:-1]
    assert problems == [
        f"{listing}:4: email: 'not-an-address' is not an email address (name@example.org)",
        f"{listing}:50002: languages: 'de' is not a language of this newsroom; use fi, sv, en",
        f"{listing}:70001: types: 'memo' is not a release type; use press-release, news, invitation, blog, article",
        f"{listing}:80001: email: reader000010@example.org is also on line 12; only the first was used",
        f"{listing}:90001: email: erased@example.org was erased on request; not imported",
    ]
    assert result.stdout.splitlines()[-1].startswith("Imported 99994 subscriber(s) in ")
    assert result.stdout.splitlines()[-1].endswith(
        "1 were already on the list and kept as they were; 5 row(s) skipped."
    )
    conn = store.connect(db)
    assert subscribers.find(conn, "left@example.org").status == "unsubscribed"
    daily = subscribers.find(conn, "daily@example.org")
    assert daily.preferences == Preferences(("en",), ("news", "press-release"), ("kirjastot", "Satama"), "daily")
    assert conn.execute("SELECT count(*) FROM consents WHERE source = 'import:list.csv'").fetchone()[0] == 99_994
    conn.close()


def test_an_import_without_the_required_columns_names_them(tmp_path, newsroom):
    listing = tmp_path / "list.csv"
    _write_csv(listing, [("address", "lang"), ("a@example.org", "fi")])
    result = newsroom("subscribers", "import", str(listing), db=tmp_path / "db.sqlite3")
    assert result.returncode == 2
    assert "missing: email, languages" in result.stderr


def test_a_latin1_import_is_refused_at_its_line_and_imports_nothing(tmp_path, newsroom):
    listing = tmp_path / "list.csv"
    listing.write_bytes(
        "email,languages,keywords\na@example.org,fi,\nb@example.org,fi,Päätöksenteko\n".encode("latin-1")
    )
    db = tmp_path / "db.sqlite3"
    result = newsroom("subscribers", "import", str(listing), db=db)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{listing}:3: is not UTF-8 text" in result.stderr and "nothing was imported" in result.stderr
    assert newsroom("subscribers", "list", db=db).stdout == ""


def test_operator_commands_add_list_export_and_remove(tmp_path, newsroom):
    db = tmp_path / "newsroom.sqlite3"
    added = newsroom(
        "subscribers",
        "add",
        "Toimittaja@Lehti.example",
        "--lang",
        "fi,sv",
        "--types",
        "news",
        "--keywords",
        "kirjastot, satama",
        "--frequency",
        "daily",
        db=db,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == (
        "Added toimittaja@lehti.example: confirmed, fi,sv, daily. Consent recorded as given to the operator."
    )
    newsroom("subscribers", "add", "other@lehti.example", db=db)
    assert newsroom("subscribers", "add", "bad@@lehti", db=db).returncode == 2
    assert "'de' is not a language" in newsroom("subscribers", "add", "x@lehti.example", "--lang", "de", db=db).stderr
    listing = newsroom("subscribers", "list", db=db).stdout.splitlines()
    assert listing == [
        "other@lehti.example confirmed fi immediate",
        "toimittaja@lehti.example confirmed fi,sv daily types=news keywords=kirjastot;satama",
    ]
    assert newsroom("subscribers", "remove", "other@lehti.example", db=db).returncode == 0
    assert newsroom("subscribers", "remove", "nobody@lehti.example", db=db).returncode == 1
    exported = list(csv.DictReader(io.StringIO(newsroom("subscribers", "export", db=db).stdout)))
    assert exported == [
        {
            "email": "toimittaja@lehti.example",
            "languages": "fi;sv",
            "types": "news",
            "keywords": "kirjastot;satama",
            "frequency": "daily",
            "subscribed_at": "2026-02-01T10:00:00+00:00",
        }
    ]
    out = tmp_path / "export.csv"
    newsroom("subscribers", "export", "--output", str(out), db=db)
    again = newsroom("subscribers", "import", str(out), db=db)
    assert again.returncode == 0 and "Imported 0 subscriber(s)" in again.stdout and "1 were already" in again.stdout


def test_erasing_leaves_only_a_hash_of_the_address(tmp_path, newsroom):
    db = tmp_path / "newsroom.sqlite3"
    conn = store.connect(db)
    subscriber, _ = subscribers.add(conn, "private.person@example.org", Preferences(("fi",)), NOW)
    subscribers.issue_manage_token(conn, subscriber.id, NOW)
    box = Outbox(conn)
    box.announce([], NOW)
    box.announce(
        [
            {
                "release": "r",
                "lang": "fi",
                "type": "news",
                "title": "T",
                "lead": "L",
                "keywords": [],
                "url": "https://x.example/",
                "date": NOW.isoformat(),
                "modified": None,
            }
        ],
        NOW,
    )
    conn.close()
    result = newsroom("subscribers", "erase", "Private.Person@example.org", db=db)
    assert result.returncode == 0 and result.stdout.startswith("Erased Private.Person@example.org; only a hash")
    conn = store.connect(db)
    for table in ("subscribers", "consents", "tokens", "outbox"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert [tuple(r) for r in conn.execute("SELECT address_hash, reason FROM suppressions")] == [
        (subscribers.address_hash("private.person@example.org"), "erased on request")
    ]
    conn.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("newsroom.sqlite3"))
    assert b"private.person" not in stored


def test_a_message_that_cannot_be_built_is_retried_later_and_does_not_stall_the_others(conn):
    ids = {
        name: str(subscribers.add(conn, f"{name}@example.org", Preferences(("fi",)), NOW)[0].id)
        for name in ("first", "second", "third")
    }
    box = Outbox(conn)
    box.announce([], NOW)
    entry = {
        "release": "r",
        "lang": "fi",
        "type": "news",
        "title": "T",
        "lead": "L",
        "keywords": [],
        "url": "https://x.example/fi/releases/t/",
        "date": NOW.isoformat(),
        "modified": None,
    }
    box.announce([entry], NOW + timedelta(minutes=1))
    sent = []

    def send(delivery) -> None:
        if delivery.recipient == ids["second"]:
            raise RuntimeError("template broke")
        sent.append(delivery.recipient)

    tally = box.deliver("email", send, NOW + timedelta(minutes=2))
    assert sorted(sent) == sorted([ids["first"], ids["third"]])
    assert (tally.sent, tally.retrying) == (2, 1)
    row = conn.execute(
        "SELECT status, attempts, last_error FROM outbox WHERE recipient = ?", (ids["second"],)
    ).fetchone()
    assert (row["status"], row["attempts"]) == ("pending", 1) and "RuntimeError: template broke" in row["last_error"]


def test_signing_up_again_keeps_a_bounced_address_suppressed_until_the_link_is_used(conn):
    bounced, _ = subscribers.add(conn, "bounced@example.org", Preferences(("fi",)), NOW)
    subscribers.suppress(conn, bounced.id, "550 no such user", NOW)
    token = subscribers.create_pending(
        conn, "bounced@example.org", Preferences(("sv",)), NOW, "form", _consent_text(conn)
    )
    assert subscribers.get(conn, bounced.id).status == "suppressed"
    assert subscribers.confirm(conn, token, NOW + timedelta(minutes=5)).status == "confirmed"


def test_export_cells_cannot_become_spreadsheet_formulas_and_import_reads_them_back(tmp_path, newsroom):
    db = tmp_path / "newsroom.sqlite3"
    conn = store.connect(db)
    typed = ('=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "'quoted", "kirjastot")
    subscribers.add(conn, "=cmd@example.org", Preferences(("fi",), keywords=typed), NOW)
    subscribers.add(conn, "-minus@example.org", Preferences(("sv",), keywords=("\tTab", "Return")), NOW)
    conn.close()
    out = tmp_path / "export.csv"
    assert newsroom("subscribers", "export", "--output", str(out), db=db).returncode == 0
    with out.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    assert "'=cmd@example.org" in cells and "'-minus@example.org" in cells
    fresh = tmp_path / "fresh.sqlite3"
    assert newsroom("subscribers", "import", str(out), db=fresh).returncode == 0
    conn = store.connect(fresh)
    assert subscribers.find(conn, "=cmd@example.org").preferences.keywords == typed
    assert subscribers.find(conn, "-minus@example.org").preferences.keywords == ("Tab", "Return")  # import strips
    conn.close()
