"""The desk with the keyboard alone (WCAG 2.1.1, 2.4.3, 2.4.7): a writer signs in, starts a release, picks a contact,
meets a validation message, fixes it and schedules the release with Tab, Shift+Tab, Enter, Space and typing only,
in headless Chromium. Every stop shows a visible focus indicator, and the stops come in the order of the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from test_desk import PASSWORD, Desk, browser  # noqa: F401 (browser is a fixture)

# What the focused element is, and whether a sighted keyboard user can see where the focus is.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const text = (el.labels && el.labels[0] ? el.labels[0].textContent : el.textContent || el.value || '').trim();
  return {
    key: el.id ? '#' + el.id : el.tagName.toLowerCase() + ':' + text.replace(/\\s+/g, ' ').slice(0, 40),
    focusVisible: el.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < innerWidth && box.top < innerHeight,
  };
}"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    running = Desk(tmp_path_factory.mktemp("desk-keyboard"))
    yield running
    running.stop()


def _focus(page: Page) -> str:
    """The focused element's key, after checking that its focus can be seen."""
    found = page.evaluate(FOCUSED)
    assert found is not None, "the focus left the page"
    assert found["focusVisible"] and found["outline"], f"{found['key']} has no visible focus indicator"
    assert found["onScreen"], f"{found['key']} has the focus but is not on the screen"
    return found["key"]


def _press(page: Page, key: str) -> str:
    page.keyboard.press(key)
    return _focus(page)


def _tab_to(page: Page, target: str, key: str = "Tab", limit: int = 80) -> list[str]:
    """Press Tab (or Shift+Tab) until `target` has the focus; every stop on the way, each with visible focus."""
    stops = []
    for _ in range(limit):
        stops.append(_press(page, key))
        if stops[-1] == target:
            return stops
    raise AssertionError(f"{target} was not reached with {key}; the stops were {stops}")


def _in_order(stops: list[str], *expected: str) -> None:
    positions = [stops.index(key) for key in expected]
    assert positions == sorted(positions), f"out of order: {[stops[p] for p in sorted(positions)]}"


@pytest.mark.browser
def test_a_writer_signs_in_writes_fixes_and_schedules_with_the_keyboard_alone(desk, browser):  # noqa: F811
    context = browser.new_context(locale="fi-FI", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{desk.url}/login")

    # Sign in: the skip link comes first, then the page's own fields in reading order.
    stops = _tab_to(page, "#username")
    assert stops[0] == "a:Siirry sisältöön"
    page.keyboard.type("aino")
    assert _press(page, "Tab") == "#password"
    page.keyboard.type(PASSWORD)
    assert _press(page, "Tab") == "button:Kirjaudu sisään"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Tiedotteet", level=1)).to_be_visible()

    # The board: the navigation before the content, "New release" reached and followed with Enter.
    stops = _tab_to(page, "a:Uusi tiedote")
    _in_order(stops, "a:Siirry sisältöön", "a:Tiedotteet", "a:Uusi tiedote")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Uusi tiedote", level=1)).to_be_visible()
    _tab_to(page, "#type")
    assert _press(page, "Tab") == "#lang"
    assert _press(page, "Tab") == "#title"
    page.keyboard.type("Näppäimistöllä kirjoitettu tiedote")
    assert _press(page, "Tab") == "button:Aloita tiedote"
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", name="Näppäimistöllä kirjoitettu tiedote", level=1)).to_be_visible()
    page.wait_for_load_state("load")  # the live check (htmx, deferred) listens from then on (test_desk says more)

    # The editor: the skip link jumps over the header; a time the clocks skip is shown at its field while typing.
    assert _press(page, "Tab") == "a:Siirry sisältöön"
    page.keyboard.press("Enter")
    editor = _tab_to(page, "#f-date")
    page.keyboard.press("Control+A")
    page.keyboard.type("2026-03-29 03:30")
    expect(page.locator("#problem-date")).to_contain_text("ei ole olemassa", timeout=10_000)
    editor += _tab_to(page, "#c-ville-virtanen")
    page.keyboard.press("Space")
    expect(page.locator("#c-ville-virtanen")).to_be_checked()
    editor += _tab_to(page, "button:Ajasta julkaisuaikaan")
    _in_order(
        editor,
        "#f-title",
        "#f-type",
        "#f-date",
        "#f-lead",
        "#f-keywords",
        "#c-ville-virtanen",
        "#i-red-square",
        "#f-pinned",
        "#f-slug",
        "button:Väliotsikko",
        "#f-body",
        "button:Tallenna luonnoksena",
        "button:Ajasta julkaisuaikaan",
    )
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Ei ajastettu")
    expect(page.locator("#problem-date")).to_contain_text("kelloja siirretään sinä yönä eteenpäin")

    # Fixing it: the list of problems links to the field; Enter there puts the focus in it.
    _tab_to(page, "a:Julkaisuaika")
    assert _press(page, "Enter") == "#f-date"
    page.keyboard.press("Control+A")
    page.keyboard.type("2026-03-30 09:00")
    # Shift+Tab goes back the way Tab came.
    assert _press(page, "Shift+Tab") == "#f-type"
    assert _press(page, "Tab") == "#f-date"
    expect(page.locator("#problem-date")).to_be_empty(timeout=10_000)
    _tab_to(page, "button:Ajasta julkaisuaikaan")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Ajastettu")

    text = (desk.content / "releases" / "nappaimistolla-kirjoitettu-tiedote.fi.md").read_text()
    for line in ("Date: 2026-03-30 09:00", "Contacts: ville-virtanen", "Status: published"):
        assert line in text
    context.close()
