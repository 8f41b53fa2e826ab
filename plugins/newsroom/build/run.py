"""Runs one Pelican build of a newsroom: content checked first, one clock for the whole build, output audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pelican import Pelican
from pelican.log import LimitFilter
from pelican.settings import read_settings

from newsroom.build.audit import Leak, audit
from newsroom.build.origins import Stray, strays
from newsroom.build.preview import refuse_live_output
from newsroom.build.staging import COPIES, files, staged
from newsroom.build.theme import theme_override
from newsroom.content.catalog import ContentError, catalog_for
from newsroom.content.links import link_problems
from newsroom.core.embargo import hidden_contacts, hidden_images, unpublished
from newsroom.core.model import Catalog
from newsroom.core.settings import Settings, SettingsError
from newsroom.site.context import CATALOG_KEY

AUDITED = "newsroom-audit.json"  # in CACHE_PATH: the output files the last audit found clean


class BuildError(Exception):
    """Pelican reported errors while building: some content was not turned into pages."""


class LeakError(Exception):
    """The audit found unpublished material in a public build; nothing may be deployed."""

    def __init__(self, leaks: list[Leak | Stray]):
        self.leaks = leaks
        super().__init__("\n".join(map(str, leaks)))


@dataclass(frozen=True)
class BuildOptions:
    settings_file: Path
    content: Path | None = None
    output: Path | None = None
    now: str | None = None
    preview: bool = False


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_settings(options: BuildOptions) -> Settings:
    """The settings file with the command's options, checked once (a mistyped value or time stops the command before
    it does anything) and with the one moment the command acts at."""
    override: dict = {}
    if options.content is not None:
        override["PATH"] = str(Path(options.content).resolve())
    if options.output is not None:
        output = Path(options.output).resolve()
        override["OUTPUT_PATH"] = str(output)
        override["CACHE_PATH"] = str(output.with_name(f".{output.name}-cache"))  # not shared with other builds
    if options.now is not None:
        override["NEWSROOM_NOW"] = options.now
    if options.preview:
        override.update(NEWSROOM_PREVIEW=True, DELETE_OUTPUT_DIRECTORY=True)
    override = {**theme_override(Path(options.settings_file)), **override}
    if "PATH" in override and not Path(override["PATH"]).is_dir():  # Pelican would stop with a traceback
        raise SettingsError(f"the content folder {override['PATH']} does not exist; give --content an existing folder")
    values = read_settings(str(options.settings_file), override=override)
    return Settings.load(values, Path(options.settings_file).resolve().parent)


def build(settings: dict, catalog: Catalog | None = None) -> Pelican:
    """Check, build, audit: raises ContentError, BuildError or LeakError rather than leave a site that must not go out.

    A caller that has already loaded the catalog (publish) passes it in, so the content is read once.
    """
    settings = Settings.of(settings)
    catalog = catalog or catalog_for(settings)
    if catalog.problems:
        raise ContentError(catalog.problems)
    problems = link_problems(catalog, settings.now, preview=settings.preview)
    if problems:
        raise ContentError(tuple(problems))
    if settings.preview:
        refuse_live_output(settings)
    copies = Path(settings[COPIES]) if settings.get(COPIES) else None
    with staged(settings.output, seed=not settings.get("DELETE_OUTPUT_DIRECTORY"), copies=copies) as work:
        pelican = _run(settings.replace(**{"OUTPUT_PATH": str(work), CATALOG_KEY: catalog}), catalog)
    pelican.output_path = str(settings.output)
    return pelican


def _run(settings: Settings, catalog: Catalog) -> Pelican:
    """Pelican into the work folder, then the audit of what it wrote."""
    now = settings.now
    pelican = Pelican(settings)
    LimitFilter._raised_messages.clear()  # Pelican skips a warning it gave before: in this build, not in a process's
    LimitFilter._group_count.clear()  # next one (the publisher builds for months)
    collector = _ErrorCollector()
    logger = logging.getLogger("pelican")
    logger.addHandler(collector)
    try:
        pelican.run()
    finally:
        logger.removeHandler(collector)
    if collector.messages:
        raise BuildError("\n".join(collector.messages))
    if not settings.preview:
        listing = files(settings.output)
        leaks = audit(
            settings.output,
            settings,
            unpublished(catalog, now),
            hidden_images(catalog, now),
            Path(settings["CACHE_PATH"]) / AUDITED,
            hidden_contacts(catalog, now),
            listing,
        )
        leaks += strays(settings.output, settings, catalog, now, listing)
        if leaks:
            raise LeakError(leaks)
    return pelican
