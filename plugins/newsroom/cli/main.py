"""The `newsroom` command: check, build and start content, with messages for writers and exit codes 0/1/2."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

from pelican.log import init as init_logging

from newsroom.build.audit import audit
from newsroom.build.origins import strays
from newsroom.build.preview import PreviewTargetError
from newsroom.build.run import BuildError, BuildOptions, LeakError, build, load_settings
from newsroom.build.search import SearchIndexError
from newsroom.cli import medialists as medialists_cli
from newsroom.cli.publisher import cmd_publisher
from newsroom.content import authoring
from newsroom.content.catalog import ContentError, catalog_for
from newsroom.content.links import link_problems
from newsroom.core.clock import DateError, timestamp
from newsroom.core.embargo import hidden_contacts, hidden_images, next_lift, unpublished
from newsroom.core.logs import keep_every_line
from newsroom.core.model import TYPES
from newsroom.core.settings import Settings, SettingsError, check_public_subscribe_url
from newsroom.core.text import split_list
from newsroom.desk import cli as desk_cli
from newsroom.mail import mailsink, store, subscribers
from newsroom.mail.notify import NotifyConfig, NotifyError, notifier, notify
from newsroom.mail.outbox import Outbox
from newsroom.mail.subscribers import Preferences, SubscriberError
from newsroom.publishing.deploy import DeployError, deploy
from newsroom.publishing.holding import hold
from newsroom.publishing.publish import PublishBusy, publish
from newsroom.publishing.renames import renamed_problems

OK, CONTENT_PROBLEMS, USAGE = 0, 1, 2


def _settings_file(args: argparse.Namespace, publish: bool = False) -> Path:
    if args.settings:
        return Path(args.settings)
    return Path("publishconf.py" if publish else "pelicanconf.py")


def _options(args: argparse.Namespace, publish: bool = False, preview: bool = False) -> BuildOptions:
    settings_file = _settings_file(args, publish)
    if not settings_file.is_file():
        raise SystemExit(
            f"newsroom: cannot find {settings_file}; run the command in the newsroom folder or give --settings FILE"
        )
    return BuildOptions(
        settings_file=settings_file,
        content=Path(args.content) if getattr(args, "content", None) else None,
        output=Path(args.output) if getattr(args, "output", None) else None,
        now=getattr(args, "now", None),
        preview=preview,
    )


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args))
    catalog = catalog_for(settings)
    list_problems, list_note = medialists_cli.list_problems(settings, catalog)
    problems = [
        *catalog.problems,
        *link_problems(catalog, settings.now),
        *renamed_problems(catalog, settings),
        *list_problems,
    ]
    for problem in problems:
        print(problem)
    if list_note:
        print(list_note)
    if problems:
        count = len(problems)
        print(f"\n{count} problem{'s' if count != 1 else ''} found. Fix them and run 'newsroom check' again.")
        return CONTENT_PROBLEMS
    print(
        f"All good: {len(catalog.releases)} releases, {len(catalog.contacts)} contacts, {len(catalog.images)} images."
    )
    return OK


def _reported(action) -> int:
    """Run a build step, turning the problems a user can fix into plain messages and exit code 1."""
    try:
        action()
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"\nNothing was built: fix the {len(exc.problems)} problem(s) above and build again.", file=sys.stderr)
        return CONTENT_PROBLEMS
    except BuildError as exc:
        print(f"The build reported errors, so the site was not finished:\n{exc}", file=sys.stderr)
        return CONTENT_PROBLEMS
    except LeakError as exc:
        print(
            f"STOP: the built site shows releases that are not public yet:\n{exc}\n"
            "Nothing was deployed. Find what links to them (a template or another release) and build again.",
            file=sys.stderr,
        )
        return CONTENT_PROBLEMS
    except (DeployError, PublishBusy, SearchIndexError) as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return CONTENT_PROBLEMS
    except PreviewTargetError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    return OK


def cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=args.publish))
    check_public_subscribe_url(settings)
    started = time.perf_counter()
    # A release NEWSROOM_APPROVAL = "required" holds is a draft here too (publishing/holding.py).
    code = _reported(lambda: build(settings, hold(settings, catalog_for(settings), settings.now, tell=False)[0]))
    if code == OK:
        print(f"Built the newsroom into {settings['OUTPUT_PATH']} in {time.perf_counter() - started:.1f} s.")
    return code


def cmd_preview(args: argparse.Namespace) -> int:
    if not args.output:
        args.output = "preview"
    settings = load_settings(_options(args, preview=True))
    code = _reported(lambda: build(settings))
    if code == OK:
        print(
            f"Preview with drafts and embargoed releases in {settings['OUTPUT_PATH']}. "
            "It is marked noindex and can never be deployed."
        )
    return code


def _next_lift_line(settings: Settings, now) -> str:
    release = next_lift(catalog_for(settings), now)
    if release is None:
        return "No embargoed releases are waiting."
    return (
        f"Next embargo lifts {timestamp(release.date, settings.tz)}: {release.title} ({release.lang}, {release.source})"
    )


def cmd_publish(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=True))
    check_public_subscribe_url(settings)
    if args.target:
        settings["NEWSROOM_DEPLOY"] = args.target
    try:
        notify_step = notifier(settings)
    except NotifyError as exc:
        print(f"newsroom: {exc}\nNothing was published.", file=sys.stderr)
        return USAGE
    outcome = []
    code = _reported(lambda: outcome.append(publish(settings, notify_step)))
    if code != OK:
        return code
    result = outcome[0]
    if result.deployed_to is None:
        print("Nothing new to publish: the public site is up to date.")
    else:
        print(f"Published to {result.deployed_to}.")
        for item in result.newly_public:
            print(f"  now public: {item['title']} ({item['lang']}) {item['url']}")
    if result.notified:
        for line in result.notified.lines():
            print(f"  {line}")
    print(_next_lift_line(settings, result.now))
    if result.notified and not result.notified.ok:
        print(
            "newsroom: the site was published, but the mail could not be sent (see above); nobody was unsubscribed "
            "and the next run sends what waits.",
            file=sys.stderr,
        )
        return CONTENT_PROBLEMS
    return OK


def cmd_notify(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=True))
    try:
        config = NotifyConfig.from_settings(settings)
    except NotifyError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    try:
        report = notify(
            settings,
            Path(args.output).resolve() if args.output else None,
            dry_run=args.dry_run,
            digest=args.digest,
            config=config,
        )
    except NotifyError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return CONTENT_PROBLEMS
    for line in report.lines():
        print(line)
    return OK if report.ok else CONTENT_PROBLEMS


def _store(args: argparse.Namespace) -> tuple[Settings, sqlite3.Connection, datetime]:
    """Settings, an open database and the clock (NEWSROOM_NOW or now) for the operator's commands."""
    settings = load_settings(_options(args))
    return settings, store.connect(store.db_path(settings)), settings.now


def cmd_subscribers(args: argparse.Namespace) -> int:
    settings, conn, now = _store(args)
    langs = tuple(settings["NEWSROOM_LANGUAGES"])
    try:
        if args.action == "add":
            prefs = Preferences(
                split_list(args.lang or langs[0]),
                split_list(args.types or ""),
                split_list(args.keywords or ""),
                args.frequency,
            ).checked(langs)
            subscriber, new = subscribers.add(conn, args.address, prefs, now)
            print(
                f"{'Added' if new else 'Updated'} {subscriber.email}: confirmed, {','.join(prefs.languages)}, "
                f"{prefs.frequency}. Consent recorded as given to the operator."
            )
        elif args.action == "list":
            for subscriber in subscribers.every(conn):
                prefs = subscriber.preferences
                filters = " ".join(
                    f"{name}={';'.join(values)}"
                    for name, values in (("types", prefs.types), ("keywords", prefs.keywords))
                    if values
                )
                print(
                    f"{subscriber.email} {subscriber.status} {','.join(prefs.languages)} {prefs.frequency} {filters}".rstrip()
                )
        elif args.action == "remove":
            if not subscribers.remove(conn, args.address, now):
                print(f"newsroom: {args.address} is not on the list.", file=sys.stderr)
                return CONTENT_PROBLEMS
            print(f"Unsubscribed {args.address}; nothing more is sent to it. Its consent history is kept.")
        elif args.action == "erase":
            known = subscribers.erase(conn, args.address, now)
            print(
                f"{'Erased' if known else 'There was nothing about'} {args.address}; only a hash of the address "
                "is kept, so an import cannot add it again."
            )
        elif args.action == "import":
            return _import(conn, Path(args.file), langs, now)
        elif args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                count = subscribers.export_csv(conn, out)
            print(f"Exported {count} confirmed subscriber(s) to {args.output}.")
        else:
            count = subscribers.export_csv(conn, sys.stdout)
            print(f"Exported {count} confirmed subscriber(s).", file=sys.stderr)
    except SubscriberError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    finally:
        conn.close()
    return OK


def _import(conn: sqlite3.Connection, path: Path, langs: tuple[str, ...], now: datetime) -> int:
    if not path.is_file():
        print(f"newsroom: cannot find {path}", file=sys.stderr)
        return USAGE
    started = time.perf_counter()
    report = subscribers.import_csv(conn, path, langs, now)
    for problem in report.problems:
        print(problem)
    print(
        f"Imported {report.added} subscriber(s) in {time.perf_counter() - started:.1f} s; "
        f"{report.existing} were already on the list and kept as they were; {len(report.problems)} row(s) skipped."
    )
    return CONTENT_PROBLEMS if report.problems else OK


def cmd_outbox(args: argparse.Namespace) -> int:
    _, conn, _ = _store(args)
    box = Outbox(conn)
    counts = box.counts()
    if not counts:
        print("The outbox is empty: nothing has been queued yet.")
    for (channel, status), count in sorted(counts.items()):
        print(f"{channel} {status}: {count}")
    for row in box.problems():
        when = f", next try after {row['due_at'][:16].replace('T', ' ')} UTC" if row["status"] == "pending" else ""
        print(
            f"  {row['status']}: {row['channel']} {row['item']} to {row['recipient']} "
            f"({row['attempts']} attempt(s){when}): {row['last_error']}"
        )
    conn.close()
    return OK


def cmd_mail_sink(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args))
    folder = Path(args.dir) if args.dir else settings.state_dir / "mail"
    try:
        controller = mailsink.start(folder, args.host, args.port)
    except OSError as exc:
        print(f"newsroom: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return CONTENT_PROBLEMS
    print(
        f"Mail sink at smtp://{args.host}:{args.port}: every message is saved in {folder}. Ctrl-C stops it.", flush=True
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return OK


def cmd_subscriptions(args: argparse.Namespace) -> int:
    from newsroom.subscriptions import app as service  # the web stack loads only for the service

    settings = load_settings(_options(args, publish=True))
    try:
        app = service.create_app(settings)
    except service.ServiceError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    logging.getLogger("newsroom.subscriptions.service").setLevel(logging.INFO)
    keep_every_line()
    print(
        f"Subscription service on http://{args.host}:{args.port}, public address {settings['NEWSROOM_SUBSCRIBE_URL']}. "
        "Ctrl-C stops it.",
        flush=True,
    )
    server = service.server(app, args.host, args.port, args.forwarded_allow_ips)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn shuts down cleanly, then passes the Ctrl-C on
        pass
    return OK if server.started else CONTENT_PROBLEMS


def cmd_deploy(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=True))
    target = args.target or settings["NEWSROOM_DEPLOY"]
    output = Path(args.output or settings["OUTPUT_PATH"])
    where = []
    code = _reported(lambda: where.append(deploy(output, target)))
    if code == OK:
        print(f"Deployed {output} to {where[0]}.")
    return code


def cmd_next_embargo(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args))
    release = next_lift(catalog_for(settings), settings.now)
    print(release.date.astimezone(settings.tz).isoformat() if release else "none")
    return OK


def cmd_audit(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=True))
    output = Path(args.output) if args.output else settings.output
    catalog, now = catalog_for(settings), settings.now
    if catalog.problems:
        # A release whose header cannot be read would not be looked for: refuse rather than pass it unaudited.
        for problem in catalog.problems:
            print(problem, file=sys.stderr)
        print(f"newsroom: {len(catalog.problems)} problem(s) in the content; nothing was audited.", file=sys.stderr)
        return CONTENT_PROBLEMS
    leaks = audit(
        output, settings, unpublished(catalog, now), hidden_images(catalog, now), None, hidden_contacts(catalog, now)
    )
    leaks += strays(output, settings, catalog, now)
    for leak in leaks:
        print(leak)
    print(f"{len(leaks)} leak(s) found in {output}." if leaks else f"No unpublished release shows in {output}.")
    return CONTENT_PROBLEMS if leaks else OK


def cmd_new(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args))
    content, tz = settings.content, settings.tz
    if args.what != "contact" and args.lang not in settings.langs:
        print(
            f"newsroom: --lang {args.lang} is not a language of this newsroom; use one of {', '.join(settings.langs)} "
            "(NEWSROOM_LANGUAGES)",
            file=sys.stderr,
        )
        return USAGE
    try:
        if args.what == "release":
            path = authoring.new_release(content, args.type, args.lang, args.title, tz)
            print(
                f"Started {path}. It is a draft: fill in the fields, write the text, "
                "then set 'Status: published' when it may go out."
            )
        elif args.what == "translation":
            path = authoring.new_translation(Path(args.source), args.lang)
            print(
                f"Started {path} from {args.source}. Translate the title, lead and text, add keywords "
                "in the new language, then set 'Status: published'."
            )
        else:
            path = authoring.new_contact(content, args.name)
            print(f"Started {path}. Fill in the title, phone and email.")
    except authoring.AuthoringError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    return OK


COMMON_OPTIONS = {
    "--content": {"metavar": "DIR", "help": "content folder (default: 'content' from the settings)"},
    "--output": {"metavar": "DIR", "help": "built site folder (default: 'output' from the settings)"},
    "--now": {"metavar": "TIME", "help": "act as if it were TIME, e.g. 2026-03-01T09:00+02:00 (or NEWSROOM_NOW)"},
}


def _common(sub: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        sub.add_argument(name, **COMMON_OPTIONS[name])
    return sub


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="newsroom", description="Write, check and publish a press-release newsroom.")
    top.add_argument("--settings", help="settings file (default: pelicanconf.py, or publishconf.py with --publish)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report every problem in the content, one per line")
    _common(check, "--content", "--now")  # links to hidden releases are problems while they are hidden
    check.set_defaults(run=cmd_check)

    build_cmd = commands.add_parser("build", help="check the content and build the site")
    _common(build_cmd, "--content", "--output")
    build_cmd.add_argument("--publish", action="store_true", help="build the public site with publishconf.py")
    _common(build_cmd, "--now")
    build_cmd.set_defaults(run=cmd_build)

    preview = commands.add_parser("preview", help="build everything, drafts and embargoed too, into preview/")
    _common(preview, "--content", "--now")
    preview.add_argument("--output", metavar="DIR", help="default: preview")
    preview.set_defaults(run=cmd_preview)

    publish_cmd = commands.add_parser("publish", help="build the public site fresh, audit it, deploy it, notify")
    _common(publish_cmd, "--content", "--now")
    publish_cmd.add_argument("--target", help="folder or rsync://host/path (default: NEWSROOM_DEPLOY)")
    publish_cmd.set_defaults(run=cmd_publish)

    deploy_cmd = commands.add_parser("deploy", help="deploy an already built public site")
    deploy_cmd.add_argument("--output", metavar="DIR", help="the built site (default: output)")
    deploy_cmd.add_argument("--target", help="folder or rsync://host/path (default: NEWSROOM_DEPLOY)")
    deploy_cmd.set_defaults(run=cmd_deploy)

    audit_cmd = commands.add_parser("audit", help="look for unpublished releases in a built site")
    _common(audit_cmd, "--content", "--output", "--now")
    audit_cmd.set_defaults(run=cmd_audit)

    lift = commands.add_parser("next-embargo", help="print when the next embargoed release becomes public")
    _common(lift, "--content", "--now")
    lift.set_defaults(run=cmd_next_embargo)

    notify_cmd = commands.add_parser("notify", help="email subscribers (and post the webhook) about new releases")
    notify_cmd.add_argument(
        "--output",
        metavar="DIR",
        help="a public build (default: the last one 'newsroom publish' deployed, kept in var/)",
    )
    notify_cmd.add_argument("--now", metavar="TIME", help="notify as if it were TIME; nothing dated later is sent")
    notify_cmd.add_argument("--dry-run", action="store_true", help="show what would be sent; send and record nothing")
    notify_cmd.add_argument("--digest", action="store_true", help="also send today's digest to daily subscribers")
    _common(notify_cmd, "--content")  # the releases' media lists (Distribution, Advance) are read from the content
    notify_cmd.set_defaults(run=cmd_notify)

    subs = commands.add_parser("subscribers", help="add, list, remove, import, export or erase email subscribers")
    actions = subs.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a confirmed subscriber: subscribers add name@example.org --lang fi,sv")
    add.add_argument("address")
    add.add_argument("--lang", metavar="LANGS", help="languages, comma-separated (default: the newsroom's first)")
    add.add_argument("--types", metavar="TYPES", help=f"only these release types, comma-separated: {', '.join(TYPES)}")
    add.add_argument("--keywords", metavar="WORDS", help="only releases with one of these keywords, comma-separated")
    add.add_argument("--frequency", choices=("immediate", "daily"), default="immediate")
    actions.add_parser("list", help="one line each: address, status, languages, frequency")
    for name, text in (
        ("remove", "unsubscribe an address (its record and consent history stay)"),
        ("erase", "delete everything about an address but a hash that keeps it off imports"),
    ):
        actions.add_parser(name, help=text).add_argument("address")
    actions.add_parser(
        "import",
        help="add confirmed subscribers from a CSV file (columns email, languages, "
        "types, keywords, frequency; lists separated by ';')",
    ).add_argument("file")
    actions.add_parser("export", help="write the confirmed subscribers as CSV").add_argument(
        "--output", metavar="FILE", help="default: the screen"
    )
    subs.set_defaults(run=cmd_subscribers)

    outbox_cmd = commands.add_parser("outbox", help="count deliveries by status; list failures with their last error")
    outbox_cmd.set_defaults(run=cmd_outbox)

    sink = commands.add_parser("mail-sink", help="a local SMTP server that saves every message under var/mail/")
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--port", type=int, default=1025)
    sink.add_argument("--dir", metavar="DIR", help="where to save the messages (default: var/mail)")
    sink.set_defaults(run=cmd_mail_sink)

    subscriptions = commands.add_parser("subscriptions", help="the web service the site's subscription forms post to")
    subscriptions_actions = subscriptions.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = subscriptions_actions.add_parser("serve", help="serve sign-up, confirmation, preferences and unsubscribe")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        metavar="IPS",
        help="reverse proxies whose X-Forwarded-For names the client (default: 127.0.0.1)",
    )
    subscriptions.set_defaults(run=cmd_subscriptions)

    resident = commands.add_parser(
        "publisher", help="the resident publisher: lifts embargoes on the second, mails at once"
    )
    resident_actions = resident.add_subparsers(dest="action", required=True, metavar="ACTION")
    resident_actions.add_parser("run", help="publish this newsroom until stopped (one publisher per newsroom)")
    resident_actions.add_parser("status", help="what is live, the next lifts and their prebuilds, the last errors")
    _common(resident, "--content")
    resident.set_defaults(run=lambda args: cmd_publisher(args, load_settings(_options(args, publish=True))))

    new = commands.add_parser("new", help="start a new release, language version or contact card")
    kinds = new.add_subparsers(dest="what", required=True, metavar="WHAT")
    release = kinds.add_parser("release", help='start a release: newsroom new release --type news --lang fi "Title"')
    release.add_argument("--type", required=True, choices=TYPES)
    release.add_argument("--lang", required=True, help="one of the newsroom's NEWSROOM_LANGUAGES")
    release.add_argument("title")
    translation = kinds.add_parser("translation", help="start another language version of a release file")
    translation.add_argument("source", metavar="RELEASE-FILE")
    translation.add_argument("--lang", required=True, help="one of the newsroom's NEWSROOM_LANGUAGES")
    contact = kinds.add_parser("contact", help='start a contact card: newsroom new contact "Aino Lehtonen"')
    contact.add_argument("name")
    for sub in (release, translation, contact):
        _common(sub, "--content")
    new.set_defaults(run=cmd_new)

    # Media lists and their sends (cli/medialists.py).
    medialists_cli.register(commands, _common, _store, lambda args: load_settings(_options(args, publish=True)))
    desk_cli.add_parser(commands, lambda args: load_settings(_options(args)))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    init_logging(level=logging.WARNING)
    try:
        return args.run(args)
    except DateError as exc:
        print(f"newsroom: the time to act at (--now or NEWSROOM_NOW): {exc}", file=sys.stderr)
        return USAGE
    except SettingsError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
