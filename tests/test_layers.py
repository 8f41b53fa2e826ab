"""The import rules between the layers (pyproject.toml [tool.importlinter], run by `make test` as lint-imports)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sitebuilder import ROOT

PACKAGE = ROOT / "plugins" / "newsroom"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Layers the core and content may use; every other layer must be forbidden to them by name.
BELOW_OR_BESIDE = {"core", "content", "media", "theming"}


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {contract["name"]: contract for contract in config["contracts"]}


def _layers() -> set[str]:
    return {path.parent.name for path in PACKAGE.glob("*/__init__.py")}


def test_every_layer_above_core_and_content_is_forbidden_to_them():
    forbidden = {
        module.removeprefix("newsroom.")
        for contract in _contracts().values()
        if set(contract["source_modules"]) == {"newsroom.core", "newsroom.content"}
        for module in contract["forbidden_modules"]
    }
    missing = _layers() - BELOW_OR_BESIDE - forbidden
    assert not missing, (
        f"new layer(s) {sorted(missing)}: add 'newsroom.<layer>' to the forbidden_modules of the first "
        "import-linter contract in pyproject.toml (or to BELOW_OR_BESIDE here if core and content may import it)"
    )


def _lint(tmp_path: Path, plant: dict[str, str]) -> subprocess.CompletedProcess:
    """lint-imports with the project's contracts on a copy of the package with `plant` appended to modules."""
    shutil.copytree(PACKAGE, tmp_path / "newsroom", ignore=shutil.ignore_patterns("__pycache__"))
    for module, line in plant.items():
        path = tmp_path / "newsroom" / module
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env=env)


@pytest.mark.parametrize(
    ("module", "line", "imported"),
    [
        ("core/clock.py", "import newsroom.build.run", "newsroom.build.run"),
        ("content/header.py", "from newsroom.mail import outbox", "newsroom.mail.outbox"),
        ("core/model.py", "import jinja2", "jinja2"),
        ("content/header.py", "import sqlite3", "sqlite3"),
        ("mail/outbox.py", "from newsroom.site import feeds", "newsroom.site.feeds"),
        ("site/feeds.py", "from newsroom.cli import main", "newsroom.cli.main"),
    ],
)
def test_a_forbidden_import_breaks_a_contract_naming_the_import(tmp_path, module, line, imported):
    importer = "newsroom." + module.removesuffix(".py").replace("/", ".")
    result = _lint(tmp_path, {module: line})
    assert result.returncode == 1, result.stdout
    assert f"{importer} -> {imported} (l." in result.stdout
