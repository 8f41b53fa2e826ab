"""Runs one Pelican build of a newsroom with its settings file, refusing content with problems up front."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pelican import Pelican
from pelican.settings import read_settings

from .listings import CATALOG_KEY, ContentError, catalog_for
from .settings import apply_defaults


class BuildError(Exception):
    """Pelican reported errors while building: some content was not turned into pages."""


@dataclass(frozen=True)
class BuildOptions:
    settings_file: Path
    content: Path | None = None
    output: Path | None = None
    now: str | None = None


class _ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_settings(options: BuildOptions) -> dict:
    override: dict = {}
    if options.content is not None:
        override["PATH"] = str(Path(options.content).resolve())
    if options.output is not None:
        override["OUTPUT_PATH"] = str(Path(options.output).resolve())
    if options.now is not None:
        override["NEWSROOM_NOW"] = options.now
    settings = read_settings(str(options.settings_file), override=override)
    apply_defaults(settings)
    return settings


def build(settings: dict) -> Pelican:
    """Check the content, then build; raises ContentError or BuildError instead of publishing a partial site."""
    catalog = catalog_for(settings)
    if catalog.problems:
        raise ContentError(catalog.problems)
    pelican = Pelican({**settings, CATALOG_KEY: catalog})
    counter = _ErrorCounter()
    logger = logging.getLogger("pelican")
    logger.addHandler(counter)
    try:
        pelican.run()
    finally:
        logger.removeHandler(counter)
    if counter.messages:
        raise BuildError("\n".join(counter.messages))
    return pelican
