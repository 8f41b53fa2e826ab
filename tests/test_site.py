"""The built site: release pages, translations, timestamps and listings, read back from the HTML."""

from __future__ import annotations

import re

import pytest

RELEASE_SECTIONS = [
    "release-title",
    "keywords-heading",
    "contacts-heading",
    "images-heading",
    "attachments-heading",
    "about-heading",
    "subscribe-heading",
    "more-heading",
    "newsroom-heading",
]


def test_release_page_has_every_section_in_reference_order(small_site):
    page = small_site.html("fi/releases/kolmikielinen-tiedote/")
    ids = [tag["id"] for tag in page.select("[id]") if tag["id"] in RELEASE_SECTIONS]
    assert ids == RELEASE_SECTIONS
    assert page.select_one(".release__lead").get_text(strip=True) == "Lead of Kolmikielinen tiedote."
    body = page.select_one(".release__body")
    assert body.find("h2").get_text() == "Väliotsikko" and body.find("blockquote")
    assert [a.get_text() for a in page.select(".release__keywords a")] == ["päätöksenteko", "kirjastot"]
    assert page.select_one(".contact-card__name").get_text() == "Ville Virtanen"
    assert "tiedottaja" in page.select_one(".contact-card__title").get_text()
    assert page.select_one(".contact-card a[href^=tel]")["href"] == "tel:+358405550150"
    image = page.select_one(".release__images img")
    assert (image["alt"], image["width"], image["height"]) == ("Punainen neliö", "64", "48")
    assert "Kuva: Kuvaaja Kuvitteellinen, CC BY 4.0" in page.select_one(".release__images figcaption").get_text()
    assert page.select_one(".release__images a.download")["href"] == "/images/red-square.png"
    assert page.select_one(".release__attachments a")["href"] == "/attachments/plan.pdf"
    about = page.select_one(".about-publisher").get_text(" ", strip=True)
    assert "Testilan kaupunki – Testby stad – City of Testila" in about and "PL 7" in about
    assert page.select_one(".visit-newsroom a")["href"] == "/fi/"


def test_release_assets_are_copied(small_site):
    assert (small_site.output / "images/red-square.png").is_file()
    assert (small_site.output / "attachments/plan.pdf").read_text().startswith("%PDF")
    assert (small_site.output / "logo.svg").is_file()


TRILINGUAL = {
    "fi": "/fi/releases/kolmikielinen-tiedote/",
    "sv": "/sv/releases/tresprakigt-meddelande/",
    "en": "/en/releases/trilingual-release/",
}


def test_language_versions_link_each_other_both_ways_with_hreflang(small_site):
    for lang, url in TRILINGUAL.items():
        soup = small_site.html(url.lstrip("/"))
        assert soup.html["lang"] == lang
        alternates = {link["hreflang"]: link["href"] for link in soup.select("link[rel=alternate][hreflang]")}
        assert alternates == {**TRILINGUAL, "x-default": TRILINGUAL["fi"]}
        switcher = {a["hreflang"]: a["href"] for a in soup.select(".language-switcher a")}
        assert switcher == {other: u for other, u in TRILINGUAL.items() if other != lang}


def test_single_language_release_switcher_leads_to_other_front_pages(small_site):
    soup = small_site.html("fi/releases/nostettu-uutinen/")
    assert {a["hreflang"]: a["href"] for a in soup.select(".language-switcher a")} == {"sv": "/sv/", "en": "/en/"}
    assert [link["hreflang"] for link in soup.select("link[rel=alternate][hreflang]")] == ["fi"]


def test_every_page_declares_its_language(small_site):
    for path in small_site.output.rglob("*.html"):
        soup = small_site.html(str(path.relative_to(small_site.output)))
        expected = path.relative_to(small_site.output).parts[0]
        assert soup.html.get("lang") == (expected if expected in ("fi", "sv", "en") else "fi"), path


@pytest.mark.parametrize(
    "slug, stamp",
    [
        ("ennen-kellojen-siirtoa", "29.03.2026 02:30:00 EET"),
        ("kellojen-siirron-jalkeen", "29.03.2026 05:00:00 EEST"),
        ("ennen-syksyn-siirtoa", "25.10.2026 02:00:00 EEST"),
        ("syksyn-siirron-jalkeen", "25.10.2026 05:00:00 EET"),
        ("aikavyohyke-annettu", "01.06.2026 12:00:00 EEST"),
    ],
)
def test_timestamps_carry_the_right_zone_abbreviation_around_dst(small_site, slug, stamp):
    meta = small_site.html(f"fi/releases/{slug}/").select_one(".release__meta")
    assert meta.get_text(" ", strip=True) == f"{stamp} | Tiedote"
    iso = meta.time["datetime"]
    assert iso.endswith("+03:00") if "EEST" in stamp else iso.endswith("+02:00")


def test_correction_shows_updated_timestamp(small_site):
    updated = small_site.html("fi/releases/aikavyohyke-annettu/").select_one(".release__updated")
    assert updated.get_text(" ", strip=True) == "Päivitetty 02.06.2026 10:15:00 EEST"
    assert small_site.html("fi/releases/nostettu-uutinen/").select_one(".release__updated") is None


def test_type_names_follow_the_page_language(small_site):
    assert (
        small_site.html("sv/releases/tresprakigt-meddelande/").select_one(".release__meta a").get_text()
        == "Pressmeddelande"
    )
    assert (
        small_site.html("en/releases/trilingual-release/").select_one(".release__meta a").get_text() == "Press release"
    )
    nav = [a.get_text() for a in small_site.html("fi/").select(".site-nav a")]
    assert nav == [
        "Uusimmat",
        "Tiedotteet",
        "Uutiset",
        "Kutsut",
        "Blogikirjoitukset",
        "Artikkelit",
        "Yhteyshenkilöt",
        "Kuvapankki",
        "Tietoa meistä",
    ]
    # Search is the header's search box, beside the sections, not one of them.
    assert small_site.html("fi/").select_one("header form.header-search[role=search]")["action"].endswith("/fi/search/")


def _listing(site, url):
    titles, page = [], url
    while page:
        soup = site.html(page)
        titles += [a.get_text() for a in soup.select(".release-card__title a")]
        nxt = soup.select_one(".pagination a[rel=next]")
        page = nxt["href"].lstrip("/") if nxt else None
    return titles


def test_front_page_lists_pinned_first_then_newest_across_pages(small_site):
    titles = _listing(small_site, "fi/")
    assert titles[0] == "Nostettu uutinen"
    dated = re.findall(
        r"\d\d\.\d\d\.\d{4}",
        " ".join(m.get_text() for p in ("fi/", "fi/page/2/") for m in small_site.html(p).select(".release-card__meta")),
    )
    assert len(titles) == 15 and len(set(titles)) == 15
    days = [tuple(reversed(d.split("."))) for d in dated[1:]]
    assert days == sorted(days, reverse=True)
    assert small_site.html("fi/").select_one(".release-card--pinned .badge").get_text() == "Nostettu"
    assert len(small_site.html("fi/").select(".release-card")) == 10


def test_type_and_keyword_pages_list_exactly_their_releases(small_site):
    assert _listing(small_site, "fi/type/invitation/") == ["Kutsu avajaisiin"]
    assert _listing(small_site, "fi/type/news/") == ["Nostettu uutinen"]
    assert _listing(small_site, "fi/keyword/kirjastot/") == ["Kellojen siirron jälkeen", "Kolmikielinen tiedote"]
    assert _listing(small_site, "fi/keyword/paatoksenteko/") == ["Kolmikielinen tiedote"]
    assert _listing(small_site, "sv/keyword/beslutsfattande/") == ["Trespråkigt meddelande"]
    assert not (small_site.output / "sv/type/news").exists()


def test_more_from_the_publisher_lists_five_latest_others_in_the_same_language(small_site):
    soup = small_site.html("fi/releases/kutsu-avajaisiin/")
    more = [a.get_text() for a in soup.select(".more .release-card__title a")]
    assert more == ["Syksyn siirron jälkeen", "Ennen syksyn siirtoa", "Aikavyöhyke annettu", "Täyte 7", "Täyte 6"]
    assert soup.select(".more .release-card__meta")[0].get_text(" ", strip=True) == "25.10.2026 05:00:00 EET | Tiedote"
    assert soup.select_one(".more .release-card__lead").get_text() == "Lead of Syksyn siirron jälkeen."
    assert [a.get_text() for a in small_site.html("sv/releases/tresprakigt-meddelande/").select(".more a")] == []


def test_invitation_shows_event_time_and_place(small_site):
    event = small_site.html("fi/releases/kutsu-avajaisiin/").select_one(".release__event")
    text = event.get_text(" ", strip=True)
    assert "tiistai 12. toukokuuta 2026 10.00–12.00" in text and "Kaupungintalo, Esplanadi 1" in text


def test_contacts_about_accessibility_404_and_root(small_site):
    contacts = small_site.html("sv/contacts/")
    assert contacts.h1.get_text() == "Mediekontakter"
    assert [c.get_text() for c in contacts.select(".contact-card__name")] == ["Ville Virtanen"]
    assert "informatör" in contacts.select_one(".contact-card__title").get_text()
    about = small_site.html("en/about/")
    assert "Testila is a made-up city." in about.get_text()
    statement = small_site.html("sv/accessibility/")
    assert statement.h1.get_text() == "Tillgänglighetsutlåtande"
    assert {a["hreflang"] for a in statement.select("link[rel=alternate][hreflang]")} == {"fi", "sv", "x-default"}
    for url, heading in (("404.html", "Sivua ei löytynyt"), ("en/404.html", "Page not found")):
        soup = small_site.html(url)
        assert soup.h1.get_text() == heading
        assert soup.select_one("link[rel=stylesheet]")["href"].startswith("/")
    root = small_site.html("index.html")
    assert root.select_one("meta[http-equiv=refresh]")["content"] == "0; url=/fi/"
    assert [a["href"] for a in root.select(".language-choice a")] == ["/fi/", "/sv/", "/en/"]


def test_brand_colour_comes_from_newsroom_yaml(small_site):
    assert "--brand: #123456" in small_site.html("fi/").style.string


def test_titles_and_leads_are_escaped_while_bodies_stay_html(small_site):
    raw = (small_site.output / "en/releases/fish/index.html").read_text(encoding="utf-8")
    assert "Fish &amp; &lt;chips&gt;" in raw and "<chips>" not in raw
    page = small_site.html("en/releases/fish/")
    assert page.h1.get_text() == "Fish & <chips>"
    assert page.select_one(".release__lead").get_text() == "Lead of Fish & <chips>."
    assert page.select_one(".release__body p").get_text() == "Body text."
