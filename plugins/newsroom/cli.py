"""The `newsroom` command: check, build and start content, with messages for writers and exit codes 0/1/2."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from pelican.log import init as init_logging

from . import authoring
from .audit import audit
from .build import BuildError, BuildOptions, LeakError, build, load_settings
from .clock import build_now, timestamp
from .deploy import DeployError, deploy
from .embargo import next_lift, unpublished
from .listings import ContentError, catalog_for
from .model import LANGS, TYPES
from .publish import publish

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
    for problem in catalog.problems:
        print(problem)
    if catalog.problems:
        count = len(catalog.problems)
        print(f"\n{count} problem{'s' if count != 1 else ''} found. Fix them and run 'newsroom check' again.")
        return CONTENT_PROBLEMS
    print(f"All good: {len(catalog.releases)} releases, {len(catalog.contacts)} contacts, {len(catalog.images)} images.")
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
        print(f"STOP: the built site shows releases that are not public yet:\n{exc}\n"
              "Nothing was deployed. Find what links to them (a template or another release) and build again.",
              file=sys.stderr)
        return CONTENT_PROBLEMS
    except DeployError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return CONTENT_PROBLEMS
    return OK


def cmd_build(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=args.publish))
    started = time.perf_counter()
    code = _reported(lambda: build(settings))
    if code == OK:
        print(f"Built the newsroom into {settings['OUTPUT_PATH']} in {time.perf_counter() - started:.1f} s.")
    return code


def cmd_preview(args: argparse.Namespace) -> int:
    if not args.output:
        args.output = "preview"
    settings = load_settings(_options(args, preview=True))
    code = _reported(lambda: build(settings))
    if code == OK:
        print(f"Preview with drafts and embargoed releases in {settings['OUTPUT_PATH']}. "
              "It is marked noindex and can never be deployed.")
    return code


def _next_lift_line(settings: dict, now) -> str:
    tz = ZoneInfo(settings["TIMEZONE"])
    release = next_lift(catalog_for(settings), now)
    if release is None:
        return "No embargoed releases are waiting."
    return f"Next embargo lifts {timestamp(release.date, tz)}: {release.title} ({release.lang}, {release.source})"


def cmd_publish(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=True))
    if args.target:
        settings["NEWSROOM_DEPLOY"] = args.target
    outcome = []
    code = _reported(lambda: outcome.append(publish(settings)))
    if code != OK:
        return code
    result = outcome[0]
    if result.deployed_to is None:
        print("Nothing new to publish: the public site is up to date.")
    else:
        print(f"Published to {result.deployed_to}.")
        for item in result.newly_public:
            print(f"  now public: {item['title']} ({item['lang']}) {item['url']}")
    print(_next_lift_line(settings, result.now))
    return OK


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
    tz = ZoneInfo(settings["TIMEZONE"])
    release = next_lift(catalog_for(settings), build_now(settings["NEWSROOM_NOW"], tz))
    print(release.date.astimezone(tz).isoformat() if release else "none")
    return OK


def cmd_audit(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args, publish=True))
    tz = ZoneInfo(settings["TIMEZONE"])
    output = Path(args.output or settings["OUTPUT_PATH"])
    leaks = audit(output, unpublished(catalog_for(settings), build_now(settings["NEWSROOM_NOW"], tz)))
    for leak in leaks:
        print(leak)
    print(f"{len(leaks)} leak(s) found in {output}." if leaks else f"No unpublished release shows in {output}.")
    return CONTENT_PROBLEMS if leaks else OK


def cmd_new(args: argparse.Namespace) -> int:
    settings = load_settings(_options(args))
    content, tz = Path(settings["PATH"]), ZoneInfo(settings["TIMEZONE"])
    try:
        if args.what == "release":
            path = authoring.new_release(content, args.type, args.lang, args.title, tz)
            print(f"Started {path}. It is a draft: fill in the fields, write the text, "
                  "then set 'Status: published' when it may go out.")
        elif args.what == "translation":
            path = authoring.new_translation(Path(args.source), args.lang)
            print(f"Started {path} from {args.source}. Translate the title, lead and text, add keywords "
                  "in the new language, then set 'Status: published'.")
        else:
            path = authoring.new_contact(content, args.name)
            print(f"Started {path}. Fill in the title, phone and email.")
    except authoring.AuthoringError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    return OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="newsroom", description="Write, check and publish a press-release newsroom.")
    top.add_argument("--settings", help="settings file (default: pelicanconf.py, or publishconf.py with --publish)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report every problem in the content, one per line")
    check.add_argument("--content", metavar="DIR", help="content folder (default: from the settings, 'content')")
    check.set_defaults(run=cmd_check)

    build_cmd = commands.add_parser("build", help="check the content and build the site")
    build_cmd.add_argument("--content", metavar="DIR")
    build_cmd.add_argument("--output", metavar="DIR")
    build_cmd.add_argument("--publish", action="store_true", help="build the public site with publishconf.py")
    build_cmd.add_argument("--now", metavar="TIME", help="build as if it were TIME, e.g. 2026-03-01T09:00+02:00")
    build_cmd.set_defaults(run=cmd_build)

    preview = commands.add_parser("preview", help="build everything, drafts and embargoed too, into preview/")
    preview.add_argument("--content", metavar="DIR")
    preview.add_argument("--output", metavar="DIR", help="default: preview")
    preview.add_argument("--now", metavar="TIME")
    preview.set_defaults(run=cmd_preview)

    publish_cmd = commands.add_parser("publish", help="build the public site fresh, audit it, deploy it, notify")
    publish_cmd.add_argument("--content", metavar="DIR")
    publish_cmd.add_argument("--now", metavar="TIME")
    publish_cmd.add_argument("--target", help="folder or rsync://host/path (default: NEWSROOM_DEPLOY)")
    publish_cmd.set_defaults(run=cmd_publish)

    deploy_cmd = commands.add_parser("deploy", help="deploy an already built public site")
    deploy_cmd.add_argument("--output", metavar="DIR", help="the built site (default: output)")
    deploy_cmd.add_argument("--target", help="folder or rsync://host/path (default: NEWSROOM_DEPLOY)")
    deploy_cmd.set_defaults(run=cmd_deploy)

    audit_cmd = commands.add_parser("audit", help="look for unpublished releases in a built site")
    audit_cmd.add_argument("--content", metavar="DIR")
    audit_cmd.add_argument("--output", metavar="DIR")
    audit_cmd.add_argument("--now", metavar="TIME")
    audit_cmd.set_defaults(run=cmd_audit)

    lift = commands.add_parser("next-embargo", help="print when the next embargoed release becomes public")
    lift.add_argument("--content", metavar="DIR")
    lift.add_argument("--now", metavar="TIME")
    lift.set_defaults(run=cmd_next_embargo)

    new = commands.add_parser("new", help="start a new release, language version or contact card")
    kinds = new.add_subparsers(dest="what", required=True, metavar="WHAT")
    release = kinds.add_parser("release", help="start a release: newsroom new release --type news --lang fi \"Title\"")
    release.add_argument("--type", required=True, choices=TYPES)
    release.add_argument("--lang", required=True, choices=LANGS)
    release.add_argument("title")
    translation = kinds.add_parser("translation", help="start another language version of a release file")
    translation.add_argument("source", metavar="RELEASE-FILE")
    translation.add_argument("--lang", required=True, choices=LANGS)
    contact = kinds.add_parser("contact", help="start a contact card: newsroom new contact \"Aino Lehtonen\"")
    contact.add_argument("name")
    for sub in (release, translation, contact):
        sub.add_argument("--content", metavar="DIR")
    new.set_defaults(run=cmd_new)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    init_logging(level=logging.WARNING)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
