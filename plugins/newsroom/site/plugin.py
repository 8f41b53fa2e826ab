"""Pelican glue: connects the newsroom's steps to Pelican's signals; the steps themselves live in their modules."""

from __future__ import annotations

from pathlib import Path

from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator

from newsroom.build import reading, rendering
from newsroom.core import embargo, urls
from newsroom.core.model import LANGS
from newsroom.core.settings import apply_defaults
from newsroom.site import discovery, structured_data
from newsroom.site.brand import BrandGenerator
from newsroom.site.consent import SignupPagesGenerator
from newsroom.site.discovery import DiscoveryGenerator
from newsroom.site.feeds import FeedsGenerator
from newsroom.site.listings import CATALOG_KEY, CLOCK_KEY, RELEASES_KEY, NewsroomGenerator
from newsroom.site.mediabank import MediaBankGenerator
from newsroom.theming import templating


def on_initialized(pelican) -> None:
    apply_defaults(pelican.settings)


def on_get_generators(pelican):
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


def on_article_context(generator: ArticlesGenerator, metadata: dict) -> None:
    embargo.decide(metadata, generator.context[CATALOG_KEY], generator.context[CLOCK_KEY])


def _lang_order(item) -> int:
    return LANGS.index(item.lang) if item.lang in LANGS else len(LANGS)


def on_articles_finalized(generator: ArticlesGenerator) -> None:
    """Attach each release's resolved record, its language versions and "more from the publisher"."""
    catalog = generator.context[CATALOG_KEY]
    # Newest first; versions published at the same moment in a fixed order, so every build lists them alike.
    releases = sorted(
        generator.articles + generator.translations, key=lambda a: (a.date, a.release, -_lang_order(a)), reverse=True
    )
    more_count = generator.settings["NEWSROOM_MORE_COUNT"]
    latest: dict[str, list] = {}
    for article in releases:
        article.record = catalog.release_at(article.source_path)
        latest.setdefault(article.lang, [])
        if len(latest[article.lang]) <= more_count:
            latest[article.lang].append(article)
    langs = generator.settings["NEWSROOM_LANGUAGES"]
    for article in releases:
        article.translations = sorted(article.translations, key=_lang_order)
        article.language_links = language_links(article, langs)
        article.more = [a for a in latest[article.lang] if a is not article][:more_count]
    generator.context[RELEASES_KEY] = releases


def on_pages_finalized(generator: PagesGenerator) -> None:
    for page in generator.pages + generator.translations:
        page.translations = sorted(page.translations, key=_lang_order)
        page.language_links = language_links(page, generator.settings["NEWSROOM_LANGUAGES"])


def language_links(item, langs) -> list[dict]:
    """The switcher's links: each other language's version of this item, else that language's front page."""
    versions = {t.lang: t.url for t in item.translations}
    return [
        {"lang": lang, "url": versions.get(lang, urls.front(lang)), "alternate": lang in versions}
        for lang in langs
        if lang != item.lang
    ]


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
