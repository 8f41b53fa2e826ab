"""Parts of the sample site's pages a journalist relies on, read back from the built HTML: the media desk first on the
contacts page, e-mail addresses that break only after @ and dots, share links in every language, the publisher's
social accounts in the footer and on the about page, the keywords the subscribe form offers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from newsroom.content.catalog import load_catalog
from newsroom.core import urls
from newsroom.theming.templating import breakable

SHARE_NAMES = {
    "fi": ("Jaa", "Linkki tähän julkaisuun", "Sähköposti"),
    "sv": ("Dela", "Länk till det här meddelandet", "E-post"),
    "en": ("Share", "Link to this release", "Email"),
}


def test_an_address_breaks_only_after_its_at_sign_and_dots_and_stays_escaped():
    assert breakable("aino.lehtonen@kaislaranta.example") == "aino.<wbr>lehtonen@<wbr>kaislaranta.<wbr>example"
    assert breakable("<b>@x") == "&lt;b&gt;@<wbr>x"


@pytest.mark.parametrize("lang", ("fi", "sv", "en"))
def test_the_contacts_page_starts_with_the_media_desk(sample_site, lang):
    main = sample_site.html(urls.contacts(lang)).select_one("main")
    desk = main.select_one("section.media-desk")
    assert desk is not None and desk.find_previous("ul", class_="contact-list") is None  # before every card
    assert [a["href"] for a in desk.select("a")] == ["tel:+35895551010", "mailto:viestinta@kaislaranta.example"]
    assert "viestinta@<wbr/>kaislaranta.<wbr/>example" in str(desk)
    for card in main.select(".contact-card"):
        address = card.select_one("a[href^=mailto]")
        assert address.get_text() == address["href"].removeprefix("mailto:")
        assert str(address).count("<wbr/>") == address.get_text().count("@") + address.get_text().count(".")


@pytest.mark.parametrize("lang", ("fi", "sv", "en"))
def test_every_release_has_share_links_in_its_language(sample_site, lang):
    heading, copy_text, email = SHARE_NAMES[lang]
    catalog = load_catalog(sample_site.content, ZoneInfo("Europe/Helsinki"))
    release = next(r for r in catalog.releases if r.lang == lang)
    page = sample_site.html(f"{lang}/releases/{release.slug}/")
    share = page.select_one("section.release__share[data-pagefind-ignore]")
    assert share.h2.get_text() == heading
    address = page.select_one("link[rel=canonical]")["href"]
    links = {a.get_text(): a["href"] for a in share.select("a")}
    assert links[copy_text] == address and links[email].startswith("mailto:?subject=")
    assert set(links) == {copy_text, email, "LinkedIn", "Facebook", "X", "Bluesky", "WhatsApp"}
    for href in links.values():
        assert not any(key.startswith("utm_") for key in parse_qs(urlsplit(href).query))
    assert [s["src"] for s in share.select("script")] == ["/theme/js/share.js"]


def test_the_publishers_accounts_are_in_every_footer_and_on_the_about_page(sample_site):
    accounts = [
        ("Mastodon", "https://social.kaislaranta.example/@kaislaranta"),
        ("YouTube", "https://video.kaislaranta.example/kaislaranta"),
    ]
    for url in ("fi/", "sv/media/", urls.contacts("en"), urls.about("fi")):
        footer = sample_site.html(url).select_one("footer .site-footer__social")
        assert [(a.get_text(), a["href"]) for a in footer.select("a[rel=me]")] == accounts
    about = sample_site.html(urls.about("sv")).select_one("main .social-links")
    assert [(a.get_text(), a["href"]) for a in about.select("a[rel=me]")] == accounts


def test_the_subscribe_form_offers_the_keywords_of_the_pages_language(sample_site):
    catalog = load_catalog(sample_site.content, ZoneInfo("Europe/Helsinki"))
    for lang in ("fi", "sv"):
        form = sample_site.html(urls.subscribe(lang)).select_one("form.subscribe__form")
        offered = [box["value"] for box in form.select(".subscribe__keywords input[type=checkbox]")]
        used = {word for r in catalog.releases if r.lang == lang for word in r.keywords}
        assert offered and set(offered) <= used and len(offered) == len(set(offered))
        assert offered == sorted(offered, key=str.casefold)
        assert (
            form.select_one(".subscribe__keywords legend")
            .get_text()
            .startswith(
                {"fi": "Vain tiedotteet, joissa on nämä avainsanat", "sv": "Endast meddelanden med dessa nyckelord"}[
                    lang
                ]
            )
        )
