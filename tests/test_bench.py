"""The build benchmark's synthetic newsroom is valid content, and its table relates every figure to bare Pelican."""

from __future__ import annotations

import sys
from collections import Counter
from zoneinfo import ZoneInfo

from newsroom.content.catalog import load_catalog
from newsroom.core.embargo import unpublished
from newsroom.core.model import TYPES
from sitebuilder import ROOT

sys.path.insert(0, str(ROOT / "tests" / "bench"))

from bench_build import Variant, table  # noqa: E402
from synthetic import EMBARGOED, NOW, write_corpus  # noqa: E402


def test_synthetic_newsroom_passes_the_newsroom_checks(tmp_path):
    content = write_corpus(tmp_path / "content", 60, ("fi", "sv", "en"))
    catalog = load_catalog(content, ZoneInfo("Europe/Helsinki"))
    assert catalog.problems == ()
    assert len(catalog.releases) == (60 + EMBARGOED) * 3
    assert len(unpublished(catalog, NOW)) == EMBARGOED * 3
    assert set(Counter(r.type for r in catalog.releases)) == set(TYPES)
    assert all(r.contacts and r.keywords for r in catalog.releases)
    assert sum(1 for r in catalog.releases if r.images) > len(catalog.releases) / 2
    assert len({r.title for r in catalog.releases}) == len(catalog.releases)


def steps(cold: float, warm: float, add: float, peak_mb: float) -> dict:
    return {
        "cold": {"seconds": cold, "peak_mb": peak_mb},
        "warm": {"seconds": warm, "peak_mb": peak_mb},
        "add one": {"seconds": add, "peak_mb": peak_mb},
    }


def test_table_gives_each_step_as_seconds_and_as_a_ratio_to_bare_pelicans_cold_build():
    results = {
        Variant("bare", ("fi",)): steps(10.0, 9.0, 9.5, 80),
        Variant("newsroom", ("fi",)): steps(8.0, 4.0, 3.0, 200),
    }
    rows = [line for line in table(results, 2000).splitlines() if line.startswith("| newsroom")]
    assert rows == ["| newsroom, 1 language | 2000 | 8.00 | 0.80x | 4.00 | 0.40x | 3.00 | 0.30x | 200 |"]
