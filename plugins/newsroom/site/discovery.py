"""Writes the newsroom for other programs: the search index as soon as the release pages are written, then search
pages, contact cards, invitation calendars, the JSON API, the news sitemap and robots.txt from the public releases;
once every page is written, sitemap.xml."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pelican.generators import Generator

from newsroom.build import search, staging
from newsroom.core import records, urls
from newsroom.core.settings import Settings
from newsroom.site import api, invitation, sitemaps, vcard
from newsroom.site.context import CLOCK_KEY, RELEASES_KEY, write_page

SITEMAP_RECORD = "newsroom-sitemap.json"  # in CACHE_PATH: the sitemap entry of each page, by its <head>


class DiscoveryGenerator(Generator):
    """Runs after NewsroomGenerator, from the same public releases (context[RELEASES_KEY]) and nothing else."""

    def generate_output(self, writer) -> None:
        self.out = Path(self.output_path)
        self.site_url = self.settings["SITEURL"]
        self.tz = Settings.of(self.settings).tz
        self.publisher = self.context["publisher"]
        releases = self.context.get(RELEASES_KEY, [])
        clock = self.context[CLOCK_KEY]
        for lang in self.settings["NEWSROOM_LANGUAGES"]:
            write_page(self, writer, urls.search(lang), "search", lang, alternate_url=urls.search)
        self._write_vcards()
        self._write_calendars(releases)
        self._write_api(releases)
        news = None
        if not clock.preview and sitemaps.is_absolute(self.site_url):
            news = sitemaps.news_sitemap(releases, clock.now, self.publisher, self.site_url, self.tz)
        if news:
            self._save(urls.NEWS_SITEMAP, news)
        else:
            (self.out / urls.NEWS_SITEMAP).unlink(missing_ok=True)  # left by an earlier build
        self._save(urls.ROBOTS, sitemaps.robots(self.site_url, clock.preview, news is not None))

    def _save(self, name: str, data: str | bytes) -> None:
        staging.write(self.out / name, data.encode("utf-8") if isinstance(data, str) else data)

    def _namespace(self) -> str:
        """What makes identifiers (vCard and event UIDs) this newsroom's own: its address, else the publisher's."""
        return self.site_url if sitemaps.is_absolute(self.site_url) else self.publisher.website

    def _write_vcards(self) -> None:
        for lang in self.settings["NEWSROOM_LANGUAGES"]:
            for contact in self.context["all_contacts"]:
                self._save(
                    urls.vcard(lang, contact.id),
                    vcard.card(contact, lang, self.publisher.name[lang], self.site_url, self._namespace()),
                )

    def _write_calendars(self, releases: list) -> None:
        domain = urlsplit(self._namespace()).hostname or "newsroom"
        for article in releases:
            record = article.record
            if record.event:
                self._save(
                    urls.calendar(article.url, record.slug),
                    invitation.calendar(
                        record, f"{self.site_url}/{article.url}", self.publisher.name[record.lang], domain, self.tz
                    ),
                )

    def _write_api(self, releases: list) -> None:
        made: dict[int, dict] = {}
        texts: dict[int, str] = {}
        for lang in (None, *self.settings["NEWSROOM_LANGUAGES"]):
            document = api.document(
                releases,
                self.publisher,
                self.context["image_files"],
                self.site_url,
                self.tz,
                lang,
                self.context.get("video_files"),
                made,
            )
            self._save(urls.api(lang), records.one_a_line(document, "releases", texts))
        self._save(urls.API_SCHEMA, api.SCHEMA.read_bytes())


def index_releases(generator, output: Path) -> None:
    """Start Pagefind on the release pages as soon as they are written, so it works while the rest is built; the
    search pages name its bundles."""
    shards = search.plan(generator.context.get(RELEASES_KEY, []), generator.settings)
    generator.context["search_bundles"] = [shard.bundle for shard in shards] or [urls.SEARCH_BUNDLE]
    search.start(output, generator.settings, shards)


def finish(output: Path, settings: dict) -> None:
    """After every page is written: the search index is complete, sitemap.xml lists the pages (public builds only)."""
    search.finish()
    site_url = settings["SITEURL"]
    if not settings["NEWSROOM_PREVIEW"] and sitemaps.is_absolute(site_url):
        entries = sitemaps.pages(output, site_url, Path(settings["CACHE_PATH"]) / SITEMAP_RECORD)
        staging.write(output / urls.SITEMAP, sitemaps.sitemap(entries))
