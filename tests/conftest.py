"""Session-scoped sites: each is built once and shared by every test that reads it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sitebuilder import ROOT, SAMPLE_NOW, SMALL_NOW, Site, build_site, release, write_content
from smtpsink import smtp_server  # noqa: F401  (the session's SMTP server for the email tests)

_SESSION_STARTED = time.time()


@pytest.fixture(scope="session", autouse=True)
def image_cache(tmp_path_factory) -> Path:
    """Image derivatives of this test session go to its own cache, never to the working copy's cache/."""
    cache = tmp_path_factory.mktemp("image-cache")
    os.environ["NEWSROOM_IMAGE_CACHE"] = str(cache)
    return cache


def _small_releases() -> dict[str, str]:
    files = {
        "tri.fi.md": release(
            "Kolmikielinen tiedote",
            "2026-01-10 12:00",
            release_id="tri",
            Images="red-square",
            Keywords="päätöksenteko, kirjastot",
            Attachments="plan.pdf",
            body="Ensimmäinen kappale.\n\n## Väliotsikko\n\n> ”Lainaus”, sanoo Ville Virtanen.",
        ),
        "tri.sv.md": release(
            "Trespråkigt meddelande",
            "2026-01-10 12:00",
            lang="sv",
            release_id="tri",
            Images="red-square",
            Keywords="beslutsfattande",
        ),
        "tri.en.md": release(
            "Trilingual release",
            "2026-01-10 12:00",
            lang="en",
            release_id="tri",
            Images="red-square",
            Keywords="decision-making",
        ),
        "escape.en.md": release("Fish & <chips>", "2026-01-11 10:00", lang="en", release_id="escape"),
        "pinned.fi.md": release("Nostettu uutinen", "2026-02-01 08:00", release_id="pinned", kind="news", Pinned="yes"),
        "before-spring.fi.md": release("Ennen kellojen siirtoa", "2026-03-29 02:30", release_id="before-spring"),
        "after-spring.fi.md": release(
            "Kellojen siirron jälkeen", "2026-03-29 05:00", release_id="after-spring", Keywords="kirjastot"
        ),
        "before-autumn.fi.md": release("Ennen syksyn siirtoa", "2026-10-25 02:00", release_id="before-autumn"),
        "after-autumn.fi.md": release("Syksyn siirron jälkeen", "2026-10-25 05:00", release_id="after-autumn"),
        "offset.fi.md": release(
            "Aikavyöhyke annettu", "2026-06-01T09:00:00+00:00", release_id="offset", Modified="2026-06-02 10:15"
        ),
        "invite.fi.md": release(
            "Kutsu avajaisiin",
            "2026-05-04 10:00",
            release_id="invite",
            kind="invitation",
            Event_Start="2026-05-12 10:00",
            Event_End="2026-05-12 12:00",
            Location="Kaupungintalo, Esplanadi 1",
        ),
    }
    for day in range(1, 8):
        files[f"filler-{day}.fi.md"] = release(
            f"Täyte {day}",
            f"2026-04-{day:02d} 09:00",
            release_id=f"filler-{day}",
            kind="blog" if day % 2 else "article",
        )
    return files


SMALL_EXTRA = {
    "attachments/plan.pdf": "%PDF-1.4 tiny test file\n",
    "attachments/plan.yaml": "title:\n  fi: Asemakaavan suunnitelma\n  sv: Detaljplaneförslag\n  en: Local plan proposal\n",
    "pages/accessibility.fi.md": "Title: Saavutettavuusseloste\nLang: fi\nSlug: accessibility\n\nSeloste.\n",
    "pages/accessibility.sv.md": "Title: Tillgänglighetsutlåtande\nLang: sv\nSlug: accessibility\n\nUtlåtande.\n",
}


@pytest.fixture(scope="session")
def small_site(tmp_path_factory) -> Site:
    root = tmp_path_factory.mktemp("small")
    content = write_content(root / "content", _small_releases(), SMALL_EXTRA)
    return build_site(content, root / "output", now=SMALL_NOW)


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory) -> Site:
    """The sample newsroom in content/, built as `make html` builds it, on 1 December 2026."""
    return build_site(ROOT / "content", tmp_path_factory.mktemp("sample") / "output", now=SAMPLE_NOW)


def pytest_terminal_summary(terminalreporter) -> None:
    """Name the folder where the browser tests (test_browser.py) left this run's screenshots."""
    folder = ROOT / "test-artifacts" / "screenshots"
    fresh = [p for p in folder.glob("*") if p.stat().st_mtime >= _SESSION_STARTED] if folder.is_dir() else []
    if fresh:
        terminalreporter.write_sep("-", f"{len(fresh)} screenshots of the sample site in {folder}")
