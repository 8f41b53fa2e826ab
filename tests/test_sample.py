"""The sample newsroom in content/: complete enough to show every feature, and built clean."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from newsroom.content.catalog import load_catalog
from newsroom.core.embargo import is_public
from newsroom.core.model import TYPES
from sitebuilder import ROOT, SAMPLE_NOW, build_site

HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT / "content", HELSINKI)


def test_sample_covers_every_feature(catalog):
    assert catalog.problems == ()
    releases = {r.release_id for r in catalog.releases}
    assert len(releases) >= 12
    assert {r.type for r in catalog.releases} == set(TYPES)
    languages = Counter(r.release_id for r in catalog.releases)
    assert sum(1 for count in languages.values() if count == 3) >= 3
    assert any(count == 1 for count in languages.values())
    assert any(r.pinned for r in catalog.releases)
    assert any(r.attachments for r in catalog.releases)
    assert any(r.event for r in catalog.releases)
    assert len(catalog.contacts) >= 4 and len(catalog.images) >= 6
    assert all(image.photographer and image.licence for image in catalog.images.values())
    assert any(r.status == "draft" for r in catalog.releases)
    assert any(r.status == "published" and r.date > datetime(2026, 12, 1, tzinfo=HELSINKI) for r in catalog.releases)


def test_sample_builds_with_every_public_release_page(sample_site, catalog):
    now = datetime.fromisoformat(SAMPLE_NOW)
    for release in catalog.releases:
        path = sample_site.output / release.lang / "releases" / release.slug / "index.html"
        assert path.exists() is is_public(release, now), release.source
        if not path.exists():
            continue
        page = sample_site.html(f"{release.lang}/releases/{release.slug}/")
        assert page.h1.get_text() == release.title
        assert page.select_one(".release__lead").get_text() == release.lead
    front = sample_site.html("fi/")
    pinned = [r for r in catalog.releases if r.pinned and r.lang == "fi"]
    assert front.select_one(".release-card__title a").get_text() == pinned[0].title


def test_sample_embargo_and_draft_stay_out_of_a_public_build(catalog, tmp_path):
    now = datetime.fromisoformat(SAMPLE_NOW)
    site = build_site(ROOT / "content", tmp_path / "public", publish=True, now=SAMPLE_NOW)
    hidden = [r for r in catalog.releases if not is_public(r, now)]
    assert {r.release_id for r in hidden} == {"ice-rink-season-2027", "city-strategy-survey"}
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in site.output.rglob("*") if p.suffix in (".html", ".xml", ".json")
    )
    for release in hidden:
        assert release.title not in text and f"/releases/{release.slug}/" not in text
