"""The built sample site in a real browser (Debian's Chromium, headless, driven by Playwright): axe-core finds no
WCAG 2.0/2.1 A or AA violation on any kind of page, everything works from the keyboard, a release prints cleanly."""

from __future__ import annotations

import contextlib
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from newsroom.content.catalog import load_catalog
from newsroom.core import urls
from sitebuilder import ROOT, SAMPLE_NOW, Site, build_site

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Headless on a closed network: no GPU, no sandbox (root), and none of Chromium's own calls home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"phone": 375, "desktop": 1280}
LANGS = ("fi", "sv", "en")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Every kind of page the newsroom writes; kinds a build does not have yet are skipped, saying so.
KINDS = (
    "front",
    "release",
    "invitation",
    "type",
    "keyword",
    "contacts",
    "about",
    "accessibility",
    "media",
    "search",
    "subscribe",
    "feeds",
    "404",
)
SCREENSHOT_KINDS = ("front", "release", "invitation", "type", "contacts", "media", "search", "subscribe")

# What the Tab key must reach; tabindex=-1 takes an element out of the order on purpose (the form's bot trap).
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), "
    "textarea:not([disabled]), summary, [tabindex]"
)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser moved on before a response finished


@contextlib.contextmanager
def _served(folder: Path):
    """A built site served over HTTP on 127.0.0.1, as a web server would serve it; yields its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site_url(sample_site: Site):
    """Module-scoped: the server's thread stops with this module, so later tests see no other thread running (a
    build forks its workers only then)."""
    with _served(sample_site.output) as address:
        yield address


@pytest.fixture(scope="module")
def sharded_site(tmp_path_factory):
    """The sample newsroom with its search index in shards of twelve pages, served; (address, output folder)."""
    output = tmp_path_factory.mktemp("sharded-sample") / "output"
    build_site(ROOT / "content", output, now=SAMPLE_NOW, settings={"NEWSROOM_SEARCH_SHARD_SIZE": 12})
    with _served(output) as address:
        yield address, output


@pytest.fixture(scope="module")
def browser() -> Browser:
    """One headless Chromium for this module; closed when the module is done, because Playwright's sync API keeps
    an asyncio loop running in the main thread that later tests' asyncio.run() would collide with."""
    if not CHROMIUM.exists() or not AXE.exists():
        pytest.fail("Chromium (/usr/bin/chromium) or axe-core (node_modules) is missing: `make test` installs both")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def pages(sample_site: Site) -> dict[tuple[str, str], str]:
    """(kind, lang) -> address of one page of that kind in the built sample site."""
    catalog = load_catalog(sample_site.content, ZoneInfo("Europe/Helsinki"))
    newest_first = sorted(catalog.releases, key=lambda r: r.date, reverse=True)
    found: dict[tuple[str, str], str] = {}
    for lang in LANGS:
        public = [r for r in newest_first if r.lang == lang and _exists(sample_site, f"{lang}/releases/{r.slug}/")]
        rich = next((r for r in public if r.images and r.contacts and r.type != "invitation"), None)
        invitation = next((r for r in public if r.type == "invitation"), None)
        candidates = {
            "front": urls.front(lang),
            "release": rich and f"{lang}/releases/{rich.slug}/",
            "invitation": invitation and f"{lang}/releases/{invitation.slug}/",
            "type": urls.release_type(lang, "press-release"),
            "keyword": rich and rich.keywords and urls.keyword(lang, rich.keywords[0]),
            "contacts": urls.contacts(lang),
            "about": urls.about(lang),
            "accessibility": f"{lang}/accessibility/",
            "media": f"{lang}/media/",
            "search": f"{lang}/search/",
            "subscribe": f"{lang}/subscribe/",
            "feeds": f"{lang}/feeds/",
            "404": f"{lang}/404.html",
        }
        found.update({(kind, lang): url for kind, url in candidates.items() if url and _exists(sample_site, url)})
    return found


def _exists(site: Site, url: str) -> bool:
    return (site.output / urls.save_as(url)).is_file()


def _open(browser: Browser, site_url: str, url: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(site_url + url)
    return page


def _page_for(pages: dict, kind: str, lang: str) -> str:
    if (kind, lang) not in pages:
        pytest.skip(f"the sample build has no {kind} page in {lang}")
    return pages[(kind, lang)]


def _axe_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
                   .then(result => result.violations)""",
        WCAG_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}: {node['failureSummary']}"
        for v in violations
        for node in v["nodes"]
    ]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_page_has_no_wcag_a_or_aa_violations(browser, site_url, pages, kind, lang, width):
    page = _open(browser, site_url, _page_for(pages, kind, lang), WIDTHS[width])
    try:
        assert _axe_violations(page) == []
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", SCREENSHOT_KINDS)
def test_screenshot_of_main_page_fits_the_width_without_sideways_scrolling(browser, site_url, pages, kind, width):
    """The screenshots land in test-artifacts/screenshots/ (the test report names the folder)."""
    page = _open(browser, site_url, _page_for(pages, kind, "fi"), WIDTHS[width])
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{kind}-fi-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(header[16:20], "big") == WIDTHS[width]
    finally:
        page.close()


def _mark_focusables(page: Page) -> int:
    """Number every visible element a keyboard user must be able to reach; returns how many there are."""
    return page.evaluate(
        """selector => {
            const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
            const all = [...document.querySelectorAll(selector)]
                .filter(el => el.getAttribute('tabindex') !== '-1' && visible(el));
            // a group of radio buttons is one Tab stop (the arrow keys move within it): one number for the group
            const groups = {};
            let count = 0;
            for (const el of all) {
                const group = el.type === 'radio' ? `${el.form ? [...document.forms].indexOf(el.form) : ''}/${el.name}` : null;
                if (group !== null && group in groups) { el.dataset.kb = groups[group]; continue; }
                el.dataset.kb = String(count++);
                if (group !== null) groups[group] = el.dataset.kb;
            }
            return count;
        }""",
        FOCUSABLE,
    )


_FOCUS_STATE = """el => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const page = document.documentElement;
    return {
        kb: el.dataset ? el.dataset.kb ?? null : null, tag: el.tagName, id: el.id,
        text: (el.textContent || el.name || '').trim().slice(0, 60),
        // visibly focused: an outline or a box shadow (the theme's :focus-visible ring has both)
        visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
        // on the page, not parked off-screen: a keyboard user must see where focus went
        onscreen: box.width > 0 && box.height > 0 && box.left + scrollX >= 0 && box.top + scrollY >= 0
                  && box.right + scrollX <= page.scrollWidth,
    };
}"""


def _focused(page: Page) -> dict:
    """What has focus now and whether it shows it."""
    return page.evaluate(f"({_FOCUS_STATE})(document.activeElement)")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_interactive_element_is_reached_with_tab_and_shows_focus(browser, site_url, pages, kind, width):
    page = _open(browser, site_url, _page_for(pages, kind, "fi"), WIDTHS[width])
    try:
        count = _mark_focusables(page)
        page.evaluate(f"""() => {{
            window.focusLog = [];
            document.addEventListener('focusin', event => window.focusLog.push(({_FOCUS_STATE})(event.target)));
        }}""")
        # A <video>'s own controls are Tab stops too (inside the browser's player, not in FOCUSABLE): press Tab
        # until every counted element has had focus, with room for those, not a fixed count + 3.
        for _ in range(count * 2 + 30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.kb") == str(count - 1):
                break
        page.keyboard.press("Tab")
        log = page.evaluate("window.focusLog")
        reached = {entry["kb"] for entry in log if entry["kb"] is not None}
        missed = page.evaluate(
            "ids => [...new Map([...document.querySelectorAll('[data-kb]')].filter(el => !ids.includes(el.dataset.kb))"
            ".map(el => [el.dataset.kb, el.outerHTML.slice(0, 120)])).values()]",
            sorted(reached),
        )
        unfocused = [entry for entry in log if not (entry["visible"] and entry["onscreen"])]
        assert count > 0 and missed == [] and unfocused == []
    finally:
        page.close()


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(browser, site_url, pages):
    page = _open(browser, site_url, _page_for(pages, "release", "fi"), WIDTHS["phone"])
    try:
        page.keyboard.press("Tab")
        skip = _focused(page)
        assert skip["tag"] == "A" and skip["visible"] and skip["onscreen"]
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    finally:
        page.close()


def _tab_to(page: Page, selector: str, limit: int = 200) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("width", WIDTHS)
def test_language_switcher_works_from_the_keyboard(browser, site_url, pages, width):
    release = _page_for(pages, "release", "fi")
    page = _open(browser, site_url, release, WIDTHS[width])
    try:
        target = page.get_attribute(".language-switcher a[hreflang=sv]", "href")
        _tab_to(page, ".language-switcher a[hreflang=sv]")
        assert _focused(page)["visible"]
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.evaluate("document.documentElement.lang") == "sv"
        assert page.url == site_url.rstrip("/") + target
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_subscribe_form_is_filled_and_sent_from_the_keyboard(browser, site_url, pages, width):
    page = _open(browser, site_url, _page_for(pages, "release", "fi"), WIDTHS[width])
    sent = []

    def receive(route):
        sent.append((route.request.method, route.request.url, parse_qs(route.request.post_data or "")))
        route.fulfill(status=200, content_type="text/html", body="<!DOCTYPE html><title>ok</title><p>ok")

    try:
        form = page.locator("form.subscribe__form")
        assert form.count() == 1
        page.route(form.get_attribute("action"), receive)
        _tab_to(page, "form.subscribe__form input[type=email]")
        assert _focused(page)["visible"]
        page.keyboard.type("toimittaja@example.org")
        for _ in range(20):  # on through the form: tick what must be ticked (Space), send with the button (Enter)
            page.keyboard.press("Tab")
            assert _focused(page)["visible"]
            if page.evaluate("document.activeElement.matches('form.subscribe__form input[type=checkbox][required]')"):
                page.keyboard.press("Space")
            if page.evaluate("document.activeElement.matches('form.subscribe__form [type=submit]')"):
                break
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert len(sent) == 1
        method, _, fields = sent[0]
        assert method == "POST" and fields["email"] == ["toimittaja@example.org"] and fields["lang"] == ["fi"]
        assert "website" not in fields or fields["website"] == [""]  # the bot trap stays empty
    finally:
        page.close()


def test_printed_release_has_no_navigation_and_shows_link_addresses(browser, site_url, pages):
    page = _open(browser, site_url, _page_for(pages, "release", "fi"), WIDTHS["desktop"])
    try:
        page.emulate_media(media="print")
        hidden = page.evaluate(
            """selectors => selectors.map(s => [...document.querySelectorAll(s)]
                   .every(el => getComputedStyle(el).display === 'none'))""",
            [".skip-link", ".site-nav", ".language-switcher", ".subscribe", ".more", ".visit-newsroom"],
        )
        assert hidden == [True] * 6
        shown = page.evaluate(
            """() => [...document.querySelectorAll('.contact-card a, .release__body a[href^="http"]')]
                   .map(a => [a.getAttribute('href'), getComputedStyle(a, '::after').content])"""
        )
        assert shown and all(href in content for href, content in shown)
        assert page.locator("h1").is_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(SCREENSHOTS / "release-fi-print.pdf"), format="A4")
        page.emulate_media(media="screen")
        assert page.evaluate("getComputedStyle(document.querySelector('.site-nav')).display") != "none"
    finally:
        page.close()


def test_search_finds_the_oldest_and_the_newest_release_across_the_shards_of_the_index(browser, sharded_site):
    address, output = sharded_site
    assert {p.name for p in output.glob("pagefind*")} >= {"pagefind", "pagefind-2", "pagefind-3"}
    catalog = load_catalog(ROOT / "content", ZoneInfo("Europe/Helsinki"))
    public = sorted(
        (
            r
            for r in catalog.releases
            if r.lang == "fi" and (output / "fi" / "releases" / r.slug / "index.html").is_file()
        ),
        key=lambda r: r.date,
    )
    for wanted in (public[0], public[-1]):
        page = browser.new_page()
        page.goto(f"{address}fi/search/?q={quote(wanted.title)}")
        page.wait_for_selector(".search-result a", timeout=15_000)
        found = page.eval_on_selector_all(".search-result a", "links => links.map(a => a.getAttribute('href'))")
        assert f"/fi/releases/{wanted.slug}/" in found, (wanted.title, found)
        page.close()
