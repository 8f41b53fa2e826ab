"""`newsroom desk serve` and `newsroom desk users add|list|remove|reset`: the desk's commands."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import threading
from datetime import UTC, datetime

from newsroom.core.logs import keep_every_line
from newsroom.desk import accounts

OK, PROBLEM, USAGE = 0, 1, 2


def add_parser(commands, common) -> None:
    """The `desk` subcommand; `common(args)` gives (settings) for the chosen settings file."""
    desk = commands.add_parser("desk", help="the web desk where staff write, check, preview and schedule releases")
    actions = desk.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", help="serve the desk (and its previews on a second port)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8002)
    serve.add_argument("--preview-port", type=int, default=8003)
    users = actions.add_parser("users", help="add, list, remove desk users or give one a new password")
    what = users.add_subparsers(dest="what", required=True, metavar="WHAT")
    add = what.add_parser("add", help="add a user: desk users add aino --name 'Aino Lehtonen' --role writer")
    add.add_argument("username")
    add.add_argument("--name", default="")
    add.add_argument("--email", default="")
    add.add_argument("--role", choices=accounts.ROLES, default="writer")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    what.add_parser("list", help="one line each: user name, role, name, email")
    what.add_parser("remove", help="remove a user (their saves stay in git)").add_argument("username")
    reset = what.add_parser("reset", help="give a user a new password; their sessions end")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    desk.set_defaults(run=lambda args: run(args, common(args)))


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("The same again: ") != first:
        raise accounts.AccountError("the two passwords differ; nothing was changed")
    return first


def run(args: argparse.Namespace, settings: dict) -> int:
    if args.action == "serve":
        return serve(settings, args.host, args.port, args.preview_port)
    now = datetime.now(UTC)
    conn = accounts.connect(accounts.db_path(settings))
    try:
        if args.what == "add":
            user = accounts.add(conn, args.username, args.name, args.email, args.role, _password(args), now)
            print(f"Added {user.username} ({user.role}).")
        elif args.what == "list":
            for user in accounts.every(conn):
                print(f"{user.username} {user.role} {user.source} {user.name} <{user.email}>")
        elif args.what == "remove":
            accounts.remove(conn, args.username)
            print(f"Removed {args.username}; what they saved stays in the git history.")
        else:
            accounts.reset(conn, args.username, _password(args))
            print(f"New password set for {args.username}; their open sessions have ended.")
    except accounts.AccountError as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    finally:
        conn.close()
    return OK


def serve(settings: dict, host: str, port: int, preview_port: int) -> int:
    import uvicorn  # noqa: PLC0415  (the web stack loads only for the desk)

    from newsroom.desk import app, gitstore, preview, web  # noqa: PLC0415

    try:
        desk_app = app.create_app(settings)
    except (web.DeskError, gitstore.GitError) as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return USAGE
    logging.getLogger("newsroom.desk").setLevel(logging.INFO)
    keep_every_line()
    preview_app = preview.create_preview_app(settings)
    preview_server = uvicorn.Server(uvicorn.Config(preview_app, host=host, port=preview_port, log_level="warning"))
    threading.Thread(target=preview_server.run, daemon=True).start()
    print(
        f"Desk on http://{host}:{port} (public address {settings['NEWSROOM_DESK_URL']}), previews on "
        f"http://{host}:{preview_port}. Ctrl-C stops it.",
        flush=True,
    )
    server = uvicorn.Server(uvicorn.Config(desk_app, host=host, port=port, log_level="warning"))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    preview_server.should_exit = True
    return OK if server.started else PROBLEM
