"""RSS 2.0 and Atom feeds (written with feedgen) of each language's releases: all of them, per type and per keyword."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import lxml.html.defs
from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree
from pelican.generators import Generator

from newsroom.core import i18n, licences, urls
from newsroom.core.model import ImageAsset, Publisher, VideoAsset
from newsroom.core.settings import Settings
from newsroom.media.images import ORIGINAL
from newsroom.site.brand import BRAND_KEY, Brand
from newsroom.site.context import CLOCK_KEY, RELEASES_KEY, write_page
from newsroom.site.listings import keyword_groups, types_in

FEEDS_KEY = "feeds"
FORMATS = ("rss", "atom")
MEDIA_NS = "http://search.yahoo.com/mrss/"
# RSS 2.0's channel image is shown at most this large (the file may be larger: readers scale it).
RSS_IMAGE_WIDTH, RSS_IMAGE_HEIGHT = 144, 400
DC_NS = "http://purl.org/dc/elements/1.1/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM_NS = "http://www.w3.org/2005/Atom"
# The date in every tag: id. Never change it: readers would show every release again as new.
ID_DATE = "2026"
# Worth parsing: an address lxml would rewrite that has no scheme (http:, mailto:, ...), a srcset or a CSS url().
_RELATIVE = re.compile(
    r"\s(?:{})\s*=\s*+(?![\"']?+(?:[a-z][a-z0-9+.-]*:|#))|\ssrcset\s*=|url\(".format(
        "|".join(re.escape(name) for name in sorted(lxml.html.defs.link_attrs))
    ),
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Feed:
    """One feed, written as RSS and as Atom: its releases (newest first), its name, and the page it follows."""

    lang: str
    label: str
    title: str
    description: str
    page: str
    rss: str
    atom: str
    items: tuple

    def address(self, fmt: str) -> str:
        return self.rss if fmt == "rss" else self.atom


@dataclass(frozen=True)
class LanguageFeeds:
    """A language's feeds, looked up as its pages need them: the whole newsroom, a type, a keyword slug."""

    all: Feed
    types: dict[str, Feed]
    keywords: dict[str, Feed]

    def __iter__(self):
        yield self.all
        yield from self.types.values()
        yield from self.keywords.values()


def item_id(host: str, record) -> str:
    """A tag: URI from the site's host, the Release id and the language: the same however the release is edited."""
    return f"tag:{host},{ID_DATE}:{record.lang}/{record.release_id}"


def absolute_html(html: str, base: str) -> str:
    """The body with every link and image address made absolute against the release's own address."""
    if not _RELATIVE.search(html):
        return html
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    root.make_links_absolute(base, resolve_base_href=False)
    for element in root.xpath("//*[@srcset]"):
        candidates = (candidate.strip().split(None, 1) for candidate in element.get("srcset").split(","))
        element.set("srcset", ", ".join(" ".join([urljoin(base, c[0]), *c[1:]]) for c in candidates if c))
    return lxml.html.tostring(root, encoding="unicode")[len("<div>") : -len("</div>")]


class _SharedEntry(FeedEntry):
    """A release appears in several feeds: feedgen builds its XML once per format, and each feed gets a copy."""

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[str, etree._Element] = {}

    def atom_entry(self, extensions: bool = True):
        if "atom" not in self._built:
            self._built["atom"] = super().atom_entry(extensions)
        return copy.deepcopy(self._built["atom"])

    def rss_entry(self, extensions: bool = True):
        if "rss" not in self._built:
            self._built["rss"] = super().rss_entry(extensions)
        return copy.deepcopy(self._built["rss"])


class _ChannelExtension(BaseExtension):
    """Declares the namespaces the items use."""

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS, "dc": DC_NS}


class _ItemExtension(BaseEntryExtension):
    """What feedgen does not write itself: the item's language, its publisher by name, in RSS the time of its latest
    correction (atom:updated), and its lead image as Media RSS."""

    language = ""
    creator = ""
    updated: datetime | None = None
    links: tuple[dict, ...] = ()
    image: dict | None = None
    videos: tuple[dict, ...] = ()

    def extend_atom(self, entry):
        entry.set(XML_LANG, self.language)
        # feedgen 1.0.0 writes an entry's <link>s without their attributes (it shadows its loop variable).
        for element, link in zip(entry.findall("link"), self.links):
            element.attrib.update({key: str(value) for key, value in link.items() if key != "href" and value})
        self._media(entry)
        return entry

    def extend_rss(self, item):
        etree.SubElement(item, f"{{{DC_NS}}}language").text = self.language
        etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        etree.SubElement(item, f"{{{ATOM_NS}}}updated").text = self.updated.isoformat()
        self._media(item)
        return item

    def _media(self, parent) -> None:
        for medium, role, item in [("image", "photographer", self.image)] + [
            ("video", "producer", v) for v in self.videos
        ]:
            if not item:
                continue
            attributes = {"url": item["url"], "fileSize": item["size"], "type": item["type"], "medium": medium}
            attributes.update(width=item["width"], height=item["height"])
            if item.get("duration"):
                attributes["duration"] = item["duration"]
            content = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", **attributes)
            etree.SubElement(content, f"{{{MEDIA_NS}}}description", type="plain").text = item["description"]
            if item.get("thumbnail"):
                etree.SubElement(content, f"{{{MEDIA_NS}}}thumbnail", url=item["thumbnail"])
            if item["credit"]:
                etree.SubElement(content, f"{{{MEDIA_NS}}}credit", role=role).text = item["credit"]
            if item["licence"]:
                # Media RSS: <media:license> needs the licence's address; a licence known only by name is copyright.
                if item["licence_url"]:
                    etree.SubElement(
                        content, f"{{{MEDIA_NS}}}license", type="text/html", href=item["licence_url"]
                    ).text = item["licence"]
                else:
                    etree.SubElement(content, f"{{{MEDIA_NS}}}copyright").text = item["licence"]


class FeedsGenerator(Generator):
    """Decides every feed once the public releases are known (pages link them), then writes them and the feeds page."""

    def generate_context(self) -> None:
        self.langs = tuple(self.settings["NEWSROOM_LANGUAGES"])
        self.tz = Settings.of(self.settings).tz
        self.base = urls.public_base(self.settings)
        self.host = urlsplit(self.base).hostname or "localhost"
        self.publisher: Publisher = self.context["publisher"]
        self.brand: Brand = self.context[BRAND_KEY]
        self.catalogs = i18n.catalog_dir(self.settings)
        self.entries: dict[str, FeedEntry] = {}
        limit = self.settings["NEWSROOM_FEED_MAX_ITEMS"]
        releases = self.context.get(RELEASES_KEY, [])
        self.feeds = {
            lang: _language_feeds(
                lang,
                [a for a in releases if a.lang == lang],
                limit,
                i18n.translations(self.catalogs, lang),
                self.publisher.name[lang],
                i18n.publisher_words(self.publisher.name, self.publisher.name_forms, lang),
            )
            for lang in self.langs
        }
        self.context[FEEDS_KEY] = self.feeds

    def generate_output(self, writer) -> None:
        out = Path(self.output_path)
        for lang, feeds in self.feeds.items():
            for feed in feeds:
                self._write_feed(out, feed, [self._entry(article) for article in feed.items])
            write_page(self, writer, urls.feeds(lang), "feeds", lang, alternate_url=urls.feeds)

    def _absolute(self, url: str) -> str:
        return f"{self.base}/{url}"

    def _write_feed(self, out: Path, feed: Feed, items: list[FeedEntry]) -> None:
        generator = FeedGenerator()
        generator.register_extension("newsroom", _ChannelExtension, _ItemExtension)
        generator.id(self._absolute(feed.atom))
        generator.title(feed.title)
        generator.description(feed.description)
        generator.language(feed.lang)
        generator.author(_author(self.publisher, feed.lang))
        icon, logo = self.brand.icon, self.brand.logo_raster
        if icon:
            generator.icon(self._absolute(icon.url))  # Atom: square
        if logo:  # RSS's channel image and Atom's wide logo
            shown = min(logo.width, RSS_IMAGE_WIDTH)
            generator.image(
                self._absolute(logo.url),
                feed.title,
                self._absolute(feed.page),
                width=str(shown),
                height=str(min(RSS_IMAGE_HEIGHT, round(logo.height * shown / logo.width))),
            )
        generator.updated(max((entry.updated() for entry in items), default=self.context[CLOCK_KEY].now))
        for entry in items:
            generator.add_entry(entry, order="append")
        for fmt in FORMATS:
            # feedgen takes the last link as RSS's channel link: the page the feed follows.
            links = [
                {"href": self._absolute(feed.address(fmt)), "rel": "self", "type": f"application/{fmt}+xml"},
                {"href": self._absolute(feed.page), "rel": "alternate", "type": "text/html"},
            ]
            generator.link(links, replace=True)
            path = out / feed.address(fmt)
            path.parent.mkdir(parents=True, exist_ok=True)
            (generator.rss_file if fmt == "rss" else generator.atom_file)(str(path), pretty=True)

    def _entry(self, article) -> FeedEntry:
        """One release as an item; made once and shared by every feed it appears in."""
        if article.source_path not in self.entries:
            self.entries[article.source_path] = self._new_entry(article)
        return self.entries[article.source_path]

    def _new_entry(self, article) -> FeedEntry:
        record = article.record
        lang = record.lang
        link = self._absolute(article.url)
        _ = i18n.translations(self.catalogs, lang).ugettext
        entry = _SharedEntry()
        entry.register_extension("newsroom", _ItemExtension)
        entry.guid(item_id(self.host, record), permalink=False)
        entry.title(record.title)
        entry.link(href=link, rel="alternate", type="text/html")
        entry.published(record.date.astimezone(self.tz))
        entry.updated(record.last_modified.astimezone(self.tz))
        entry.summary(record.lead)
        entry.content(absolute_html(article.get_content(self.base), link), type="html")
        entry.author(_author(self.publisher, lang))
        # A category's scheme is its listing page, so a reader can follow it.
        entry.category(
            term=record.type,
            label=_(i18n.TYPE_NAMES[record.type]),
            scheme=self._absolute(urls.release_type(lang, record.type)),
        )
        for word in record.keywords:
            entry.category(term=word, label=word, scheme=self._absolute(urls.keyword(lang, word)))
        extension = entry.newsroom
        extension.language = lang
        extension.creator = self.publisher.name[lang]
        extension.updated = entry.updated()
        image = record.lead_image
        if image is not None:
            extension.image = self._image(image, lang)
            entry.enclosure(extension.image["url"], extension.image["size"], extension.image["type"])
        # Atom links every video as an enclosure; RSS has room for one, and a video is the file a reader cannot get
        # from the page's text, so it takes the place of the image there.
        extension.videos = tuple(self._video(video, lang) for video in record.videos)
        for video in extension.videos:
            entry.enclosure(video["url"], video["size"], video["type"])
        extension.links = tuple(entry.link())
        return entry

    def _image(self, image: ImageAsset, lang: str) -> dict:
        """The original as served (stripped of metadata, or as-is): its own address, byte size and type."""
        served = self.context["image_files"].of(image)[ORIGINAL]
        return {
            "url": self._absolute(served.url),
            "size": str(served.size),
            "type": served.mime,
            "width": str(served.width),
            "height": str(served.height),
            "description": image.caption.get(lang) or image.alt.get(lang, ""),
            "credit": image.photographer,
            "licence": image.licence,
            "licence_url": licences.url(image.licence),
        }

    def _video(self, video: VideoAsset, lang: str) -> dict:
        return {
            "url": self._absolute(urls.video(video.filename)),
            "size": str(video.size),
            "type": video.mime,
            "width": str(video.width),
            "height": str(video.height),
            "duration": str(round(video.duration)),
            "thumbnail": self._absolute(self.context["video_files"][video.id].poster.url),
            "description": video.caption.get(lang) or video.alt.get(lang, ""),
            "credit": video.credit,
            "licence": video.licence,
            "licence_url": licences.url(video.licence),
        }


def _author(publisher: Publisher, lang: str) -> dict:
    """Name and website only: given an email, feedgen adds an RSS <author> that feedparser garbles with dc:creator."""
    return {"name": publisher.name[lang], "uri": publisher.website}


def _language_feeds(
    lang: str, releases: list, limit: int, translations, publisher: str, words: dict[str, str]
) -> LanguageFeeds:
    """The feeds of one language, named in that language (`words`: the publisher's name as sentences need it);
    the releases are the public ones, newest first."""
    _ = translations.ugettext

    def feed(label: str, heading: str, description: str, page: str, address, items: list) -> Feed:
        return Feed(
            lang,
            label,
            f"{publisher} – {heading}",
            description,
            page,
            address("rss"),
            address("atom"),
            tuple(items[:limit]),
        )

    whole = feed(
        _("All releases"),
        _("Newsroom"),
        _("Releases from %(publisher_of)s, newest first") % words,
        urls.front(lang),
        lambda fmt: urls.feed(lang, fmt),
        releases,
    )
    types = {}
    for kind in types_in(releases):
        name = translations.upgettext(i18n.LISTING, i18n.TYPE_PLURALS[kind])
        types[kind] = feed(
            name,
            name,
            _("%(kind)s from %(publisher)s, newest first") % {**words, "kind": name},
            urls.release_type(lang, kind),
            lambda fmt, k=kind: urls.type_feed(lang, k, fmt),
            [a for a in releases if a.record.type == kind],
        )
    keywords = {
        slug: feed(
            word,
            _("Keyword: %(keyword)s") % {"keyword": word},
            _("Releases from %(publisher_of)s with the keyword %(keyword)s, newest first") % {**words, "keyword": word},
            urls.keyword(lang, word),
            lambda fmt, w=word: urls.keyword_feed(lang, w, fmt),
            items,
        )
        for slug, (word, items) in keyword_groups(releases).items()
    }
    return LanguageFeeds(whole, types, keywords)
