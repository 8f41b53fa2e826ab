"""Erasing a journalist on request (GDPR), from `newsroom lists erase` and the desk: off every list, no name, outlet or
address left in the delivery records (whose counts stay), the suppression kept so erasure never starts the mail
again, and logged without the address; and the desk's CSV export, the same file `newsroom lists export` writes."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime

from newsroom.desk import accounts
from newsroom.mail import distribution, medialists, store
from newsroom.mail.medialists import Entry
from runcli import newsroom
from test_desk import _csrf
from test_desk_lists import desk, send_advance  # noqa: F401 (desk: the desk with an approver)

DOMAIN = "erase-press.example"
LANGS = ("fi", "sv", "en")
WHEN = datetime.fromisoformat("2026-02-01T09:00+02:00")


def _entry(who: str) -> Entry:
    return Entry.checked(f"{who}@{DOMAIN}", f"{who.title()} Toimittaja", "Erikoislehti", ("fi",), ("kulttuuri",), LANGS)


def _everything(conn: sqlite3.Connection) -> str:
    """Every value in every table, as one text: where a personal detail would be found if any were left."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return "\n".join(str(row) for table in tables for row in conn.execute(f"SELECT * FROM {table}"))  # noqa: S608


def test_the_command_erases_an_address_and_keeps_its_opt_out(tmp_path):
    db = tmp_path / "n.sqlite3"
    conn = store.connect(db)
    for who in ("anna", "otto"):
        medialists.add(conn, "culture-desk", _entry(who), WHEN)
    medialists.add(conn, "sports", _entry("otto"), WHEN)
    otto = medialists.members(conn, "sports")[0]
    medialists.opt_out(conn, medialists.issue_token(conn, otto.id, WHEN), WHEN)
    conn.close()
    env = {"NEWSROOM_DB": str(db)}

    erased = newsroom("lists", "erase", f"Otto@{DOMAIN}", env=env)
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.startswith(f"Erased Otto@{DOMAIN}: taken off 2 list(s); 0 delivery record(s) kept as counts")
    assert "Its hash stays on the suppression list (opted out (one-click))" in erased.stdout
    assert newsroom("lists", "erase", f"anna@{DOMAIN}", env=env).returncode == 0
    again = newsroom("lists", "erase", f"anna@{DOMAIN}", env=env)
    assert again.returncode == 1 and "nothing to erase" in again.stderr

    conn = store.connect(db)
    try:
        left = _everything(conn)
        for word in ("otto@", "anna@", "Otto Toimittaja", "Anna Toimittaja", "Erikoislehti", "kulttuuri"):
            assert word not in left
        assert medialists.names(conn) == {"culture-desk": 0, "sports": 0}
        assert medialists.blocked(conn, f"otto@{DOMAIN}") == "opted out (one-click)", "the opt-out still holds"
        assert medialists.blocked(conn, f"anna@{DOMAIN}") == "erased on request"
    finally:
        conn.close()
    sheet = tmp_path / "old.csv"
    sheet.write_text(f"email,name,languages\nanna@{DOMAIN},Anna Toimittaja,fi\n", encoding="utf-8")
    imported = newsroom("lists", "import", "culture-desk", str(sheet), env=env)
    assert imported.returncode == 1 and f"{sheet}:2: email: anna@{DOMAIN} was erased on request" in imported.stdout


def test_an_approver_erases_a_journalist_in_the_desk_and_the_report_keeps_its_counts(desk, smtp_server):  # noqa: F811
    send_advance(desk, smtp_server, "erase-desk", [_entry("ok"), _entry("reject")])
    conn = store.connect(store.db_path(desk.settings))
    # A mail server's answer that names the address, as some do; the erasure must not leave it in the record.
    conn.execute("UPDATE outbox SET last_error = ? WHERE status = 'failed'", (f"550 <reject@{DOMAIN}>: no such user",))
    conn.close()

    client = desk.client("appro")
    csrf = _csrf(client.get("/lists").text)
    unconfirmed = client.post("/lists/erase", data={"csrf": csrf, "email": f"reject@{DOMAIN}"})
    assert (
        unconfirmed.status_code == 422
        and 'id="erase-error"><p role="alert">Tick the box to confirm' in unconfirmed.text
    )
    assert f'value="reject@{DOMAIN}"' in unconfirmed.text, "the address typed is kept"
    writer = desk.client("aino")
    refused = writer.post("/lists/erase", data={"csrf": _csrf(writer.get("/lists").text), "email": f"ok@{DOMAIN}"})
    assert refused.status_code == 403
    for who in ("reject", "ok"):
        done = client.post("/lists/erase", data={"csrf": csrf, "email": f"{who}@{DOMAIN}", "confirm": "yes"})
        assert done.status_code == 200, done.text
        assert "Erased: taken off 1 list(s); 1 delivery record(s) kept as counts without personal data." in done.text
    unknown = client.post("/lists/erase", data={"csrf": csrf, "email": f"nobody@{DOMAIN}", "confirm": "yes"})
    assert unknown.status_code == 404 and "nothing was erased" in unknown.text

    conn = store.connect(store.db_path(desk.settings))
    try:
        left = _everything(conn)
        for word in ("ok@", "reject@", "Ok Toimittaja", "Reject Toimittaja", "Erikoislehti"):
            assert word not in left
        assert medialists.blocked(conn, f"reject@{DOMAIN}").startswith("bounced"), "the bounce still holds"
        assert medialists.blocked(conn, f"ok@{DOMAIN}") == "erased on request"
        assert {(line.email, line.state) for line in distribution.report(conn, "news")} == {
            ("(erased on request)", "sent"),
            ("(erased on request)", "bounced"),
        }
    finally:
        conn.close()
    report = client.get("/lists/report/news").text
    assert "erase-desk, advance (embargoed): 1 bounced, 1 sent" in report and "(erased on request)" in report
    actions = accounts.recent_actions(accounts.connect(accounts.db_path(desk.settings)))
    logged = [f"{a['username']} {a['action']} {a['detail']}" for a in actions if "erased" in a["action"]]
    assert len(logged) == 2 and all(
        re.fullmatch(r"appro erased a journalist on request address hash \w{12}: .*", x) for x in logged
    )
    assert not any(DOMAIN in x for x in logged), "the log keeps no erased address"


def test_the_desk_exports_a_list_as_the_command_does_for_administrators_only(desk):  # noqa: F811
    conn = store.connect(store.db_path(desk.settings))
    for who in ("vera", "=formula"):
        entry = Entry.checked(f"{who.strip('=')}@{DOMAIN}", who, "Lehti", ("sv", "fi"), (), LANGS)
        medialists.add(conn, "export-desk", entry, WHEN)
    conn.close()
    answer = desk.client("boss").get("/lists/export-desk/export")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="export-desk.csv"'
    command = newsroom("lists", "export", "export-desk", env={"NEWSROOM_DB": str(store.db_path(desk.settings))})
    assert answer.text == command.stdout and "'=formula" in answer.text, "the same file, formulas neutralised"
    assert 'href="/lists/export-desk/export"' in desk.client("boss").get("/lists/export-desk").text
    approver = desk.client("appro")
    assert approver.get("/lists/export-desk/export").status_code == 403, "full addresses are for administrators"
    assert "export-desk/export" not in approver.get("/lists/export-desk").text
