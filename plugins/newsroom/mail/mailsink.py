"""A local SMTP server for trying the newsroom out: it delivers nothing and saves every message as an .eml file."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MailFolder:
    """An aiosmtpd handler writing each message to `folder/<time>-<n>.eml`, readable by any mail program."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now():%Y%m%d-%H%M%S}-{next(self.counter):05d}.eml"
        (self.folder / name).write_bytes(envelope.original_content or b"")
        return "250 Message saved"


def start(folder: Path, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Serve in a background thread; `stop()` the returned controller to end."""
    controller = Controller(MailFolder(folder), hostname=host, port=port)
    try:
        controller.start()
    except BaseException:
        controller.stop(no_assert=True)  # its event loop thread would otherwise keep the process alive
        raise
    return controller
