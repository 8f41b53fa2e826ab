"""What the newsroom's generators share: the keys they leave in Pelican's context, the catalog and clock every
generator starts from, the language switcher's links, and `write_page`, which every generator writes its pages with."""

from __future__ import annotations

from collections.abc import Callable

from pelican.generators import Generator

from newsroom.content.catalog import ContentError, catalog_for
from newsroom.core import urls
from newsroom.core.embargo import Clock
from newsroom.core.model import Catalog
from newsroom.core.settings import Settings
from newsroom.publishing.holding import hold

CATALOG_KEY = "NEWSROOM_CATALOG"
CLOCK_KEY = "NEWSROOM_CLOCK"
RELEASES_KEY = "NEWSROOM_RELEASES"


def prepare(context: dict, settings: dict) -> tuple[Catalog, Clock]:
    """The build's catalog (the one the build checked, else read now; raises ContentError) and its one clock, left
    in the context for the generators that come after."""
    given = context.get(CATALOG_KEY)
    catalog = given or catalog_for(settings)
    if catalog.problems:
        raise ContentError(catalog.problems)
    if given is None and not settings["NEWSROOM_PREVIEW"]:
        # A bare `pelican` run read the content itself: a release NEWSROOM_APPROVAL = "required" holds is a
        # draft here as in every newsroom build (publishing/holding.py).
        catalog = hold(settings, catalog, Settings.of(settings).now, tell=False)[0]
    clock = Clock(Settings.of(settings).now, preview=bool(settings["NEWSROOM_PREVIEW"]))
    context.update({CATALOG_KEY: catalog, CLOCK_KEY: clock, "publisher": catalog.publisher})
    return catalog, clock


def language_links(lang: str, langs, version_in: Callable[[str], str | None] | None = None) -> list[dict]:
    """The switcher's links from a page in `lang`: each other language's version of the page (`version_in(other)`,
    None where that language lacks it), else that language's front page."""
    links = []
    for other in langs:
        if other != lang:
            version = version_in(other) if version_in else None
            links.append({"lang": other, "url": version or urls.front(other), "alternate": version is not None})
    return links


def write_page(generator: Generator, writer, url: str, template: str, lang: str, alternate_url=None, **values) -> None:
    """Write one page; `alternate_url` gives the same page in another language (None where that language lacks it),
    else the switcher links front pages."""
    paginated = {"articles": values["articles"]} if "articles" in values else None
    writer.write_file(
        urls.save_as(url),
        generator.get_template(template),
        generator.context,
        paginated=paginated,
        template_name=template,
        url=url,
        page_lang=lang,
        page_url=url,
        language_links=language_links(lang, generator.settings["NEWSROOM_LANGUAGES"], alternate_url),
        **values,
    )
