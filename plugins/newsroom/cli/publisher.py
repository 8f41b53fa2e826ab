"""`newsroom publisher run` and `newsroom publisher status`: the resident publisher for operators."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from newsroom.core.logs import keep_every_line
from newsroom.mail.notify import NotifyError
from newsroom.publishing import status
from newsroom.publishing.publisher import Publisher, PublisherRunning

OK, PROBLEM, USAGE = 0, 1, 2


def cmd_publisher(args: argparse.Namespace, settings: dict) -> int:
    if args.action == "status":
        state = Path(settings["NEWSROOM_STATE_DIR"])
        for line in status.lines(status.read(state), status.running(state)):
            print(line)
        return OK
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for name in ("newsroom.publisher", "newsroom.publishing"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).propagate = False
    keep_every_line()
    try:
        publisher = Publisher(settings)
    except NotifyError as exc:
        print(f"newsroom: {exc}\nThe publisher did not start.", file=sys.stderr)
        return USAGE
    publisher.install_signals()
    try:
        publisher.run()
    except PublisherRunning as exc:
        print(f"newsroom: {exc}", file=sys.stderr)
        return PROBLEM
    return OK
