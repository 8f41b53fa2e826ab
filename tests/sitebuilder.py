"""Writes small newsroom content folders for tests and builds them with the real settings files."""

from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup
from PIL import Image, ImageDraw

from newsroom.build.run import BuildOptions, build, load_settings

ROOT = Path(__file__).resolve().parent.parent
# The clocks the shared sites are built at, so that no test depends on today's date. The small site's releases
# are all out by then; the sample's draft (10 December 2026) and embargoed release (5 January 2027) are not.
SMALL_NOW = "2026-11-01T12:00+02:00"
SAMPLE_NOW = "2026-12-01T12:00+02:00"

PUBLISHER = """\
name:
  fi: Testilan kaupunki
  sv: Testby stad
  en: City of Testila
address: |
  PL 7
  00990 TESTILA
phone: "+358 9 555 2000"
email: media@testila.example
website: https://www.testila.example
logo: logo.svg
brand_color: "#123456"
name_forms:
  fi:
    genitive: Testilan kaupungin
about:
  fi: Testila on kuvitteellinen kaupunki.
  sv: Testby är en påhittad stad.
  en: Testila is a made-up city.
media_use:
  fi: Aineisto on vapaasti median käytettävissä.
  sv: Materialet får användas fritt av medierna.
  en: The material may be used freely by the media.
"""

CONTACT = """\
name: Ville Virtanen
title:
  fi: tiedottaja
  sv: informatör
  en: Press officer
phone: "+358 40 555 0150"
email: ville.virtanen@testila.example
unit:
  fi: Viestintä
  sv: Kommunikation
  en: Communications
"""

IMAGE_CARD = """\
alt:
  fi: Punainen neliö
  sv: En röd kvadrat
  en: A red square
caption:
  fi: Neliö
  sv: Kvadrat
  en: Square
photographer: Kuvaaja Kuvitteellinen
licence: CC BY 4.0
"""


def release(
    title: str,
    date: str,
    lang: str = "fi",
    release_id: str = "r1",
    kind: str = "press-release",
    body: str = "Body text.",
    **fields: str,
) -> str:
    header = {
        "Title": title,
        "Date": date,
        "Type": kind,
        "Lang": lang,
        "Release": release_id,
        "Lead": f"Lead of {title}.",
        "Contacts": "ville-virtanen",
    }
    header.update({key.replace("_", "-"): value for key, value in fields.items()})
    return "\n".join(f"{k}: {v}" for k, v in header.items() if v is not None) + "\n\n" + textwrap.dedent(body) + "\n"


def write_content(root: Path, releases: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    """A content folder with a publisher, one contact, one image and the given release files."""
    (root / "releases").mkdir(parents=True)
    (root / "contacts").mkdir()
    (root / "images").mkdir()
    (root / "pages").mkdir()
    (root / "newsroom.yaml").write_text(PUBLISHER, encoding="utf-8")
    (root / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'
    )
    (root / "contacts" / "ville-virtanen.yaml").write_text(CONTACT, encoding="utf-8")
    square = Image.new("RGB", (64, 48), "white")
    ImageDraw.Draw(square).rectangle((8, 8, 56, 40), fill="red")
    square.save(root / "images" / "red-square.png")
    (root / "images" / "red-square.yaml").write_text(IMAGE_CARD, encoding="utf-8")
    for name, text in {**releases, **(extra or {})}.items():
        path = root / name if "/" in name else root / "releases" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass
class Site:
    """A built site: its output folder and a parser for its pages."""

    content: Path
    output: Path

    def html(self, url: str) -> BeautifulSoup:
        path = self.output / (url + "index.html" if url.endswith("/") or url == "" else url)
        return BeautifulSoup(path.read_text(encoding="utf-8"), "html5lib")

    def files(self) -> list[Path]:
        return sorted(p for p in self.output.rglob("*") if p.is_file())


def build_site(
    content: Path, output: Path, publish: bool = False, now: str | None = None, settings: dict | None = None
) -> Site:
    """Build as `newsroom build` does; `settings` overrides what the settings file says."""
    options = BuildOptions(ROOT / ("publishconf.py" if publish else "pelicanconf.py"), content, output, now)
    build({**load_settings(options), **(settings or {})})
    return Site(content, output)


def removals_done() -> None:
    """Wait for the folders a build or a deploy removes in threads of its own (a command waits for them at exit)."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
