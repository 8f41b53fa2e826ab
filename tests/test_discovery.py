"""Discovery: the search index, JSON-LD and share tags, sitemaps, robots.txt, contact cards, invitation calendars and
the JSON API, read back from a public build with an embargoed invitation and a draft in its content."""

from __future__ import annotations

import gzip
import json
import shutil
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import cbor2
import icalendar
import jsonschema
import pytest
import vobject
from lxml import etree
from PIL import Image

from newsroom.build.audit import audit
from newsroom.build.run import BuildOptions, build, load_settings
from newsroom.content.catalog import catalog_for
from newsroom.core import urls
from newsroom.core.clock import build_now
from newsroom.core.embargo import unpublished
from newsroom.site import api
from sitebuilder import ROOT, Site, build_site, release, write_content

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = "2026-03-10T12:00+02:00"
SITE = load_settings(BuildOptions(ROOT / "publishconf.py"))["SITEURL"]
NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "x": "http://www.w3.org/1999/xhtml",
    "n": "http://www.google.com/schemas/sitemap-news/0.9",
}

FILES = {
    "tri.fi.md": release(
        "Kirjasto avautuu rannalla",
        "2026-03-09 10:00",
        release_id="tri",
        Images="red-square",
        Keywords="kirjastot, kulttuuri",
        Contacts="aino-testi, ville-virtanen",
        body="Uusi kirjasto tarjoaa lukusaleja ja kahvilan. Avajaisissa esiintyy hopeakuoro.",
    ),
    "tri.sv.md": release(
        "Biblioteket öppnar vid stranden",
        "2026-03-09 10:00",
        lang="sv",
        release_id="tri",
        Images="red-square",
        Keywords="bibliotek",
        body="Det nya biblioteket har läsesalar.",
    ),
    "tri.en.md": release(
        "Library opens by the shore",
        "2026-03-09 10:00",
        lang="en",
        release_id="tri",
        Images="red-square",
        Keywords="libraries",
        body="The new library has reading rooms.",
    ),
    "old.fi.md": release(
        "Vanha uutinen", "2026-03-01 09:00", release_id="old", kind="news", Modified="2026-03-02 08:30"
    ),
    "edge-in.fi.md": release("Juuri ikkunassa", "2026-03-08 12:01", release_id="edge-in"),
    "edge-out.fi.md": release("Juuri ikkunan ulkopuolella", "2026-03-08 11:59", release_id="edge-out"),
    "invite.fi.md": release(
        "Kutsu kirjaston avajaisiin",
        "2026-02-20 09:00",
        release_id="invite",
        kind="invitation",
        Event_Start="2026-03-29 10:00",
        Event_End="2026-03-29 12:00",
        Location="Rantapuisto; sali 2, Rantatie 1",
        Contacts="aino-testi",
    ),
    "invite.sv.md": release(
        "Inbjudan till bibliotekets öppning",
        "2026-02-20 09:00",
        lang="sv",
        release_id="invite",
        kind="invitation",
        Event_Start="2026-03-29 10:00",
        Event_End="2026-03-29 12:00",
        Location="Strandparken, sal 2",
        Contacts="aino-testi",
    ),
    "secret.fi.md": release(
        "Salainen kvasaarikutsu",
        "2026-03-11 09:00",
        release_id="secret",
        kind="invitation",
        Keywords="kvasaarit",
        Event_Start="2026-04-01 10:00",
        Location="Tähtitorni kvasaari",
        body="Kvasaarikutsun salainen teksti kertoo tähtitornin avajaisista kaikille lukijoille.",
    ),
    "draft.fi.md": release(
        "Luonnos kuukivestä",
        "2026-03-01 09:00",
        release_id="draft",
        Status="draft",
        Keywords="kuukivet",
        body="Luonnoksen teksti kertoo kuukivi hankkeesta hyvin tarkasti.",
    ),
}
AINO = """\
name: Aino Testi
title:
  fi: viestintäpäällikkö; media, some
  sv: kommunikationschef
  en: Head of Communications
phone: "+358 40 555 0101"
email: aino.testi@testila.example
unit:
  fi: Viestintä
  sv: Kommunikation
  en: Communications
photo: red-square
"""
SECRET_WORDS = ("kvasaari", "kuukivi", "tähtitorni")
PUBLIC = {
    ("tri", "fi"),
    ("tri", "sv"),
    ("tri", "en"),
    ("old", "fi"),
    ("edge-in", "fi"),
    ("edge-out", "fi"),
    ("invite", "fi"),
    ("invite", "sv"),
}
TRI = {
    "fi": "fi/releases/kirjasto-avautuu-rannalla/",
    "sv": "sv/releases/biblioteket-oppnar-vid-stranden/",
    "en": "en/releases/library-opens-by-the-shore/",
}
INVITE = {"fi": "fi/releases/kutsu-kirjaston-avajaisiin/", "sv": "sv/releases/inbjudan-till-bibliotekets-oppning/"}


@pytest.fixture(scope="session")
def discovery_content(tmp_path_factory):
    return write_content(tmp_path_factory.mktemp("discovery") / "content", FILES, {"contacts/aino-testi.yaml": AINO})


@pytest.fixture(scope="session")
def public(discovery_content, tmp_path_factory) -> Site:
    return build_site(discovery_content, tmp_path_factory.mktemp("discovery-public") / "out", publish=True, now=NOW)


@pytest.fixture(scope="session")
def preview(discovery_content, tmp_path_factory) -> Site:
    output = tmp_path_factory.mktemp("discovery-preview") / "out"
    build(load_settings(BuildOptions(ROOT / "pelicanconf.py", discovery_content, output, NOW, preview=True)))
    return Site(discovery_content, output)


def _json_ld(site: Site, url: str) -> dict[str, dict]:
    scripts = site.html(url).select('script[type="application/ld+json"]')
    return {data["@type"]: data for data in (json.loads(script.string) for script in scripts)}


def _meta(site: Site, url: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for tag in site.html(url).select("head meta[property], head meta[name]"):
        found.setdefault(tag.get("property") or tag["name"], []).append(tag["content"])
    return found


def _size(site: Site, url: str) -> tuple[int, int]:
    with Image.open(site.output / url.removeprefix(f"{SITE}/")) as opened:
        return opened.size


def _ratio(site: Site, url: str) -> float:
    width, height = _size(site, url)
    return width / height


def _release_urls(site: Site) -> set[str]:
    return {str(p.parent.relative_to(site.output)) + "/" for p in site.output.glob("*/releases/*/index.html")}


# --- structured data and share tags -------------------------------------------------------------------------


def test_news_article_json_ld_matches_the_source(public):
    data = _json_ld(public, TRI["fi"])["NewsArticle"]
    page = f"{SITE}/{TRI['fi']}"
    assert data["@context"] == "https://schema.org"
    assert (data["headline"], data["description"]) == (
        "Kirjasto avautuu rannalla",
        "Lead of Kirjasto avautuu rannalla.",
    )
    assert data["datePublished"] == data["dateModified"] == "2026-03-09T10:00:00+02:00"
    assert (data["inLanguage"], data["keywords"]) == ("fi", ["kirjastot", "kulttuuri"])
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": page} and data["url"] == page
    assert public.html(TRI["fi"]).select_one("link[rel=canonical]")["href"] == page
    ratios = []
    for image in data["image"]:
        assert _size(public, image["url"]) == (image["width"], image["height"])
        assert (image["caption"], image["creditText"]) == ("Neliö", "Kuvaaja Kuvitteellinen")  # caption, not alt
        assert image["license"] == "https://creativecommons.org/licenses/by/4.0/"
        ratios.append(round(_ratio(public, image["url"]), 1))
    assert ratios == [1.8, 1.3, 1.0]  # 16:9, 4:3 and 1:1, as search engines show them
    organisation = {
        "@type": "Organization",
        "name": "Testilan kaupunki",
        "url": "https://www.testila.example",
        "logo": {"@type": "ImageObject", "url": f"{SITE}/logo.svg", "width": 10, "height": 10},
    }
    assert data["author"] == data["publisher"] == organisation
    assert _json_ld(public, TRI["sv"])["NewsArticle"]["publisher"]["name"] == "Testby stad"
    corrected = _json_ld(public, "fi/releases/vanha-uutinen/")["NewsArticle"]
    assert (corrected["datePublished"], corrected["dateModified"]) == (
        "2026-03-01T09:00:00+02:00",
        "2026-03-02T08:30:00+02:00",
    )


def test_every_release_page_has_one_news_article(public):
    for url in _release_urls(public):
        scripts = public.html(url).select('script[type="application/ld+json"]')
        types = [json.loads(s.string)["@type"] for s in scripts]
        assert types.count("NewsArticle") == 1, url
        assert ("Event" in types) == url.startswith(tuple(INVITE.values())), url


def test_invitation_has_event_json_ld(public):
    event = _json_ld(public, INVITE["fi"])["Event"]
    assert (event["name"], event["startDate"], event["endDate"]) == (
        "Kutsu kirjaston avajaisiin",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T12:00:00+03:00",
    )
    assert event["location"] == {
        "@type": "Place",
        "name": "Rantapuisto; sali 2, Rantatie 1",
        "address": {"@type": "PostalAddress", "name": "Rantapuisto; sali 2, Rantatie 1"},  # no Address: line
    }
    assert event["organizer"]["name"] == "Testilan kaupunki" and event["url"] == f"{SITE}/{INVITE['fi']}"


def test_open_graph_and_twitter_tags(public):
    meta = _meta(public, TRI["fi"])
    assert meta["og:type"] == ["article"] and meta["og:url"] == [f"{SITE}/{TRI['fi']}"]
    assert meta["og:title"] == meta["twitter:title"] == ["Kirjasto avautuu rannalla"]
    assert meta["og:description"] == meta["twitter:description"] == ["Lead of Kirjasto avautuu rannalla."]
    assert meta["og:site_name"] == ["Testilan kaupunki"]
    assert meta["og:locale"] == ["fi_FI"] and meta["og:locale:alternate"] == ["sv_FI", "en_GB"]
    assert meta["og:image"] == meta["twitter:image"] and meta["og:image"][0].endswith("-share.jpg")
    assert _size(public, meta["og:image"][0]) == (int(meta["og:image:width"][0]), int(meta["og:image:height"][0]))
    assert meta["og:image:alt"] == ["Punainen neliö"] and meta["twitter:card"] == ["summary_large_image"]
    assert meta["article:published_time"] == ["2026-03-09T10:00:00+02:00"]
    assert meta["article:tag"] == ["kirjastot", "kulttuuri"]
    plain = _meta(public, "fi/releases/vanha-uutinen/")
    assert plain["twitter:card"] == ["summary"] and "og:image" not in plain
    assert plain["article:modified_time"] == ["2026-03-02T08:30:00+02:00"]


def test_hreflang_alternates_name_the_default_language_as_x_default(public):
    for url in TRI.values():
        links = {link["hreflang"]: link["href"] for link in public.html(url).select("link[rel=alternate][hreflang]")}
        assert links == {**{other: f"{SITE}/{u}" for other, u in TRI.items()}, "x-default": f"{SITE}/{TRI['fi']}"}
    single = public.html("fi/releases/vanha-uutinen/").select("link[rel=alternate][hreflang]")
    assert [link["hreflang"] for link in single] == ["fi"]


def test_listings_name_only_language_versions_that_exist(public, small_site):
    def versions(site, url):
        return {link["hreflang"]: link["href"] for link in site.html(url).select("link[rel=alternate][hreflang]")}

    assert versions(public, "fi/type/invitation/") == {
        "fi": f"{SITE}/fi/type/invitation/",
        "sv": f"{SITE}/sv/type/invitation/",
        "x-default": f"{SITE}/fi/type/invitation/",
    }
    assert versions(public, "fi/type/news/") == {"fi": f"{SITE}/fi/type/news/"}  # no news in Swedish or English
    switcher = {a["hreflang"]: a["href"] for a in public.html("fi/type/news/").select(".language-switcher a")}
    assert switcher == {"sv": f"{SITE}/sv/", "en": f"{SITE}/en/"}
    assert versions(small_site, "fi/page/2/") == {}  # a later page of a listing is no version of another page


# --- sitemaps and robots.txt ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sitemap(public):
    return etree.parse(str(public.output / "sitemap.xml"))


def test_sitemap_lists_every_public_page_with_absolute_addresses(public, sitemap):
    assert sitemap.getroot().tag == f"{{{NS['s']}}}urlset"
    locs = sitemap.xpath("//s:url/s:loc/text()", namespaces=NS)
    assert len(locs) == len(set(locs))
    for release_url in _release_urls(public):
        assert f"{SITE}/{release_url}" in locs
    for page in (
        "fi/",
        "sv/",
        "en/",
        "fi/contacts/",
        "sv/about/",
        "fi/search/",
        "fi/type/invitation/",
        "fi/keyword/kirjastot/",
    ):
        assert f"{SITE}/{page}" in locs
    for loc in locs:
        assert loc.startswith(f"{SITE}/")
        assert (public.output / urls.save_as(loc.removeprefix(f"{SITE}/"))).is_file(), loc
    assert not [loc for loc in locs if loc.endswith(("404.html", f"{SITE}/"))]


def test_sitemap_alternates_are_complete_and_symmetric(sitemap):
    entries = {
        url.findtext("s:loc", namespaces=NS): {
            link.get("hreflang"): link.get("href") for link in url.findall("x:link", NS)
        }
        for url in sitemap.getroot()
    }
    expected = {**{lang: f"{SITE}/{u}" for lang, u in TRI.items()}, "x-default": f"{SITE}/{TRI['fi']}"}
    for url in TRI.values():
        assert entries[f"{SITE}/{url}"] == expected
    assert entries[f"{SITE}/fi/contacts/"]["sv"] == f"{SITE}/sv/contacts/"
    assert entries[f"{SITE}/fi/releases/vanha-uutinen/"] == {"fi": f"{SITE}/fi/releases/vanha-uutinen/"}
    for loc, alternates in entries.items():
        for href in alternates.values():
            assert entries[href] == alternates, (loc, href)


def test_sitemap_gives_the_last_change_of_releases(sitemap):
    lastmod = {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS) for url in sitemap.getroot()
    }
    assert lastmod[f"{SITE}/fi/releases/vanha-uutinen/"] == "2026-03-02T08:30:00+02:00"
    assert lastmod[f"{SITE}/{TRI['sv']}"] == "2026-03-09T10:00:00+02:00"


def test_news_sitemap_holds_the_two_days_before_the_build_clock(public):
    root = etree.parse(str(public.output / "sitemap-news.xml")).getroot()
    entries = {url.findtext("s:loc", namespaces=NS): url.find("n:news", NS) for url in root}
    assert set(entries) == {f"{SITE}/{u}" for u in TRI.values()} | {f"{SITE}/fi/releases/juuri-ikkunassa/"}
    news = entries[f"{SITE}/{TRI['sv']}"]
    assert news.findtext("n:publication/n:name", namespaces=NS) == "Testby stad"
    assert news.findtext("n:publication/n:language", namespaces=NS) == "sv"
    assert news.findtext("n:publication_date", namespaces=NS) == "2026-03-09T10:00:00+02:00"
    assert news.findtext("n:title", namespaces=NS) == "Biblioteket öppnar vid stranden"
    now = build_now(NOW, HELSINKI)
    for entry in entries.values():
        published = datetime.fromisoformat(entry.findtext("n:publication_date", namespaces=NS))
        assert now - timedelta(days=2) <= published <= now


def test_robots_txt_points_at_both_sitemaps(public):
    lines = (public.output / "robots.txt").read_text().splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    assert {line for line in lines if line.startswith("Sitemap:")} == {
        f"Sitemap: {SITE}/sitemap.xml",
        f"Sitemap: {SITE}/sitemap-news.xml",
    }


def test_preview_is_noindex_without_sitemaps(preview):
    assert (preview.output / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"
    assert not (preview.output / "sitemap.xml").exists() and not (preview.output / "sitemap-news.xml").exists()
    for url in ("fi/", "fi/search/", "fi/releases/salainen-kvasaarikutsu/"):
        assert "noindex" in preview.html(url).select_one('meta[name="robots"]')["content"]


# --- contact cards -------------------------------------------------------------------------------------------


def test_vcards_per_contact_and_language(public):
    titles = {"fi": "viestintäpäällikkö; media, some", "sv": "kommunikationschef", "en": "Head of Communications"}
    names = {"fi": "Testilan kaupunki", "sv": "Testby stad", "en": "City of Testila"}
    units = {"fi": "Viestintä", "sv": "Kommunikation", "en": "Communications"}
    for lang, title in titles.items():
        raw = (public.output / urls.vcard(lang, "aino-testi")).read_bytes()
        assert raw.startswith(b"BEGIN:VCARD\r\nVERSION:4.0\r\n") and raw.endswith(b"END:VCARD\r\n")
        assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
        card = vobject.readOne(raw.decode("utf-8"))
        assert card.fn.value == "Aino Testi" and (card.n.value.family, card.n.value.given) == ("Testi", "Aino")
        assert card.title.value == title
        assert card.org.value == [names[lang], units[lang]]
        assert card.tel.value == "tel:+358405550101" and card.tel.params["TYPE"] == ["work", "voice"]
        assert card.email.value == "aino.testi@testila.example"
        assert card.photo.value == f"{SITE}/images/red-square.png"
        assert card.url.value == f"{SITE}/{lang}/contacts/"
    uids = {vobject.readOne((public.output / urls.vcard(lang, "aino-testi")).read_text()).uid.value for lang in titles}
    assert len(uids) == 1
    plain = vobject.readOne((public.output / urls.vcard("sv", "ville-virtanen")).read_text())
    assert plain.title.value == "informatör" and not hasattr(plain, "photo")


def test_add_to_contacts_links_on_release_and_contacts_pages(public):
    for page, lang in ((TRI["fi"], "fi"), (TRI["sv"], "sv"), ("en/contacts/", "en")):
        links = [a["href"] for a in public.html(page).select(".contact-card a[href$='.vcf']")]
        assert links and all(href.startswith(f"{SITE}/{lang}/contacts/") for href in links), page
        for href in links:
            assert (public.output / href.removeprefix(f"{SITE}/")).is_file()


# --- invitation calendars ------------------------------------------------------------------------------------


def _calendar(site: Site, lang: str) -> tuple[bytes, icalendar.Calendar]:
    path = site.output / urls.calendar(INVITE[lang], INVITE[lang].split("/")[-2])
    raw = path.read_bytes()
    return raw, icalendar.Calendar.from_ical(raw)


def test_invitation_calendar_has_time_zone_place_page_and_organiser(public):
    raw, calendar = _calendar(public, "fi")
    assert b"\r\nDTSTART;TZID=Europe/Helsinki:20260329T100000\r\n" in raw
    (event,) = calendar.walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 29, 9, 0, tzinfo=UTC)
    assert str(event["summary"]) == "Kutsu kirjaston avajaisiin"
    assert str(event["location"]) == "Rantapuisto; sali 2, Rantatie 1"
    assert str(event["url"]) == f"{SITE}/{INVITE['fi']}"
    assert str(event["description"]).endswith(f"\n\n{SITE}/{INVITE['fi']}")
    assert str(event["organizer"]) == "mailto:aino.testi@testila.example"
    assert event["organizer"].params["CN"] == "Aino Testi"
    assert event.decoded("dtstamp") == datetime(2026, 2, 20, 7, 0, tzinfo=UTC)
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    assert str(event["uid"]) == str(_calendar(public, "sv")[1].walk("VEVENT")[0]["uid"])


def test_calendar_time_zone_changes_when_helsinki_does(public):
    """Each onset is the local time before the change (RFC 5545): minus the old offset it is the real moment."""
    _, calendar = _calendar(public, "fi")
    (zone,) = calendar.walk("VTIMEZONE")
    onsets = [part for part in zone.subcomponents if part.name in ("STANDARD", "DAYLIGHT")]
    assert len(onsets) > 2
    for part in onsets[1:]:
        moment = (part.decoded("dtstart") - part.decoded("tzoffsetfrom")).replace(tzinfo=UTC)
        assert (moment - timedelta(minutes=1)).astimezone(HELSINKI).utcoffset() == part.decoded("tzoffsetfrom")
        assert moment.astimezone(HELSINKI).utcoffset() == part.decoded("tzoffsetto")
        assert (part.name == "DAYLIGHT") == bool(moment.astimezone(HELSINKI).dst())


def test_event_section_links_the_calendar(public):
    link = public.html(INVITE["sv"]).select_one(".release__event a[href$='.ics']")
    assert link["href"] == f"{SITE}/{INVITE['sv']}inbjudan-till-bibliotekets-oppning.ics"
    assert link.get_text() == "Lägg till i kalendern"


# --- JSON API ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def documents(public) -> dict:
    return {
        lang: json.loads((public.output / urls.api(lang)).read_text(encoding="utf-8"))
        for lang in (None, "fi", "sv", "en")
    }


def test_json_api_validates_against_the_schema_in_the_repo(public, documents):
    schema = json.loads(api.SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert json.loads((public.output / urls.API_SCHEMA).read_text(encoding="utf-8")) == schema
    for document in documents.values():
        jsonschema.Draft202012Validator(schema).validate(document)


def test_json_api_lists_exactly_the_public_releases(public, documents):
    everything = documents[None]["releases"]
    assert {(r["id"], r["language"]) for r in everything} == PUBLIC
    assert [r["published"] for r in everything] == sorted((r["published"] for r in everything), reverse=True)
    for lang in ("fi", "sv", "en"):
        assert documents[lang]["language"] == lang
        assert documents[lang]["releases"] == [r for r in everything if r["language"] == lang]
    catalog = catalog_for(load_settings(BuildOptions(ROOT / "publishconf.py", public.content)))
    for entry in everything:
        source = catalog.version(entry["id"], entry["language"])
        assert (entry["title"], entry["lead"], entry["type"]) == (source.title, source.lead, source.type)
        assert entry["keywords"] == list(source.keywords)
        assert datetime.fromisoformat(entry["published"]) == source.date
        assert (public.output / entry["url"].removeprefix(f"{SITE}/") / "index.html").is_file()


def test_json_api_entry_fields(public, documents):
    entry = next(r for r in documents["fi"]["releases"] if r["id"] == "tri")
    assert entry["url"] == f"{SITE}/{TRI['fi']}" and entry["modified"] is None and entry["event"] is None
    assert entry["translations"] == [
        {"language": "sv", "url": f"{SITE}/{TRI['sv']}"},
        {"language": "en", "url": f"{SITE}/{TRI['en']}"},
    ]
    (image,) = entry["images"]
    assert {key: value for key, value in image.items() if key not in ("thumbnail", "share")} == {
        "url": f"{SITE}/images/red-square.png",
        "width": 64,
        "height": 48,
        "alt": "Punainen neliö",
        "caption": "Neliö",
        "photographer": "Kuvaaja Kuvitteellinen",
        "licence": "CC BY 4.0",
    }
    assert _size(public, image["url"]) == (64, 48)
    assert round(_ratio(public, image["thumbnail"]), 1) == 1.5 and round(_ratio(public, image["share"]), 1) == 1.9
    assert [c["id"] for c in entry["contacts"]] == ["aino-testi", "ville-virtanen"]
    assert entry["contacts"][0] == {
        "id": "aino-testi",
        "name": "Aino Testi",
        "title": "viestintäpäällikkö; media, some",
        "unit": "Viestintä",
        "phone": "+358 40 555 0101",
        "email": "aino.testi@testila.example",
        "photo": f"{SITE}/images/red-square.png",
        "vcard": f"{SITE}/fi/contacts/aino-testi.vcf",
    }
    invite = next(r for r in documents["sv"]["releases"] if r["id"] == "invite")
    assert invite["event"] == {
        "start": "2026-03-29T10:00:00+03:00",
        "end": "2026-03-29T12:00:00+03:00",
        "location": "Strandparken, sal 2",
        "address": "",
        "calendar": f"{SITE}/{INVITE['sv']}inbjudan-till-bibliotekets-oppning.ics",
    }
    assert documents[None]["publisher"]["name"] == {
        "fi": "Testilan kaupunki",
        "sv": "Testby stad",
        "en": "City of Testila",
    }


# --- search --------------------------------------------------------------------------------------------------


def _unpack(path) -> bytes:
    data = gzip.decompress(path.read_bytes())
    assert data.startswith(b"pagefind_dcd")
    return data[len(b"pagefind_dcd") :]


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def search(site: Site, lang: str, word: str, bundle_name: str = urls.SEARCH_BUNDLE) -> set[str]:
    """The pages Pagefind's index (one bundle of it) gives for one word, read without a browser.

    The index holds stems with diacritics folded ('läsesalar' -> 'lasesal'; the pages of a word written with
    diacritics are under its variants), so a page matches when one of its stems begins the word.
    """
    bundle = site.output / bundle_name
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    meta = cbor2.loads(_unpack(bundle / f"pagefind.{entry['languages'][lang]['hash']}.pf_meta"))
    pages, chunks = meta[1], meta[2]
    query, numbers = _fold(word), set()
    for _first, _last, chunk in chunks:
        for stem, postings, variants in cbor2.loads(_unpack(bundle / "index" / f"{chunk}.pf_index"))[0]:
            if stem == query or (len(stem) >= 4 and query.startswith(stem)):
                for posting in postings + [p for _variant, more in variants for p in more]:
                    numbers.add(posting[0])
    fragments = [json.loads(_unpack(bundle / "fragment" / f"{pages[n][0]}.pf_fragment")) for n in numbers]
    return {fragment["url"] for fragment in fragments}


def _fragments(site: Site, bundle_name: str = urls.SEARCH_BUNDLE) -> list[dict]:
    return [json.loads(_unpack(path)) for path in (site.output / bundle_name / "fragment").iterdir()]


def test_search_index_has_one_index_per_language(public):
    bundle = public.output / urls.SEARCH_BUNDLE
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    counts = {lang: sum(1 for _, version in PUBLIC if version == lang) for lang in ("fi", "sv", "en")}
    assert {lang: info["page_count"] for lang, info in entry["languages"].items()} == counts
    for lang, info in entry["languages"].items():
        assert (bundle / f"pagefind.{info['hash']}.pf_meta").is_file()
        assert list((bundle / "index").glob(f"{lang}_*.pf_index"))
        assert (bundle / f"wasm.{lang}.pagefind").is_file()
    assert (bundle / "pagefind-ui.js").is_file() and (bundle / "pagefind-ui.css").is_file()


def test_search_finds_releases_by_words_in_body_title_lead_and_keywords(public):
    assert search(public, "fi", "hopeakuoro") == {f"/{TRI['fi']}"}
    assert search(public, "fi", "avautuu") == {f"/{TRI['fi']}"}
    assert search(public, "fi", "kulttuuri") == {f"/{TRI['fi']}"}
    assert search(public, "sv", "läsesalar") == {f"/{TRI['sv']}"}
    assert f"/{INVITE['fi']}" in search(public, "fi", "avajaisiin")


def test_search_filters_by_type_and_keyword(public):
    by_url = {fragment["url"]: fragment for fragment in _fragments(public)}
    assert by_url[f"/{TRI['fi']}"]["filters"] == {
        "Julkaisutyyppi": ["Tiedote"],
        "Avainsana": ["kirjastot", "kulttuuri"],
    }
    assert by_url[f"/{INVITE['sv']}"]["filters"] == {"Typ": ["Inbjudan"]}
    assert by_url[f"/{TRI['en']}"]["filters"] == {"Type": ["Press release"], "Keyword": ["libraries"]}


def test_search_indexes_only_release_bodies(public):
    fragments = _fragments(public)
    assert {fragment["url"] for fragment in fragments} == {f"/{u}" for u in _release_urls(public)}
    for fragment in fragments:
        assert "Siirry pääsisältöön" not in fragment["content"]  # the skip link lies outside the release
        assert ".vcf" not in fragment["content"]


def test_search_results_carry_date_type_and_language_and_no_section_headings(public):
    by_url = {fragment["url"]: fragment for fragment in _fragments(public)}
    finnish, english = by_url[f"/{TRI['fi']}"], by_url[f"/{TRI['en']}"]
    page = public.html(TRI["fi"])
    shown = page.select_one(".release__meta time")
    assert finnish["meta"]["date"] == shown.get_text() and finnish["meta"]["datetime"] == shown["datetime"]
    assert (finnish["meta"]["type"], finnish["meta"]["language"]) == ("Tiedote", "Suomi")
    assert (english["meta"]["type"], english["meta"]["language"]) == ("Press release", "English")
    headings = {"Avainsanat", "Yhteyshenkilöt", "Kuvat", "Liitteet", "Videot", "Jaa", "Nyckelord", "Keywords"}
    for fragment in by_url.values():
        anchors = {anchor["text"] for anchor in fragment["anchors"]}
        assert not anchors & headings, (fragment["url"], anchors)
        assert not headings & set(fragment["content"].replace(".", " ").split()), fragment["url"]
        assert fragment["meta"]["date"] not in fragment["content"]  # the meta line is not in the excerpts
    assert "kulttuuri" in finnish["content"]  # the keywords themselves stay searchable


def test_search_page_per_language(public):
    for lang, heading in (("fi", "Hae julkaisuja"), ("sv", "Sök meddelanden"), ("en", "Search releases")):
        page = public.html(urls.search(lang))
        assert page.html["lang"] == lang and page.h1.get_text() == heading
        scripts = [s.get("src") for s in page.select("script[src]")]
        assert scripts.count(f"{SITE}/theme/js/search.js") == 1 and not any("pagefind" in s for s in scripts)
        assert page.select_one("#search")["data-bundle"] == f"{SITE}/pagefind/"
        assert page.select_one("form#search[role=search] input#search-q[type=search][name=q]")
        assert page.select_one("label[for=search-q]") and page.select_one("#search-status[role=status]")
        assert page.select_one("noscript")
        assert page.select_one(f".site-header form.header-search[action='{SITE}/{urls.search(lang)}']")
    assert (public.output / "theme/js/search.js").is_file()


def _bundles(site: Site) -> dict[str, set[str]]:
    """Each search bundle in the output and the release addresses it holds."""
    return {
        folder.name + "/": {fragment["url"] for fragment in _fragments(site, folder.name)}
        for folder in sorted(site.output.glob("pagefind*"))
    }


def test_search_index_in_shards_oldest_first(discovery_content, tmp_path_factory):
    site = build_site(
        discovery_content,
        tmp_path_factory.mktemp("sharded") / "out",
        publish=True,
        now=NOW,
        settings={"NEWSROOM_SEARCH_SHARD_SIZE": 3},
    )
    # Oldest first: both invitations (20.2.), the old news (1.3.); both edge releases and the English library
    # release (9.3., languages in alphabetical order); then the Finnish and Swedish ones.
    assert _bundles(site) == {
        "pagefind/": {f"/{INVITE['fi']}", f"/{INVITE['sv']}", "/fi/releases/vanha-uutinen/"},
        "pagefind-2/": {"/fi/releases/juuri-ikkunan-ulkopuolella/", "/fi/releases/juuri-ikkunassa/", f"/{TRI['en']}"},
        "pagefind-3/": {f"/{TRI['fi']}", f"/{TRI['sv']}"},
    }
    assert search(site, "fi", "hopeakuoro", "pagefind-3/") == {f"/{TRI['fi']}"}
    assert search(site, "fi", "avajaisiin", "pagefind/") == {f"/{INVITE['fi']}"}
    box = site.html(urls.search("sv")).select_one("#search")
    assert box["data-bundle"] == f"{SITE}/pagefind/"
    assert box["data-merge"].split() == [f"{SITE}/pagefind-2/", f"{SITE}/pagefind-3/"]


def test_a_rebuild_indexes_again_only_the_shards_whose_releases_changed(discovery_content, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(discovery_content, content)
    output = tmp_path / "out"
    shards = {"NEWSROOM_SEARCH_SHARD_SIZE": 3}

    def built() -> dict[str, int]:
        build_site(content, output, now=NOW, settings=shards)
        return {
            name: (output / name / "pagefind-entry.json").stat().st_mtime_ns for name in _bundles(Site(content, output))
        }

    first = built()
    assert set(first) == {"pagefind/", "pagefind-2/", "pagefind-3/"}
    (content / "releases" / "new.fi.md").write_text(
        release("Uusi satamatiedote", "2026-03-09 11:00", release_id="new", body="Satama saa uuden laiturin.")
    )
    second = built()
    assert second["pagefind/"] == first["pagefind/"] and second["pagefind-2/"] == first["pagefind-2/"]
    assert second["pagefind-3/"] != first["pagefind-3/"]
    assert "/fi/releases/uusi-satamatiedote/" in _bundles(Site(content, output))["pagefind-3/"]
    (content / "releases" / "newer.fi.md").write_text(
        release("Toinen satamatiedote", "2026-03-09 12:00", release_id="newer")
    )
    third = built()
    assert {k: v for k, v in third.items() if k != "pagefind-4/"} == second
    assert _bundles(Site(content, output))["pagefind-4/"] == {"/fi/releases/toinen-satamatiedote/"}
    old = content / "releases" / "old.fi.md"
    old.write_text(old.read_text().replace("Body text.", "Uusi sana merikotka."))
    fourth = built()
    assert fourth["pagefind/"] != third["pagefind/"] and fourth["pagefind-4/"] == third["pagefind-4/"]
    assert search(Site(content, output), "fi", "merikotka") == {"/fi/releases/vanha-uutinen/"}
    (content / "releases" / "new.fi.md").unlink()
    (content / "releases" / "newer.fi.md").unlink()
    assert set(built()) == {"pagefind/", "pagefind-2/", "pagefind-3/"}  # the fourth bundle is gone
    assert _bundles(Site(content, output))["pagefind-3/"] == {f"/{TRI['fi']}", f"/{TRI['sv']}"}


# --- embargo -------------------------------------------------------------------------------------------------


def test_unpublished_releases_are_in_no_discovery_output(public, documents):
    for path in public.files():
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8", errors="ignore").lower()
        assert not [word for word in SECRET_WORDS if word in text], path
    assert not list(public.output.glob("fi/releases/salainen-kvasaarikutsu*"))
    assert {p.parent.name for p in public.output.rglob("*.ics")} == {u.split("/")[-2] for u in INVITE.values()}
    assert search(public, "fi", "kvasaarikutsun") == set() and search(public, "fi", "kuukivi") == set()


def test_leak_audit_reads_the_search_index(preview):
    """A preview indexes its embargoed releases; the audit, pointed at that index, finds them there."""
    settings = load_settings(BuildOptions(ROOT / "pelicanconf.py", preview.content))
    now = build_now(NOW, HELSINKI)
    assert "/fi/releases/salainen-kvasaarikutsu/" in search(preview, "fi", "kvasaarikutsun")
    leaks = audit(preview.output / urls.SEARCH_BUNDLE, settings, unpublished(catalog_for(settings), now))
    assert {leak.release.release_id for leak in leaks} == {"secret", "draft"}
    assert all(leak.file.suffix == ".pf_fragment" for leak in leaks)
