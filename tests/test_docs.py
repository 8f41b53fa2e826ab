"""The documentation: the settings reference is made from the code, and the README's links lead to pages."""

from __future__ import annotations

import ast
import importlib.util
import re

import yaml

from newsroom.core.settings import DEFAULTS, FROM_ENVIRONMENT
from sitebuilder import ROOT

_spec = importlib.util.spec_from_file_location("settings_reference", ROOT / "docs" / "hooks" / "settings_reference.py")
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


def test_the_settings_reference_has_every_default_its_value_and_its_comment():
    rows = reference.settings_reference()
    assert [name for name, *_ in rows] == list(DEFAULTS)
    for name, default, from_env, meaning in rows:
        assert ast.literal_eval(default) == DEFAULTS[name], name
        assert from_env is (name in FROM_ENVIRONMENT) and meaning, name
    table = reference.table()
    assert table.count("\n") == len(DEFAULTS) + 2 and "| `NEWSROOM_PROCESSES` | `0` |" in table


def test_the_settings_page_holds_the_marker_the_hook_replaces():
    assert reference.MARKER in (ROOT / "docs" / "operating" / "settings.md").read_text(encoding="utf-8")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "docs/hooks/settings_reference.py" in config


def test_every_page_the_readme_and_the_nav_name_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = [target.split("#")[0] for target in re.findall(r"\]\(((?!https?:)[^)]+)\)", readme)]
    assert linked and all((ROOT / target).is_file() for target in linked), linked
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]

    def pages(entries) -> list[str]:
        found = []
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            found += pages(value) if isinstance(value, list) else [value]
        return found

    assert all((ROOT / "docs" / page).is_file() for page in pages(nav))
