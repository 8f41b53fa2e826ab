"""The sample site at a phone's and a desktop's width in Chromium: the header's menu button works from the keyboard, the
desktop's sections fit one row, a video plays its captions, the media bank filters, search shows each result's date,
type and language, a release's share links and copy button work and load nothing, axe finds nothing; screenshots of
the main pages at 390 and 1280 px land in test-artifacts/presentation/."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, sync_playwright

from newsroom.content.catalog import load_catalog
from newsroom.core import urls
from sitebuilder import ROOT
from test_browser import AXE, CHROMIUM, CHROMIUM_FLAGS, _axe_violations, _served

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 390, "desktop": 1280}
ARTIFACTS = ROOT / "test-artifacts" / "presentation"


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not CHROMIUM.exists() or not AXE.exists():
        pytest.fail("Chromium (/usr/bin/chromium) or axe-core (node_modules) is missing: `make test` installs both")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(sample_site):
    with _served(sample_site.output) as address:
        yield address


@pytest.fixture(scope="module")
def video_release(sample_site) -> str:
    catalog = load_catalog(sample_site.content, ZoneInfo("Europe/Helsinki"))
    found = next(r for r in catalog.releases if r.lang == "fi" and r.videos)
    return f"fi/releases/{found.slug}/"


@pytest.fixture(scope="module")
def main_pages(video_release) -> dict[str, str]:
    return {
        "front": urls.front("fi"),
        "release": video_release,
        "media": urls.media("fi"),
        "search": urls.search("fi") + "?q=kirjasto",
        "contacts": urls.contacts("fi"),
    }


def _open(browser, site, url, width):
    page = browser.new_page(viewport={"width": WIDTHS[width], "height": 844})
    page.goto(site + url)
    return page


def test_phone_menu_opens_and_closes_from_the_keyboard_with_focus_managed(browser, site):
    page = _open(browser, site, "fi/", "phone")
    try:
        button = page.locator(".menu-button")
        nav_link = page.locator(".site-nav a").first
        assert button.is_visible() and not nav_link.is_visible()
        assert button.get_attribute("aria-expanded") == "false"
        assert button.get_attribute("aria-controls") == "site-menu"
        header_bottom = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().bottom")
        assert header_bottom < 100  # compact: the bar alone, not rows of links
        # The other languages stay in the bar, beside the button: a release's versions are one tap away.
        languages = page.locator(".language-switcher--bar a")
        assert [a.get_attribute("hreflang") for a in languages.all()] == ["sv", "en"]
        assert all(a.is_visible() for a in languages.all()) and languages.first.inner_text().startswith("SV")
        assert page.evaluate("document.querySelector('.language-switcher--bar a').textContent") == "SV – Svenska"
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")  # the brand
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.hreflang") == "sv"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "menu-button"
        page.keyboard.press("Enter")
        assert button.get_attribute("aria-expanded") == "true" and nav_link.is_visible()
        assert page.locator(".header-search input").is_visible() and page.locator(".header-subscribe").is_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "header-search-q"  # the menu comes next in Tab order
        page.keyboard.press("Escape")
        assert button.get_attribute("aria-expanded") == "false" and not nav_link.is_visible()
        assert page.evaluate("document.activeElement.className") == "menu-button"
        page.keyboard.press(" ")
        assert button.get_attribute("aria-expanded") == "true"
        page.keyboard.press("Enter")
        assert button.get_attribute("aria-expanded") == "false"
    finally:
        page.close()


def test_without_javascript_the_phone_header_shows_every_link_and_no_button(browser, site):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(site + "fi/")
        assert not page.locator(".menu-button").is_visible()
        assert all(link.is_visible() for link in page.locator(".site-nav a").all())
    finally:
        context.close()


def test_desktop_sections_fit_one_row_with_search_and_subscribe_in_the_header(browser, site):
    for lang in ("fi", "sv", "en"):
        page = _open(browser, site, urls.front(lang), "desktop")
        try:
            tops = page.evaluate("[...document.querySelectorAll('.site-nav li')].map(li => li.offsetTop)")
            assert len(set(tops)) == 1, (lang, tops)
            assert page.evaluate(
                "(() => { const n = document.querySelector('.site-nav ul'); return n.scrollWidth <= n.clientWidth; })()"
            )
            assert page.locator(".header-search input").is_visible() and not page.locator(".menu-button").is_visible()
        finally:
            page.close()


def test_header_search_opens_the_search_page_with_the_query(browser, site):
    page = _open(browser, site, "fi/", "desktop")
    try:
        page.fill(".header-search input", "kirjasto")
        page.keyboard.press("Enter")
        page.wait_for_url("**/fi/search/?q=kirjasto")
    finally:
        page.close()


def test_a_video_plays_with_its_captions_track_in_the_page_language(browser, site, video_release):
    page = _open(browser, site, video_release, "desktop")
    try:
        page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
        page.wait_for_function(
            "() => { const t = document.querySelector('video').textTracks[0]; return t && t.cues && t.cues.length > 0; }"
        )
        track = page.evaluate(
            "() => { const t = document.querySelector('video').textTracks[0];"
            " return {lang: t.language, mode: t.mode, kind: t.kind, text: t.cues[0].text}; }"
        )
        assert track["lang"] == "fi" and track["mode"] == "showing" and track["kind"] == "captions"
        assert "merkkiääni" in track["text"].lower()
        page.wait_for_function("() => document.querySelector('video').currentTime > 0.2")
    finally:
        page.close()


def test_media_bank_filters_by_kind_and_keyword_and_says_how_many_remain(browser, site):
    page = _open(browser, site, "fi/media/", "desktop")
    try:
        total = page.locator(".media-bank__item").count()
        page.select_option("#filter-kind", "video")
        visible = page.locator(".media-bank__item:visible")
        assert visible.count() == 1 and visible.first.locator("video").count() == 1
        assert page.locator("#photos").is_hidden()
        assert page.locator(".media-filter__count").inner_text() == f"Näytetään 1/{total}"
        page.select_option("#filter-kind", "")
        word = page.locator("#filter-keyword option").nth(1).get_attribute("value")
        page.select_option("#filter-keyword", word)
        shown = page.locator(".media-bank__item:visible")
        assert 0 < shown.count() < total
        assert all(word in item.get_attribute("data-keywords").split() for item in shown.all())
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ("front", "release", "media", "search", "contacts"))
def test_main_pages_have_no_axe_violations_and_are_photographed(browser, site, main_pages, kind, width):
    page = _open(browser, site, main_pages[kind], width)
    try:
        page.wait_for_load_state("networkidle")
        if kind == "search":
            page.wait_for_selector(".search-result")
        page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
        page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{kind}-{WIDTHS[width]}.png"), full_page=True)
        if width == "phone":
            page.click(".menu-button")
            page.screenshot(path=str(ARTIFACTS / f"{kind}-{WIDTHS[width]}-menu.png"))
        assert _axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]
    finally:
        page.close()


SECTION_HEADINGS = {"Avainsanat", "Yhteyshenkilöt", "Kuvat", "Videot", "Liitteet", "Jaa", "Tapahtuma"}


def test_search_shows_each_results_date_type_and_language_and_no_section_sub_results(browser, site):
    page = _open(browser, site, urls.search("fi"), "desktop")
    try:
        page.wait_for_selector("#search:not([hidden])")
        page.focus("#search-q")
        page.keyboard.type("kirjasto")
        page.keyboard.press("Enter")
        page.wait_for_selector(".search-result")
        assert page.url.endswith("/fi/search/?q=kirjasto")  # the address follows the form: a search can be linked to
        results = page.locator(".search-result")
        count = results.count()
        assert page.locator("#search-status").inner_text() == f"{count} tulosta haulla ”kirjasto”."
        assert page.get_attribute("#search-status", "role") == "status"
        types = {"Tiedote", "Uutinen", "Kutsu", "Blogikirjoitus", "Artikkeli"}
        for result in results.all():
            time = result.locator(".release-card__meta time")
            assert time.get_attribute("datetime")[:4].isdigit() and time.inner_text()[:2].isdigit()
            assert result.locator(".search-result__type").inner_text() in types
            assert result.locator(".search-result__language").inner_text() == "Suomi"
            assert result.locator("h2 a").get_attribute("href").startswith("/fi/releases/")
            assert result.locator("mark").count() > 0
        titles = set(page.locator(".search-result h2").all_inner_texts())
        assert not titles & SECTION_HEADINGS
        # Pagefind's own sub-results (anchored headings) hold no section of the release's sidebar or lists.
        sub_titles = page.evaluate(
            """async () => {
                const pagefind = await import('/pagefind/pagefind.js');
                const search = await pagefind.search('kirjasto');
                const pages = await Promise.all(search.results.map(r => r.data()));
                return pages.flatMap(p => p.sub_results.map(s => s.title));
            }"""
        )
        assert sub_titles and not set(sub_titles) & SECTION_HEADINGS
        # The type filter, from the keyboard: only invitations remain.
        page.focus("#search-type")
        page.select_option("#search-type", "Kutsu")
        page.wait_for_function(f"document.querySelectorAll('.search-result').length < {count}")
        assert set(page.locator(".search-result__type").all_inner_texts()) == {"Kutsu"}
        assert "type=Kutsu" in page.url
        page.fill("#search-q", "zzxqv")
        page.wait_for_function("document.getElementById('search-status').textContent.startsWith('Ei tuloksia')")
        assert page.locator(".search-result").count() == 0
    finally:
        page.close()


def test_a_release_has_share_links_that_load_nothing_and_a_copy_button(browser, site, video_release):
    context = browser.new_context(viewport={"width": 1280, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(site + video_release)
        page.wait_for_load_state("networkidle")
        assert requested and all(url.startswith(site) for url in requested), requested
        assert not page.locator("iframe").count()
        address = page.locator("link[rel=canonical]").get_attribute("href")
        share = page.locator(".release__share")
        assert share.locator("h2").inner_text() == "Jaa"
        links = {a.inner_text(): a.get_attribute("href") for a in share.locator("a").all()}
        assert set(links) == {"Sähköposti", "LinkedIn", "Facebook", "X", "Bluesky", "WhatsApp"}
        services = {
            "LinkedIn": ("www.linkedin.com", "url"),
            "Facebook": ("www.facebook.com", "u"),
            "X": ("x.com", "url"),
            "Bluesky": ("bsky.app", "text"),
            "WhatsApp": ("wa.me", "text"),
        }
        for name, (host, key) in services.items():
            parts = urlsplit(links[name])
            query = parse_qs(parts.query)
            assert parts.scheme == "https" and parts.netloc == host
            assert address in query[key][0] and not any(k.startswith("utm_") for k in query)
        mail = parse_qs(urlsplit(links["Sähköposti"]).query)
        assert links["Sähköposti"].startswith("mailto:?") and address in mail["body"][0]
        button = share.locator("button")
        assert button.inner_text() == "Kopioi linkki"
        button.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelector('.share-links__copied').textContent !== ''")
        assert share.locator("[role=status]").inner_text() == "Linkki kopioitu"
        assert page.evaluate("navigator.clipboard.readText()") == site + video_release
    finally:
        context.close()
    plain = browser.new_context(java_script_enabled=False)
    try:
        page = plain.new_page()
        page.goto(site + video_release)
        link = page.locator(".share-links__copy a")
        assert link.inner_text() == "Linkki tähän julkaisuun" and link.get_attribute("href").endswith(video_release)
    finally:
        plain.close()
