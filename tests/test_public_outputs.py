"""What the public build gives the machines and people that read it (issue 18): the real publish build of the sample
newsroom, read with the parsers feed readers, crawlers, calendars, address books and mail clients use."""

from __future__ import annotations

import io
import json
import re
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedparser
import icalendar
import jsonschema
import pytest
import vobject
import yaml
from bs4 import BeautifulSoup
from lxml import etree
from PIL import Image

from newsroom.build.run import BuildOptions, load_settings
from newsroom.cli.main import main
from newsroom.mail import store, subscribers
from newsroom.mail.notify import notify
from newsroom.mail.subscribers import Preferences
from sitebuilder import ROOT, build_site, release, write_content

NOW = "2026-11-28T12:00+02:00"  # the sample has a release from the day before
SITE = "https://newsroom.kaislaranta.example"
HELSINKI = ZoneInfo("Europe/Helsinki")
MEDIA = "{http://search.yahoo.com/mrss/}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    """`newsroom build --publish` of the sample newsroom with the shipped settings, as a new user runs it."""
    return build_site(ROOT / "content", tmp_path_factory.mktemp("public") / "output", publish=True, now=NOW)


def _pages(output: Path) -> list[Path]:
    """Every HTML page a reader or crawler can land on (not the search engine's own bundle)."""
    return [p for p in sorted(output.rglob("*.html")) if "pagefind" not in p.parts]


def _url(output: Path, path: Path) -> str:
    return f"{SITE}/{path.relative_to(output).as_posix().removesuffix('index.html')}"


def _file(output: Path, url: str) -> Path:
    assert url.startswith(SITE + "/"), url
    return output / urlsplit(url).path.lstrip("/")


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html5lib")


def _feeds(output: Path) -> list[Path]:
    return sorted(output.glob("*/feeds/**/*.xml"))


def _json_ld(page: BeautifulSoup) -> dict[str, dict]:
    found = [json.loads(s.string) for s in page.select('script[type="application/ld+json"]')]
    return {data["@type"]: data for data in found}


def _release_pages(output: Path) -> list[Path]:
    return sorted(output.glob("*/releases/*/index.html"))


# --- 1. subscription forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["http://127.0.0.1:8001", "/subscribe", "http://newsroom.kaislaranta.example/subscriptions", "http://localhost/s"],
)
def test_a_public_build_refuses_a_subscription_address_readers_cannot_use(address, tmp_path, monkeypatch, capsys):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Tiedote", "2026-01-10 12:00")})
    monkeypatch.setenv("NEWSROOM_SUBSCRIBE_URL", address)
    code = main(["build", "--publish", "--content", str(content), "--output", str(tmp_path / "out"), "--now", NOW])
    error = capsys.readouterr().err
    assert code == 2
    assert "NEWSROOM_SUBSCRIBE_URL" in error and address in error and "Traceback" not in error
    assert not (tmp_path / "out").exists()


def test_public_forms_post_to_the_public_https_subscription_address(public):
    forms = [form for path in _pages(public.output) for form in _soup(path).select("form[method=post]")]
    assert len(forms) >= 40
    assert {form["action"] for form in forms} == {f"{SITE}/subscriptions/subscribe"}


def test_publishconf_takes_the_subscription_address_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEWSROOM_SITEURL", "https://news.example.org")
    monkeypatch.delenv("NEWSROOM_SUBSCRIBE_URL", raising=False)
    assert load_settings(BuildOptions(ROOT / "publishconf.py"))["NEWSROOM_SUBSCRIBE_URL"] == (
        "https://news.example.org/subscriptions"
    )
    monkeypatch.setenv("NEWSROOM_SUBSCRIBE_URL", "https://subscribe.example.org")
    assert load_settings(BuildOptions(ROOT / "publishconf.py"))["NEWSROOM_SUBSCRIBE_URL"] == (
        "https://subscribe.example.org"
    )
    docs = (ROOT / "docs" / "operating" / "nginx.md").read_text(encoding="utf-8")
    assert "NEWSROOM_SUBSCRIBE_URL" in docs and "NEWSROOM_SITEURL" in docs


# --- 2-4. feeds --------------------------------------------------------------------------------------------------


def test_every_feed_parses_cleanly(public):
    feeds = _feeds(public.output)
    assert len(feeds) >= 40
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))


def _served_type_and_size(path: Path) -> tuple[str, tuple[int, int]]:
    """What a served file is, read from the file itself: Pillow for pictures, ffprobe for videos."""
    if path.suffix.lower() in (".mp4", ".webm"):
        found = json.loads(
            subprocess.run(
                ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        video = next(stream for stream in found["streams"] if stream["codec_type"] == "video")
        kind = "video/webm" if "webm" in found["format"]["format_name"] else "video/mp4"
        return kind, (int(video["width"]), int(video["height"]))
    with Image.open(path) as picture:
        return Image.MIME[picture.format], picture.size


def test_feed_enclosures_give_the_size_and_type_of_the_served_file(public):
    checked = 0
    for path in _feeds(public.output):
        root = etree.parse(str(path)).getroot()
        for enclosure in root.iter("enclosure", f"{ATOM}link"):
            if enclosure.tag == f"{ATOM}link" and enclosure.get("rel") != "enclosure":
                continue
            served = _file(public.output, enclosure.get("url") or enclosure.get("href"))
            assert int(enclosure.get("length")) == served.stat().st_size, served
            assert enclosure.get("type") == _served_type_and_size(served)[0], served
            checked += 1
        for content in root.iter(f"{MEDIA}content"):
            served = _file(public.output, content.get("url"))
            assert int(content.get("fileSize")) == served.stat().st_size
            kind, size = _served_type_and_size(served)
            assert content.get("type") == kind
            if content.get("width"):
                assert (int(content.get("width")), int(content.get("height"))) == size
    assert checked >= 20


def test_media_rss_licence_carries_the_licence_address(public):
    licences = [
        element
        for path in _feeds(public.output)
        for element in etree.parse(str(path)).getroot().iter(f"{MEDIA}license")
    ]
    assert licences
    for element in licences:
        assert element.get("href") == "https://creativecommons.org/licenses/by/4.0/"
        assert element.get("type") == "text/html" and element.text == "CC BY 4.0"


def test_feeds_show_a_raster_logo_in_rss_and_a_square_icon_and_wide_logo_in_atom(public):
    rss = feedparser.parse((public.output / "fi/feeds/all.rss.xml").read_bytes())
    with Image.open(_file(public.output, rss.feed.image.href)) as logo:
        assert logo.format in ("PNG", "JPEG", "GIF") and logo.width > logo.height
    channel_image = etree.parse(str(public.output / "fi/feeds/all.rss.xml")).getroot().find("channel/image")
    assert int(channel_image.findtext("width")) <= 144 and int(channel_image.findtext("height")) <= 400
    atom = etree.parse(str(public.output / "fi/feeds/all.atom.xml")).getroot()
    with Image.open(_file(public.output, atom.findtext(f"{ATOM}icon"))) as icon:
        assert icon.format == "PNG" and icon.width == icon.height >= 144
    with Image.open(_file(public.output, atom.findtext(f"{ATOM}logo"))) as logo:
        assert logo.format == "PNG" and logo.width >= 2 * logo.height


# --- 5. news sitemap ----------------------------------------------------------------------------------------------


def test_news_sitemap_is_written_and_listed_only_when_it_has_releases(public, tmp_path):
    news = etree.parse(str(public.output / "sitemap-news.xml")).getroot()
    assert len(news) >= 1
    assert f"Sitemap: {SITE}/sitemap-news.xml" in (public.output / "robots.txt").read_text()
    content = write_content(tmp_path / "content", {"a.fi.md": release("Vanha tiedote", "2026-01-10 12:00")})
    quiet = build_site(content, tmp_path / "out", publish=True, now="2026-06-01T12:00+03:00")
    robots = (quiet.output / "robots.txt").read_text()
    assert not (quiet.output / "sitemap-news.xml").exists()
    assert "sitemap-news.xml" not in robots and f"Sitemap: {SITE}/sitemap.xml" in robots


# --- 6. canonical and hreflang ------------------------------------------------------------------------------------


def test_every_page_names_its_own_canonical_address(public):
    pages = [p for p in _pages(public.output) if p.name != "404.html" and p != public.output / "index.html"]
    assert len(pages) >= 150
    for path in pages:
        canonical = _soup(path).select('head link[rel="canonical"]')
        assert [link["href"] for link in canonical] == [_url(public.output, path)], path


def test_the_root_page_agrees_with_the_front_page_it_sends_readers_to(public):
    def head(path: Path) -> tuple[str, dict[str, str]]:
        page = _soup(path)
        links = {link["hreflang"]: link["href"] for link in page.select('head link[rel="alternate"][hreflang]')}
        return page.select_one('head link[rel="canonical"]')["href"], links

    root, front = head(public.output / "index.html"), head(public.output / "fi/index.html")
    assert root == front
    assert root[0] == root[1]["fi"] == f"{SITE}/fi/"


# --- 7. structured data and link previews --------------------------------------------------------------------------

IMAGE_OBJECT = {
    "type": "object",
    "required": ["@type", "url", "width", "height"],
    "properties": {
        "@type": {"const": "ImageObject"},
        "url": {"type": "string", "pattern": "^https://"},
        "width": {"type": "integer", "minimum": 1200},
        "height": {"type": "integer", "minimum": 1},
        "license": {"type": "string", "format": "uri", "pattern": "^https://"},
    },
}
NEWS_ARTICLE = {
    "type": "object",
    "required": ["@context", "@type", "headline", "datePublished", "dateModified", "image", "author", "publisher"],
    "properties": {
        "@type": {"const": "NewsArticle"},
        "image": {"type": "array", "minItems": 1, "items": IMAGE_OBJECT},
        "publisher": {"required": ["logo"], "properties": {"logo": {"properties": {"url": {"pattern": r"\.png$"}}}}},
    },
}
EVENT = {
    "type": "object",
    "required": ["@type", "name", "startDate", "location"],
    "properties": {
        "location": {
            "type": "object",
            "required": ["@type", "name", "address"],
            "properties": {
                "@type": {"const": "Place"},
                "address": {
                    "type": "object",
                    "required": ["@type", "streetAddress", "postalCode", "addressLocality"],
                    "properties": {"@type": {"const": "PostalAddress"}, "postalCode": {"pattern": r"^\d{5}$"}},
                },
            },
        }
    },
}


def test_structured_data_of_every_release_validates(public):
    events = 0
    for path in _release_pages(public.output):
        page = _soup(path)
        data = _json_ld(page)
        lead = page.select_one(".release__lead-image img")
        if lead is not None and int(lead["width"]) < 1200:  # a portrait of 800 px: never enlarged
            assert {image["width"] for image in data["NewsArticle"]["image"]} == {int(lead["width"])}
            continue
        jsonschema.validate(data["NewsArticle"], NEWS_ARTICLE)
        if "Event" in data:
            jsonschema.validate(data["Event"], EVENT)
            events += 1
    assert events >= 3


def test_release_images_come_in_16_9_4_3_and_1_1_at_least_1200_px_wide(public):
    page = _soup(public.output / "fi/releases/rantapuiston-kirjasto-avautuu-maaliskuussa/index.html")
    ratios = set()
    for image in _json_ld(page)["NewsArticle"]["image"]:
        with Image.open(_file(public.output, image["url"])) as picture:
            assert picture.size == (image["width"], image["height"])
        ratios.add(round(image["width"] / image["height"], 2))
    assert {1.78, 1.33, 1.0} <= ratios


def test_image_caption_is_the_caption_and_not_the_alt_text(public):
    card = yaml.safe_load((ROOT / "content/images/library-dusk.yaml").read_text(encoding="utf-8"))
    page = _soup(public.output / "fi/releases/rantapuiston-kirjasto-avautuu-maaliskuussa/index.html")
    captions = {image.get("caption") for image in _json_ld(page)["NewsArticle"]["image"]}
    assert captions == {card["caption"]["fi"]} and card["caption"]["fi"] != card["alt"]["fi"]


def test_event_location_is_a_place_with_a_postal_address(public):
    page = _soup(
        public.output / "fi/releases/kutsu-medialle-rantapuiston-kirjaston-ennakkoesittely-ja-avajaiset-2-3/index.html"
    )
    location = _json_ld(page)["Event"]["location"]
    assert location == {
        "@type": "Place",
        "name": "Rantapuiston kirjasto",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "Rantakatu 4",
            "postalCode": "00990",
            "addressLocality": "Kaislaranta",
        },
    }


def test_a_release_without_images_shows_the_newsrooms_share_image(public):
    page = _soup(public.output / "fi/releases/ulkoilureittien-valaistus-siirtyy-talviaikaan/index.html")
    share = page.select_one('meta[property="og:image"]')["content"]
    assert share == f"{SITE}/share.png"
    assert [image["url"] for image in _json_ld(page)["NewsArticle"]["image"]] == [share]
    with Image.open(_file(public.output, share)) as picture:
        assert picture.size == (1200, 630)


@pytest.mark.parametrize(
    "url",
    [
        "fi/",
        "sv/type/news/",
        "en/keyword/libraries/",
        "fi/media/",
        "sv/contacts/",
        "en/about/",
        "fi/subscribe/",
        "sv/search/",
        "fi/page/2/",
        "en/feeds/",
    ],
)
def test_every_page_has_an_open_graph_and_twitter_card(public, url):
    page = public.html(url)
    og = {m["property"]: m["content"] for m in page.select("head meta[property^='og:']")}
    twitter = {m["name"]: m["content"] for m in page.select("head meta[name^='twitter:']")}
    assert og["og:url"] == page.select_one('link[rel="canonical"]')["href"] == f"{SITE}/{url}"
    assert og["og:title"] and og["og:description"] and og["og:image"] == f"{SITE}/share.png"
    assert og["og:locale"] in ("fi_FI", "sv_FI", "en_GB") and og["og:type"] == "website"
    assert twitter["twitter:card"] == "summary_large_image" and twitter["twitter:image"] == og["og:image"]


# --- 8. calendars and cards --------------------------------------------------------------------------------------


def _calendar(output: Path) -> icalendar.Calendar:
    path = next(output.glob("fi/releases/kutsu-medialle-*/*.ics"))
    return icalendar.Calendar.from_ical(path.read_bytes())


def test_calendar_time_zone_has_yearly_rules_that_hold_after_2027(public):
    calendar = _calendar(public.output)
    zone = calendar.walk("VTIMEZONE")[0]
    changes = [part for part in zone.subcomponents if part.name in ("STANDARD", "DAYLIGHT") and "RRULE" in part]
    assert {part.name for part in changes} == {"STANDARD", "DAYLIGHT"}
    tz = zone.to_tz()
    for moment in (datetime(2031, 7, 1, 12), datetime(2031, 12, 1, 12), datetime(2040, 3, 25, 12)):
        assert tz.utcoffset(moment) == moment.replace(tzinfo=HELSINKI).utcoffset(), moment
    with open(next(public.output.glob("fi/releases/kutsu-medialle-*/*.ics")), encoding="utf-8") as text:
        assert vobject.readOne(text).vevent.summary.value.startswith("Kutsu medialle")


def test_an_edited_invitation_updates_the_event_a_calendar_imported(tmp_path):
    invitation = {
        "Event-Start": "2026-03-02 09:00",
        "Location": "Kirjasto",
        "Address": "Kirjastokatu 1, 00990 Testila",
    }
    content = write_content(
        tmp_path / "content", {"kutsu.fi.md": release("Kutsu", "2026-02-20 10:00", kind="invitation", **invitation)}
    )

    def sequence(name: str) -> int:
        site = build_site(content, tmp_path / name, publish=True, now="2026-02-25T12:00+02:00")
        event = icalendar.Calendar.from_ical(next(site.output.glob("fi/releases/*/*.ics")).read_bytes()).walk("VEVENT")[
            0
        ]
        return int(event["SEQUENCE"]), str(event["UID"])

    first, uid = sequence("first")
    edited = release("Kutsu", "2026-02-20 10:00", kind="invitation", Modified="2026-02-22 08:00", **invitation)
    (content / "releases" / "kutsu.fi.md").write_text(edited.replace("09:00", "10:00"), encoding="utf-8")
    second, same_uid = sequence("second")
    assert (first, uid) == (0, same_uid) and second > first
    assert sequence("third") == (second, uid)  # the same text, the same number


def test_vcards_carry_rev_and_prodid(public):
    cards = sorted(public.output.glob("*/contacts/*.vcf"))
    assert cards
    for path in cards:
        card = vobject.readOne(path.read_text(encoding="utf-8"))
        assert card.prodid.value.startswith("-//") and "Newsroom" in card.prodid.value
        assert re.fullmatch(r"\d{8}T\d{6}Z", card.rev.value)


# --- 10. the publisher's name in sentences -----------------------------------------------------------------------


def test_sentences_name_the_publisher_as_each_language_needs(public):
    fi = public.html("fi/").get_text(" ")
    assert "Kaislarannan kaupungin tiedotteet, uutiset ja mediakutsut" in fi
    whole = " ".join(path.read_text(encoding="utf-8") for path in _pages(public.output))
    whole += " ".join(path.read_text(encoding="utf-8") for path in _feeds(public.output))
    for wrong in (
        "Julkaisijan Kaislarannan kaupunki",
        "julkaisijan Kaislarannan kaupunki",
        "organisaation Kaislar",
        "julkaisijalta Kaislarannan kaupunki",
        "of City of Kaislaranta",
        "from City of Kaislaranta",
    ):
        assert wrong not in whole, wrong
    assert "Lisää Kaislarannan kaupungin julkaisuja" in whole
    assert "More from the City of Kaislaranta" in whole and "Photos from the releases of the City of" in whole
    assert "The City of Kaislaranta keeps the list" in public.html("en/privacy/").get_text(" ")


# --- 11. icons and the logo --------------------------------------------------------------------------------------


def test_favicon_exists_and_every_page_links_an_icon(public):
    with Image.open(public.output / "favicon.ico") as icon:
        assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]
    for path in _pages(public.output):
        page = _soup(path)
        icons = [link["href"] for link in page.select('head link[rel~="icon"]')]
        assert f"{SITE}/favicon.ico" in icons, path
        logo = page.select_one("img.brand__logo")
        assert int(logo["width"]) == 176 and int(logo["height"]) == 44  # the 320 × 80 SVG shown 44 px high


# --- 12. image loading -------------------------------------------------------------------------------------------


def test_only_the_lead_image_of_a_page_loads_eagerly(public):
    for path in [
        *_release_pages(public.output),
        public.output / "fi/index.html",
        public.output / "fi/media/index.html",
    ]:
        page = _soup(path)
        eager = [img for img in page.select("main img") if img.get("loading") != "lazy"]
        lead = page.select(".release__lead-image img")
        assert eager == lead, path
        assert all(img.get("fetchpriority") == "high" for img in lead)
        assert not [img for img in page.select("main img[fetchpriority]") if img not in lead], path


def _chosen(img, slot_px: float, density: int) -> int:
    """The width a browser picks from a srcset for a slot of this many CSS pixels at this pixel density."""
    widths = sorted(int(candidate.split()[1][:-1]) for candidate in img["srcset"].split(", "))
    return next((w for w in widths if w >= slot_px * density), widths[-1])


def test_image_files_fit_the_slot_they_are_shown_in(public):
    thumb = public.html("fi/").select_one(".release-card__image img")
    assert _chosen(thumb, 160, 1) == 160 and _chosen(thumb, 160, 2) == 320 and _chosen(thumb, 96, 2) <= 320
    picture = public.html("fi/media/").select_one(".media-bank img")
    sizes = picture["sizes"].split(", ")
    assert sizes[-1] == "calc(100vw - 2rem)"  # one column on a phone
    assert _chosen(picture, 390 - 32, 2) <= 720  # a 390 px phone at 2x
    assert "(min-width: 53rem) calc(33.3vw - 1.7rem)" in sizes  # three columns from 53rem


# --- 13. serving --------------------------------------------------------------------------------------------------


def test_the_nginx_example_caches_hashed_files_long_and_pages_briefly(public):
    docs = (ROOT / "docs" / "operating" / "nginx.md").read_text(encoding="utf-8")
    config = re.search(r"```nginx\n(.*?)```", docs, re.S).group(1)
    assert re.search(r"^gzip on;", config, re.M) and "application/rss+xml" in config
    rules = re.findall(
        r'^\s+(~\S+|default)\s+"([^"]+)";', re.search(r"map \$uri.*?\{(.*?)\}", config, re.S).group(1), re.M
    )

    def cache(url: str) -> str:
        return next(value for pattern, value in rules if pattern == "default" or re.search(pattern[1:], url))

    files = ["/" + p.relative_to(public.output).as_posix() for p in public.output.rglob("*") if p.is_file()]
    hashed = [f for f in files if re.match(r"/pagefind/(fragment|index|filter)/", f)]
    assert hashed and all("immutable" in cache(f) and "31536000" in cache(f) for f in hashed)
    pages = [f for f in files if f.endswith(".html") and not f.startswith("/pagefind/")]
    assert all(cache(f) == "no-cache" for f in pages)
    assert cache("/pagefind/pagefind-entry.json") == "no-cache" and cache("/fi/feeds/all.rss.xml").endswith("=60")
    assert all("immutable" not in cache(f) for f in files if f.startswith(("/images/", "/theme/")))


# --- 9. email ----------------------------------------------------------------------------------------------------

DOMAIN = "outputs.example"


@pytest.fixture(scope="module")
def mailed(tmp_path_factory, smtp_server):
    """A release published in Finnish and Swedish at once, announced to subscribers of one or both languages."""
    root = tmp_path_factory.mktemp("mailed")
    versions = {
        "old.fi.md": release("Vanha", "2026-01-10 09:00", release_id="old"),
        "lib.fi.md": release("Kirjasto avautuu", "2026-03-01 09:00", release_id="lib", Images="red-square"),
        "lib.sv.md": release(
            "Biblioteket öppnar", "2026-03-01 09:00", lang="sv", release_id="lib", Images="red-square"
        ),
    }
    content = write_content(root / "content", versions)
    card = content / "newsroom.yaml"
    card.write_text(card.read_text(encoding="utf-8") + "name_forms:\n  fi:\n    genitive: Testilan kaupungin\n")
    (content / "images" / "red-square.yaml").write_text(
        (content / "images" / "red-square.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "fi: Punainen neliö",
            "fi: Punainen neliö valkoisella pohjalla, kuvattu suoraan edestä iltapäivän valossa "
            "kaupungintalon aulassa näyttelyn avajaisissa",
        ),
        encoding="utf-8",
    )
    before = build_site(content, root / "before", publish=True, now="2026-02-01T12:00+02:00").output
    after = build_site(content, root / "after", publish=True, now="2026-03-01T12:00+02:00").output
    settings = load_settings(BuildOptions(ROOT / "publishconf.py"))
    db = root / "newsroom.sqlite3"
    settings.update(
        NEWSROOM_DB=str(db),
        NEWSROOM_SMTP_URL=smtp_server.url,
        NEWSROOM_MAIL_FROM="uutiset@testila.example",
        NEWSROOM_PUBLISH_WEBHOOK=None,
        NEWSROOM_SUBSCRIBE_URL="https://subscribe.testila.example/s",
    )
    conn = store.connect(db)
    joined = datetime(2026, 1, 1, tzinfo=HELSINKI)
    for name, langs in {"both-sv-first": ("sv", "fi"), "both-fi-first": ("fi", "sv"), "fi-only": ("fi",)}.items():
        subscribers.add(conn, f"{name}@{DOMAIN}", Preferences(langs), joined)
    conn.close()
    notify(settings, before, "2026-02-01T12:00+02:00")
    notify(settings, after, "2026-03-01T12:00+02:00")
    again = notify(settings, after, "2026-03-01T13:00+02:00")
    return (
        {r.recipient.split("@")[0]: r for r in smtp_server.handler.to(DOMAIN)},
        smtp_server.handler.to(DOMAIN),
        again,
        after,
    )


def test_a_subscriber_of_two_languages_gets_one_email_with_both_first_language_first(mailed):
    by_name, every, again, _ = mailed
    assert sorted(r.recipient.split("@")[0] for r in every) == ["both-fi-first", "both-sv-first", "fi-only"]
    assert again.tallies["email"].sent == 0
    sv_first = by_name["both-sv-first"].message
    html = BeautifulSoup(sv_first.get_body(("html",)).get_content(), "html5lib")
    assert [h.get_text() for h in html.select("h1")] == ["Biblioteket öppnar", "Kirjasto avautuu"]
    assert [div["lang"] for div in html.select("div[lang]")] == ["sv", "fi"]
    text = sv_first.get_body(("plain",)).get_content()
    assert text.index("Biblioteket öppnar") < text.index("Kirjasto avautuu")
    assert sv_first["Content-Language"] == "sv" and "Biblioteket öppnar" in sv_first["Subject"]
    fi_first = BeautifulSoup(by_name["both-fi-first"].message.get_body(("html",)).get_content(), "html5lib")
    assert [h.get_text() for h in fi_first.select("h1")] == ["Kirjasto avautuu", "Biblioteket öppnar"]
    only = BeautifulSoup(by_name["fi-only"].message.get_body(("html",)).get_content(), "html5lib")
    assert [h.get_text() for h in only.select("h1")] == ["Kirjasto avautuu"]


def test_release_email_shows_the_image_made_for_it_with_its_size_and_a_short_alt(mailed):
    by_name, _, _, output = mailed
    html = BeautifulSoup(by_name["fi-only"].message.get_body(("html",)).get_content(), "html5lib")
    img = html.select_one("img")
    with Image.open(io.BytesIO(_file_bytes(output, img["src"]))) as picture:
        assert picture.size == (int(img["width"]), int(img["height"]))
    assert img.find_parent("a") is None and 0 < len(img["alt"]) <= 80


def _file_bytes(output: Path, url: str) -> bytes:
    return (output / urlsplit(url).path.lstrip("/")).read_bytes()


def test_release_emails_are_marked_auto_generated_and_name_the_publisher_grammatically(mailed):
    by_name, every, _, _ = mailed
    assert {r.message["Auto-Submitted"] for r in every} == {"auto-generated"}
    text = by_name["fi-only"].message.get_body(("plain",)).get_content()
    assert "koska olet tilannut Testilan kaupungin julkaisut" in " ".join(text.split())
    assert "organisaation" not in text
