"""`newsroom lists` (media lists: add, remove, show, import, export) and `newsroom distribution` (send-due, report)."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from newsroom.core.model import Catalog, Problem
from newsroom.core.text import split_list
from newsroom.mail import distribution, medialists, store
from newsroom.mail.addresses import SubscriberError
from newsroom.mail.medialists import Entry, ListError
from newsroom.mail.notify import NotifyConfig, NotifyError

OK, CONTENT_PROBLEMS, USAGE = 0, 1, 2
log = logging.getLogger("newsroom.medialists")
Opener = Callable[[argparse.Namespace], tuple[dict, sqlite3.Connection, datetime]]


def list_problems(settings: dict, catalog: Catalog) -> tuple[list[Problem], str | None]:
    """Distribution lines naming a list the database does not have; without a database, a note that it was not checked."""
    named = [r for r in catalog.releases if r.distribution]
    if not named:
        return [], None
    db = store.db_path(settings)
    if not db.is_file():
        return [], f"Note: the media lists in Distribution lines were not checked: there is no database at {db} yet."
    try:
        conn = store.connect(db)
        try:
            known = medialists.names(conn)
        finally:
            conn.close()
    except (sqlite3.Error, RuntimeError) as exc:
        return [], f"Note: the media lists in Distribution lines were not checked: cannot read {db} ({exc})."
    problems = [
        Problem(
            release.source,
            1,
            "Distribution",
            f"no media list '{name}'; "
            + (f"the lists are {', '.join(known)}" if known else "there are no lists yet ('newsroom lists add')"),
        )
        for release in named
        for name in release.distribution
        if name not in known
    ]
    return problems, None


def cmd_lists(args: argparse.Namespace, opener: Opener) -> int:
    settings, conn, now = opener(args)
    langs = tuple(settings["NEWSROOM_LANGUAGES"])
    try:
        if args.action == "add":
            entry = Entry.checked(
                args.address,
                args.name,
                args.outlet or "",
                split_list(args.lang or langs[0]),
                split_list(args.beats or ""),
                langs,
            )
            new = medialists.add(conn, args.list, entry, now)
            print(f"{'Added' if new else 'Updated'} {entry.email} on {args.list}.")
        elif args.action == "remove":
            if not medialists.remove(conn, args.list, args.address):
                print(f"newsroom: {args.address} is not on {args.list}.", file=sys.stderr)
                return CONTENT_PROBLEMS
            print(f"Removed {args.address} from {args.list}.")
        elif args.action == "show":
            return _show(conn, args.list)
        elif args.action == "import":
            return _import(conn, args.list, Path(args.file), langs, now)
        elif args.action == "erase":
            return _erase(conn, args.address, now)
        elif args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                count = medialists.export_csv(conn, medialists.check_name(args.list), out)
            print(f"Exported {count} journalist(s) of {args.list} to {args.output}.")
        else:
            count = medialists.export_csv(conn, medialists.check_name(args.list), sys.stdout)
            print(f"Exported {count} journalist(s) of {args.list}.", file=sys.stderr)
    except (SubscriberError, ListError) as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    finally:
        conn.close()
    return OK


def _show(conn: sqlite3.Connection, name: str | None) -> int:
    lists = medialists.names(conn)
    if name is None:
        if not lists:
            print("There are no media lists yet: 'newsroom lists add LIST ADDRESS --name NAME' makes one.")
        for known, count in lists.items():
            print(f"{known}: {count} journalist(s)")
        return OK
    if name not in lists:
        print(f"newsroom: there is no media list '{name}'; 'newsroom lists show' names them.", file=sys.stderr)
        return CONTENT_PROBLEMS
    for journalist in medialists.members(conn, name):
        print(
            f"{journalist.email} {journalist.status} {','.join(journalist.languages)} "
            f"{journalist.name} ({journalist.outlet or '-'}) beats={';'.join(journalist.beats)}"
        )
    return OK


def _import(conn: sqlite3.Connection, name: str, path: Path, langs: tuple[str, ...], now: datetime) -> int:
    if not path.is_file():
        print(f"newsroom: cannot find {path}", file=sys.stderr)
        return USAGE
    started = time.perf_counter()
    report = medialists.import_csv(conn, medialists.check_name(name), path, langs, now)
    for problem in report.problems:
        print(problem)
    print(
        f"Imported {report.added} journalist(s) to {name} in {time.perf_counter() - started:.1f} s; "
        f"{report.existing} were already on it (their details updated); {len(report.problems)} row(s) skipped."
    )
    return CONTENT_PROBLEMS if report.problems else OK


def _erase(conn: sqlite3.Connection, address: str, now: datetime) -> int:
    done = medialists.erase(conn, address, now)
    if not done.found:
        print(f"newsroom: {address} is on no media list and in no delivery record; nothing to erase.", file=sys.stderr)
        return CONTENT_PROBLEMS
    print(erasure_text(done, address))
    log.info("erased a journalist on request: %s", erasure_text(done, "the address"))
    return OK


def erasure_text(done: medialists.Erasure, address: str) -> str:
    kept = (
        f" Its hash stays on the suppression list ({done.suppressed}), so nothing is sent to it again."
        if done.suppressed
        else " It is a subscriber's address: the subscription stays ('newsroom subscribers erase' removes it)."
    )
    return (
        f"Erased {address}: taken off {done.lists} list(s); {done.deliveries} delivery record(s) kept as counts, "
        f"without the address, name or outlet.{kept}"
    )


def cmd_distribution(
    args: argparse.Namespace, opener: Opener, publish_settings: Callable[[argparse.Namespace], dict]
) -> int:
    if args.action == "report":
        _, conn, _ = opener(args)
        try:
            return _report(conn, args.release)
        finally:
            conn.close()
    settings = publish_settings(args)
    now = settings.now
    try:
        config = NotifyConfig.from_settings(settings)
    except NotifyError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    result = distribution.send_due(settings, config, now)
    for line in result.lines():
        print(line)
    tally = result.tally
    print(
        f"Sent {tally.sent} media list email(s); {tally.retrying} to try again later, {tally.failed} failed, "
        f"{tally.skipped} skipped."
    )
    if tally.down:
        print(f"Stopped sending: {tally.down}. The emails wait in the outbox for the next run.")
        return CONTENT_PROBLEMS
    return OK


def _report(conn: sqlite3.Connection, release_id: str) -> int:
    lines = distribution.report(conn, release_id)
    if not lines:
        print(f"Nothing has been queued for the media lists of '{release_id}'.")
        return OK
    current = None
    for line in lines:
        if (line.kind, line.list_name) != current:
            current = (line.kind, line.list_name)
            what = "advance (embargoed)" if line.kind == distribution.ADVANCE else "at publication"
            totals = Counter(x.state for x in lines if (x.kind, x.list_name) == current)
            print(f"{line.list_name}, {what}: " + ", ".join(f"{n} {state}" for state, n in sorted(totals.items())))
        detail = f" ({line.detail})" if line.detail and line.state != "sent" else ""
        print(f"  {line.state:<10} {line.email} {line.name}, {line.outlet or '-'}{detail}")
    return OK


def register(
    commands: argparse._SubParsersAction,
    common: Callable,
    opener: Opener,
    publish_settings: Callable[[argparse.Namespace], dict],
) -> None:
    """The `lists` and `distribution` commands; `opener` gives settings, the database and the clock, and
    `publish_settings` the public build's settings that notify also reads."""
    lists = commands.add_parser("lists", help="media lists of journalists: add, remove, show, import, export, erase")
    actions = lists.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="put a journalist on a list: lists add culture-desk a@paper.fi --name 'A B'")
    add.add_argument("list")
    add.add_argument("address")
    add.add_argument("--name", required=True, help="the journalist's name, used in the greeting")
    add.add_argument("--outlet", help="the paper, station or agency")
    add.add_argument("--lang", help="languages, comma-separated, the preferred first (default: the newsroom's first)")
    add.add_argument("--beats", help="what they cover, comma-separated")
    remove = actions.add_parser("remove", help="take an address off a list")
    remove.add_argument("list")
    remove.add_argument("address")
    actions.add_parser("show", help="the lists, or one list's journalists").add_argument("list", nargs="?")
    importing = actions.add_parser(
        "import", help="add journalists from a CSV file (columns email, name, outlet, languages, beats; ';' between)"
    )
    importing.add_argument("list")
    importing.add_argument("file")
    erase = actions.add_parser(
        "erase", help="erase a journalist on request: off every list, personal data out of the delivery records"
    )
    erase.add_argument("address")
    export = actions.add_parser("export", help="write a list as CSV (spreadsheet formulas neutralised)")
    export.add_argument("list")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of the screen")
    lists.set_defaults(run=lambda args: cmd_lists(args, opener))

    dist = commands.add_parser("distribution", help="media list sends: send what is due now, report who got what")
    dist_actions = dist.add_subparsers(dest="action", required=True, metavar="ACTION")
    due = dist_actions.add_parser("send-due", help="send advances whose time has come and retries that are due")
    common(due, "--content", "--now")
    dist_actions.add_parser("report", help="per list: who was sent, deferred, bounced or suppressed").add_argument(
        "release"
    )
    dist.set_defaults(run=lambda args: cmd_distribution(args, opener, publish_settings))
