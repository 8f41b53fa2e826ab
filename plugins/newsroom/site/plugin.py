"""Pelican glue: connects the newsroom's steps to Pelican's signals; the steps themselves live in their modules."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2
from jinja2 import FileSystemBytecodeCache
from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator

from newsroom.build import reading, rendering
from newsroom.core import embargo
from newsroom.core.settings import Settings
from newsroom.site import discovery, structured_data
from newsroom.site.brand import BrandGenerator
from newsroom.site.consent import SignupPagesGenerator
from newsroom.site.context import CATALOG_KEY, CLOCK_KEY, RELEASES_KEY, language_links
from newsroom.site.discovery import DiscoveryGenerator
from newsroom.site.feeds import FeedsGenerator
from newsroom.site.listings import NewsroomGenerator
from newsroom.site.mediabank import MediaBankGenerator
from newsroom.theming import templating


def on_initialized(pelican) -> None:
    """A bare `pelican` run reads a plain dict: it gets the same checked settings as a newsroom build."""
    if not isinstance(pelican.settings, Settings):
        pelican.settings = Settings.of(pelican.settings)
        pelican.newsroom_rebuilds = True  # `pelican --autoreload` runs this instance again for every change


def on_get_generators(pelican):
    """Each run of a bare `pelican` instance publishes at its own moment (one for the whole run)."""
    if getattr(pelican, "newsroom_rebuilds", False):
        pelican.settings.follow_the_clock()
    return [
        NewsroomGenerator,
        BrandGenerator,
        MediaBankGenerator,
        FeedsGenerator,
        DiscoveryGenerator,
        SignupPagesGenerator,
    ]


def on_generator_init(generator) -> None:
    if hasattr(generator, "env"):
        templating.install(generator.env, generator.settings)
        structured_data.install(generator.env, generator.settings)
        generator.env.bytecode_cache = _compiled_templates(generator.env, generator.settings)


def _compiled_templates(env: jinja2.Environment, settings: dict) -> FileSystemBytecodeCache:
    """Compiled templates kept in the build's cache folder, so a rebuild (every generator of it, and every publish)
    does not parse and compile the theme again: a third of a warm build of a small newsroom. Jinja checks each
    template's source, so an edited template is compiled afresh; the options templates are compiled with name the
    folder, since Jinja does not check those."""
    options = repr(
        (sorted((key, repr(value)) for key, value in settings["JINJA_ENVIRONMENT"].items()), sorted(env.extensions))
    )
    digest = hashlib.sha256(f"{jinja2.__version__}\n{options}".encode()).hexdigest()[:16]
    folder = Path(settings["CACHE_PATH"]) / f"templates-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(folder))


def on_article_context(generator: ArticlesGenerator, metadata: dict) -> None:
    embargo.decide(metadata, generator.context[CATALOG_KEY], generator.context[CLOCK_KEY])


def _lang_order(langs: tuple[str, ...]):
    """Items in the newsroom's language order (NEWSROOM_LANGUAGES), any other language last."""
    return lambda item: langs.index(item.lang) if item.lang in langs else len(langs)


def on_articles_finalized(generator: ArticlesGenerator) -> None:
    """Attach each release's resolved record, its language versions and "more from the publisher"."""
    catalog = generator.context[CATALOG_KEY]
    langs = tuple(generator.settings["NEWSROOM_LANGUAGES"])
    order = _lang_order(langs)
    # Newest first; versions published at the same moment in a fixed order, so every build lists them alike.
    releases = sorted(
        generator.articles + generator.translations, key=lambda a: (a.date, a.release, -order(a)), reverse=True
    )
    more_count = generator.settings["NEWSROOM_MORE_COUNT"]
    latest: dict[str, list] = {}
    for article in releases:
        # Pelican works an address out from the settings at every use, and a build uses each thousands of times: fixed
        # here, as Pelican fixes one a header gives (`override_url`; not the file name: that would let a second page
        # overwrite the file of the first without an error).
        article.override_url = article.url
        article.record = catalog.release_at(article.source_path)
        latest.setdefault(article.lang, [])
        if len(latest[article.lang]) <= more_count:
            latest[article.lang].append(article)
    for article in releases:
        article.translations = sorted(article.translations, key=order)
        article.language_links = _links(article, langs)
        article.more = [a for a in latest[article.lang] if a is not article][:more_count]
    generator.context[RELEASES_KEY] = releases


def on_pages_finalized(generator: PagesGenerator) -> None:
    langs = tuple(generator.settings["NEWSROOM_LANGUAGES"])
    for page in generator.pages + generator.translations:
        page.translations = sorted(page.translations, key=_lang_order(langs))
        page.language_links = _links(page, langs)


def _links(item, langs: tuple[str, ...]) -> list[dict]:
    """The switcher's links of a release or page: its versions in the other languages."""
    return language_links(item.lang, langs, {t.lang: t.url for t in item.translations}.get)


def on_get_writer(pelican):
    return rendering.QueueingWriter


def on_article_writer_finalized(generator: ArticlesGenerator, writer) -> None:
    """The release pages are written now (the search index reads them), the other pages once the build is done."""
    if isinstance(writer, rendering.QueueingWriter):
        writer.flush()
    discovery.index_releases(generator, Path(generator.output_path))


def on_finalized(pelican) -> None:
    rendering.flush_current()
    discovery.finish(Path(pelican.output_path), pelican.settings)


def register() -> None:
    signals.initialized.connect(on_initialized)
    signals.get_generators.connect(on_get_generators)
    signals.generator_init.connect(on_generator_init)
    signals.article_generator_context.connect(on_article_context)
    signals.article_generator_finalized.connect(on_articles_finalized)
    signals.page_generator_finalized.connect(on_pages_finalized)
    signals.get_writer.connect(on_get_writer)
    signals.article_writer_finalized.connect(on_article_writer_finalized)
    signals.finalized.connect(on_finalized)
    signals.readers_init.connect(reading.on_readers_init)
    signals.article_generator_preread.connect(reading.on_article_preread)
