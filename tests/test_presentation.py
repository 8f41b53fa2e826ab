"""The sample site at a phone's and a desktop's width in Chromium: the header's menu button works from the keyboard, the
desktop's sections fit one row, a video plays its captions, the media bank filters, axe finds nothing; screenshots of
the main pages at 390 and 1280 px land in test-artifacts/presentation/."""

from __future__ import annotations

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
        "search": urls.search("fi"),
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
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")  # the brand
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
        page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
        page.wait_for_timeout(300)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{kind}-{WIDTHS[width]}.png"), full_page=True)
        if width == "phone":
            page.click(".menu-button")
            page.screenshot(path=str(ARTIFACTS / f"{kind}-{WIDTHS[width]}-menu.png"))
        assert _axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]
    finally:
        page.close()
