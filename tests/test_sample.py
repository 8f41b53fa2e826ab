"""The sample newsroom in content/: complete enough to show every feature, and built clean."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from newsroom.catalog import load_catalog
from newsroom.model import TYPES
from sitebuilder import ROOT


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT / "content", ZoneInfo("Europe/Helsinki"))


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


def test_sample_builds_with_every_release_page(sample_site, catalog):
    for release in catalog.releases:
        page = sample_site.html(f"{release.lang}/releases/{release.slug}/")
        assert page.h1.get_text() == release.title
        assert page.select_one(".release__lead").get_text() == release.lead
    front = sample_site.html("fi/")
    pinned = [r for r in catalog.releases if r.pinned and r.lang == "fi"]
    assert front.select_one(".release-card__title a").get_text() == pinned[0].title
