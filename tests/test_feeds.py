"""RSS and Atom feeds: every written feed parsed back (feedparser, lxml) and compared with its releases."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from lxml import etree
from PIL import Image

from newsroom.build.run import BuildOptions, build, load_settings
from newsroom.content.catalog import catalog_for
from newsroom.core import urls
from newsroom.core.embargo import is_public
from sitebuilder import ROOT, Site, release, write_content

TZ = ZoneInfo("Europe/Helsinki")
DEV_BASE = "http://127.0.0.1:8000"
ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
FORMATS = ("rss", "atom")
FINNISH_TYPES = {
    "press-release": "Tiedote",
    "news": "Uutinen",
    "invitation": "Kutsu",
    "blog": "Blogikirjoitus",
    "article": "Artikkeli",
}


def _feeds(site: Site) -> list[Path]:
    return sorted(site.output.glob("*/feeds/**/*.xml"))


def _parse(site: Site, url: str) -> feedparser.FeedParserDict:
    return feedparser.parse((site.output / url).read_bytes())


def _public(site: Site, lang: str | None = None) -> list:
    settings = load_settings(BuildOptions(ROOT / "pelicanconf.py", site.content))
    catalog = catalog_for(settings)
    now = max(r.date for r in catalog.releases)
    return sorted(
        (r for r in catalog.releases if is_public(r, now) and lang in (None, r.lang)),
        key=lambda r: r.date,
        reverse=True,
    )


def _stamp(moment) -> tuple:
    return tuple(moment.utctimetuple())[:6]


def test_every_feed_parses_cleanly_with_feedparser_and_lxml(small_site):
    feeds = _feeds(small_site)
    assert feeds
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        root = etree.parse(str(path)).getroot()
        if path.name.endswith(".rss.xml"):
            assert (parsed.version, root.tag, root.get("version")) == ("rss20", "rss", "2.0"), path
        else:
            assert (parsed.version, root.tag) == ("atom10", f"{ATOM}feed"), path


def test_one_feed_per_language_type_and_keyword_in_both_formats(small_site):
    expected = set()
    for lang in ("fi", "sv", "en"):
        records = _public(small_site, lang)
        kinds = {r.type for r in records}
        words = {urls.keyword_slug(w): w for r in records for w in r.keywords}
        for fmt in FORMATS:
            expected |= {urls.feed(lang, fmt)}
            expected |= {urls.type_feed(lang, kind, fmt) for kind in kinds}
            expected |= {urls.keyword_feed(lang, word, fmt) for word in words.values()}
    assert {str(p.relative_to(small_site.output)) for p in _feeds(small_site)} == expected
    assert len(expected) == 2 * (8 + 3 + 3)


@pytest.mark.parametrize("fmt", FORMATS)
def test_items_carry_every_field_of_their_release(small_site, fmt):
    records = _public(small_site, "fi")
    parsed = _parse(small_site, urls.feed("fi", fmt))
    assert [e.id for e in parsed.entries] == [f"tag:127.0.0.1,2026:fi/{r.release_id}" for r in records]
    for entry, record in zip(parsed.entries, records):
        assert entry.title == record.title
        assert entry.link == f"{DEV_BASE}/fi/releases/{record.slug}/"
        assert _stamp(record.date) == tuple(entry.published_parsed)[:6]
        assert _stamp(max(record.date, record.modified or record.date)) == tuple(entry.updated_parsed)[:6]
        assert entry.summary == record.lead
        assert ("Ensimmäinen kappale." if record.release_id == "tri" else "Body text.") in entry.content[0].value
        assert {tag.get("label") or tag.term for tag in entry.tags} == {FINNISH_TYPES[record.type], *record.keywords}
        assert entry.author == "Testilan kaupunki"
    tri = parsed.entries[[r.release_id for r in records].index("tri")]
    served = small_site.output / "images/red-square.png"  # the original without its metadata, credit added
    assert "<h2>Väliotsikko</h2>" in tri.content[0].value
    assert [(e.href, int(e.length), e.type) for e in tri.enclosures] == [
        (f"{DEV_BASE}/images/red-square.png", served.stat().st_size, "image/png")
    ]
    assert tri.media_content[0]["url"] == f"{DEV_BASE}/images/red-square.png"
    assert tri.media_credit[0]["content"] == "Kuvaaja Kuvitteellinen"


def test_dates_keep_their_offset_and_items_their_language_in_the_xml(small_site):
    atom = etree.parse(str(small_site.output / urls.feed("fi", "atom"))).getroot()
    offset = next(e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == "Aikavyöhyke annettu")
    assert offset.findtext(f"{ATOM}published") == "2026-06-01T12:00:00+03:00"
    assert offset.findtext(f"{ATOM}updated") == "2026-06-02T10:15:00+03:00"
    assert offset.get("{http://www.w3.org/XML/1998/namespace}lang") == "fi"
    rss = etree.parse(str(small_site.output / urls.feed("fi", "rss"))).getroot()
    item = next(i for i in rss.iter("item") if i.findtext("title") == "Kolmikielinen tiedote")
    assert item.findtext("pubDate") == "Sat, 10 Jan 2026 12:00:00 +0200"
    assert item.findtext("{http://purl.org/dc/elements/1.1/}language") == "fi"
    media = item.find(f"{MEDIA}content")
    assert (media.get("medium"), media.get("width"), media.get("height")) == ("image", "64", "48")
    assert media.findtext(f"{MEDIA}description") == "Neliö"
    assert media.findtext(f"{MEDIA}credit") == "Kuvaaja Kuvitteellinen"


@pytest.mark.parametrize(
    "lang, title, description",
    [
        ("fi", "Testilan kaupunki – Uutishuone", "Testilan kaupungin kaikki julkaisut uusimmasta alkaen"),
        ("sv", "Testby stad – Nyhetsrum", "Publiceringar från Testby stad, nyaste först"),
        ("en", "City of Testila – Newsroom", "Releases from City of Testila, newest first"),
    ],
)
def test_channel_is_described_in_its_language(small_site, lang, title, description):
    for fmt in FORMATS:
        parsed = _parse(small_site, urls.feed(lang, fmt))
        feed = parsed.feed
        assert (feed.title, feed.get("subtitle") or feed.get("description")) == (title, description)
        assert feed.language == lang
        links = {link.rel: link.href for link in feed.links}
        assert links == {"self": f"{DEV_BASE}/{urls.feed(lang, fmt)}", "alternate": f"{DEV_BASE}/{lang}/"}
        # The logo is an SVG and there is no raster logo or square icon: no RSS image (RSS 2.0 takes GIF, JPEG or
        # PNG only), and no Atom icon (a square is expected there; test_public_outputs.py has both).
        assert "image" not in feed and feed.get("icon") is None
        assert tuple(feed.updated_parsed) == max(tuple(e.updated_parsed) for e in parsed.entries)
    rss = etree.parse(str(small_site.output / urls.feed("fi", "rss"))).getroot()
    assert rss.findtext("channel/lastBuildDate") == "Sun, 25 Oct 2026 05:00:00 +0200"
    types = _parse(small_site, urls.type_feed("sv", "press-release", "atom")).feed
    assert types.title == "Testby stad – Pressmeddelanden"
    keyword = _parse(small_site, urls.keyword_feed("fi", "päätöksenteko", "rss")).feed
    assert keyword.title == "Testilan kaupunki – Avainsana: päätöksenteko"


def test_swedish_feeds_hold_only_swedish_releases(small_site):
    swedish = [f"tag:127.0.0.1,2026:sv/{r.release_id}" for r in _public(small_site, "sv")]
    for path in small_site.output.glob("sv/feeds/**/*.xml"):
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.entries and parsed.feed.language == "sv"
        assert [e.id for e in parsed.entries] == swedish, path
        assert all(e.title == "Trespråkigt meddelande" for e in parsed.entries)


def test_type_feed_holds_that_type_newest_first(small_site):
    blog = _parse(small_site, urls.type_feed("fi", "blog", "rss"))
    assert [e.title for e in blog.entries] == ["Täyte 7", "Täyte 5", "Täyte 3", "Täyte 1"]


def test_non_ascii_keyword_feed_has_a_working_ascii_address(small_site):
    url = urls.keyword_feed("fi", "päätöksenteko", "atom")
    assert url == "fi/feeds/keyword/paatoksenteko.atom.xml"
    assert [e.title for e in _parse(small_site, url).entries] == ["Kolmikielinen tiedote"]
    page = small_site.html("fi/keyword/paatoksenteko/")
    assert f"/{url}" in [link["href"] for link in page.select("link[type='application/atom+xml']")]


def _feed_links(page) -> dict[str, list[str]]:
    return {
        kind: [link["href"] for link in page.select(f"head link[rel=alternate][type='application/{kind}+xml']")]
        for kind in FORMATS
    }


def test_pages_announce_their_feeds_for_autodiscovery(small_site):
    assert _feed_links(small_site.html("fi/releases/kolmikielinen-tiedote/")) == {
        "rss": ["/fi/feeds/all.rss.xml"],
        "atom": ["/fi/feeds/all.atom.xml"],
    }
    assert _feed_links(small_site.html("sv/"))["rss"] == ["/sv/feeds/all.rss.xml"]
    assert _feed_links(small_site.html("fi/type/news/"))["rss"] == [
        "/fi/feeds/all.rss.xml",
        "/fi/feeds/type/news.rss.xml",
    ]
    assert _feed_links(small_site.html("fi/keyword/kirjastot/"))["atom"] == [
        "/fi/feeds/all.atom.xml",
        "/fi/feeds/keyword/kirjastot.atom.xml",
    ]
    news = small_site.html("fi/type/news/")
    titles = [link["title"] for link in news.select("head link[type='application/rss+xml']")]
    assert titles == ["Testilan kaupunki – Uutishuone (RSS)", "Testilan kaupunki – Uutiset (RSS)"]
    for path in small_site.output.rglob("*.html"):
        for hrefs in _feed_links(small_site.html(str(path.relative_to(small_site.output)))).values():
            assert hrefs and all((small_site.output / href.lstrip("/")).is_file() for href in hrefs), path


def test_feeds_page_lists_every_feed_of_its_language_and_explains_them(small_site):
    page = small_site.html("fi/feeds/")
    assert page.h1.get_text() == "RSS-syötteet"
    assert "syötteenlukijassa" in page.select_one(".intro").get_text()
    listed = {a["href"].lstrip("/") for a in page.select(".feed-list a")}
    assert listed == {str(p.relative_to(small_site.output)) for p in small_site.output.glob("fi/feeds/**/*.xml")}
    assert [s.get_text() for s in page.select(".feed-list__name")][:2] == ["Kaikki julkaisut", "Tiedotteet"]
    assert small_site.html("sv/feeds/").h1.get_text() == "RSS-flöden"
    footer = [a["href"] for a in small_site.html("sv/releases/tresprakigt-meddelande/").select(".site-footer a")]
    assert "/sv/feeds/" in footer


# A public build with an embargoed release, built twice: the second time after a correction to a public one.
NOW = "2026-03-15T12:00+02:00"
BODY = """\
Katso [suunnitelma](../../../attachments/plan.pdf), [toinen]({filename}other.fi.md), [ulkoinen](https://example.org/x).

![Neliö](/images/red-square.png)
"""
EDIT_FILES = {
    "story.fi.md": release(
        "Alkuperäinen otsikko",
        "2026-03-01 09:00",
        release_id="story",
        Keywords="yhteinen",
        Images="red-square",
        body=BODY,
    ),
    "other.fi.md": release("Toinen tiedote", "2026-02-01 09:00", release_id="other", kind="news"),
    "older.fi.md": release("Vanhin tiedote", "2026-01-01 09:00", release_id="older"),
    "secret.fi.md": release(
        "Salainen kutsu",
        "2026-04-01 09:00",
        release_id="secret",
        kind="invitation",
        Keywords="yhteinen, salaisuus",
        Event_Start="2026-04-02 10:00",
        Location="Kaupungintalo",
        body="Tämä kutsu kertoo salaisesta hankkeesta jotain.",
    ),
}
SETTINGS = f"""\
import sys
sys.path.insert(0, {str(ROOT)!r})
from publishconf import *
THEME = {str(ROOT / "theme")!r}
PLUGIN_PATHS = [{str(ROOT / "plugins")!r}]
NEWSROOM_FEED_MAX_ITEMS = 2
"""


@pytest.fixture(scope="module")
def edits(tmp_path_factory) -> tuple[Site, Site, str]:
    root = tmp_path_factory.mktemp("feed-edits")
    content = write_content(
        root / "content",
        EDIT_FILES,
        {"attachments/plan.pdf": "%PDF-1.4\n", "attachments/plan.yaml": "title: Suunnitelma\n"},
    )
    (root / "settings.py").write_text(SETTINGS, encoding="utf-8")

    def build_into(output: str) -> Site:
        settings = load_settings(BuildOptions(root / "settings.py", content, root / output, NOW))
        build(settings)
        return Site(content, root / output)

    first = build_into("first")
    story = content / "releases" / "story.fi.md"
    story.write_text(
        story.read_text(encoding="utf-8")
        .replace("Alkuperäinen otsikko", "Korjattu otsikko")
        .replace("Type:", "Modified: 2026-03-02 10:00\nType:"),
        encoding="utf-8",
    )
    # The second build also has a PNG logo instead of the SVG one.
    Image.new("RGB", (144, 48), "navy").save(content / "logo.png")
    card = content / "newsroom.yaml"
    card.write_text(card.read_text(encoding="utf-8").replace("logo: logo.svg", "logo: logo.png"), encoding="utf-8")
    second = build_into("second")
    return first, second, load_settings(BuildOptions(root / "settings.py", content))["SITEURL"]


def test_a_png_logo_is_also_the_rss_channel_image_and_the_atom_logo(edits):
    first, second, base = edits
    rss = etree.parse(str(second.output / urls.feed("fi", "rss"))).getroot()
    assert rss.findtext("channel/image/url") == f"{base}/logo.png"
    assert rss.findtext("channel/image/link") == f"{base}/fi/"
    atom = _parse(second, urls.feed("fi", "atom")).feed
    assert (atom.logo, atom.get("icon")) == (f"{base}/logo.png", None)  # a wide logo is not the square icon
    assert etree.parse(str(first.output / urls.feed("fi", "rss"))).getroot().find("channel/image") is None


def test_editing_a_release_keeps_its_guid(edits):
    first, second, base = edits
    host = base.split("//")[1]
    before, after = (_parse(site, urls.feed("fi", "atom")).entries[0] for site in (first, second))
    assert (before.title, after.title) == ("Alkuperäinen otsikko", "Korjattu otsikko")
    assert before.id == after.id == f"tag:{host},2026:fi/story"
    assert before.updated != after.updated and after.updated == "2026-03-02T10:00:00+02:00"
    rss = [_parse(site, urls.feed("fi", "rss")).entries[0] for site in (first, second)]
    assert rss[0].id == rss[1].id == before.id and rss[0].guidislink is False


def test_feed_holds_only_the_newest_items_up_to_the_limit(edits):
    _, site, _ = edits
    assert [e.title for e in _parse(site, urls.feed("fi", "rss")).entries] == ["Korjattu otsikko", "Toinen tiedote"]


def test_relative_links_in_the_body_become_absolute(edits):
    _, site, base = edits
    for fmt in FORMATS:
        body = _parse(site, urls.feed("fi", fmt)).entries[0].content[0].value
        assert f'href="{base}/attachments/plan.pdf"' in body
        assert f'href="{base}/fi/releases/toinen-tiedote/"' in body
        assert 'href="https://example.org/x"' in body
        assert f'src="{base}/images/red-square.png"' in body


def test_an_embargoed_release_is_in_no_feed_of_a_public_build(edits):
    for site in edits[:2]:
        feeds = _feeds(site)
        names = {str(p.relative_to(site.output)) for p in feeds}
        assert urls.type_feed("fi", "invitation", "rss") not in names
        assert urls.keyword_feed("fi", "salaisuus", "rss") not in names
        assert urls.keyword_feed("fi", "yhteinen", "atom") in names
        for path in feeds:
            data = path.read_text(encoding="utf-8")
            assert "Salainen kutsu" not in data and "fi/secret" not in data and "salaisesta" not in data, path
        listed = {a.get_text() for a in site.html("fi/feeds/").select(".feed-list__name")}
        assert "salaisuus" not in listed and "Kutsut" not in listed
