"""Sitemaps for search engines: every indexable page with its language versions, the last two days' releases for
Google News, and the robots.txt that points at both."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

from newsroom.build import staging
from newsroom.core import i18n, records, urls
from newsroom.core.model import Publisher

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
NEWS_WINDOW = timedelta(days=2)
NEWS_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    loc: str
    alternates: dict[str, str] = field(default_factory=dict)
    lastmod: str | None = None


def is_absolute(site_url: str) -> bool:
    """Sitemaps need full addresses: only a build with an absolute SITEURL (the public one) writes them."""
    return site_url.startswith(("http://", "https://"))


def _first(doc, xpath: str) -> str | None:
    found = doc.xpath(xpath)
    return found[0] if found else None


def read_page(path: Path, output: Path, site_url: str) -> Page | None:
    """The sitemap entry of a built page, from what its own <head> declares; None for pages not to be listed.

    Not listed: error pages, pages marked noindex, and pages whose canonical address is another page.
    Language alternates are listed only when the page's own hreflang link names this very address.
    Only the <head> is parsed: it is all the entry is made from, and a small part of a page.
    """
    relative = path.relative_to(output).as_posix()
    if path.name == "404.html":
        return None
    doc = lxml.html.fromstring(_head(path.read_bytes()) + b"<body></body></html>")
    robots = _first(doc, '//head/meta[@name="robots"]/@content') or ""
    if "noindex" in robots:
        return None
    loc = f"{site_url}/{relative.removesuffix('index.html')}"
    canonical = _first(doc, '//head/link[@rel="canonical"]/@href')
    if canonical and canonical != loc:
        return None
    alternates = {
        link.get("hreflang"): link.get("href") for link in doc.xpath('//head/link[@rel="alternate"][@hreflang]')
    }
    if alternates.get(doc.get("lang")) != loc:
        alternates = {}
    return Page(loc, alternates, _first(doc, '//head/meta[@property="article:modified_time"]/@content'))


def _head(data: bytes) -> bytes:
    end = data.find(b"</head>")
    return data if end < 0 else data[: end + len(b"</head>")]


def pages(output: Path, site_url: str, record: Path | None = None) -> list[Page]:
    """Every listed page; an alternate that is not itself listed (a language without that page) is left out.

    With `record` (a build's), the entry of a page whose <head> is as the last build left it (a page the page cache
    kept, or one only its "more from the publisher" changed in) is taken from it instead of parsing the page again; a
    file with the size and time it had (a kept page) is not read at all."""
    search_bundle = str(output / urls.SEARCH_BUNDLE) + "/"  # that folder only, not pagefind-2/
    known = records.read(record) if record else {}
    known = known.get("pages", {}) if known.get("site_url") == site_url else {}
    now: dict[str, list] = {}
    found = []
    start = len(str(output)) + 1
    for path in staging.files(output):
        if path.suffix != ".html" or str(path).startswith(search_bundle):
            continue
        relative, stat = str(path)[start:], records.stamp(path)
        last = known.get(relative)
        if last and len(last) == 3 and last[2] == stat:
            head = last[0]
        else:
            head = hashlib.sha256(_head(path.read_bytes())).hexdigest()
        if last and last[0] == head:
            page = Page(last[1][0], last[1][1], last[1][2]) if last[1] else None
        else:
            page = read_page(path, output, site_url)
        now[relative] = [head, page and [page.loc, page.alternates, page.lastmod], stat]
        if page:
            found.append(page)
    if record:
        records.write(record, {"site_url": site_url, "pages": now})
    listed = {page.loc for page in found}
    return [
        Page(page.loc, {lang: href for lang, href in page.alternates.items() if href in listed}, page.lastmod)
        for page in found
    ]


def sitemap(entries: list[Page]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "xhtml": XHTML_NS})
    for page in entries:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = page.loc
        if page.lastmod:
            etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = page.lastmod
        for lang, href in page.alternates.items():
            etree.SubElement(url, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=lang, href=href)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def news_sitemap(articles: list, now: datetime, publisher: Publisher, site_url: str, tz: ZoneInfo) -> bytes | None:
    """Releases published within two days before `now`, newest first, at most a thousand (Google's limit); None
    when there are none, since Google News' schema wants at least one <url>."""
    recent = sorted(
        (a for a in articles if now - NEWS_WINDOW <= a.record.date <= now), key=lambda a: a.record.date, reverse=True
    )[:NEWS_LIMIT]
    if not recent:
        return None
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "news": NEWS_NS})
    for article in recent:
        record = article.record
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = f"{site_url}/{article.url}"
        news = etree.SubElement(url, f"{{{NEWS_NS}}}news")
        publication = etree.SubElement(news, f"{{{NEWS_NS}}}publication")
        etree.SubElement(publication, f"{{{NEWS_NS}}}name").text = publisher.name[record.lang]
        etree.SubElement(publication, f"{{{NEWS_NS}}}language").text = record.lang
        etree.SubElement(news, f"{{{NEWS_NS}}}publication_date").text = i18n.iso_date(record.date, tz)
        etree.SubElement(news, f"{{{NEWS_NS}}}title").text = record.title
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def robots(site_url: str, preview: bool, news: bool) -> str:
    """A preview keeps every crawler out; a public build lets them in and names the sitemaps (the news sitemap
    only when there is one: `news`)."""
    if preview:
        return "User-agent: *\nDisallow: /\n"
    text = "User-agent: *\nAllow: /\n"
    if is_absolute(site_url):
        text += f"\nSitemap: {site_url}/{urls.SITEMAP}\n"
        if news:
            text += f"Sitemap: {site_url}/{urls.NEWS_SITEMAP}\n"
    return text
