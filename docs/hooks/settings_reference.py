"""MkDocs hook: the settings reference page is made from core/settings.py, the DEFAULTS and the comment above each.

A page holding the marker below gets the table in its place, so the reference cannot drift from the code. Read with
ast, not imported: the documentation environment does not install the newsroom.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "plugins" / "newsroom" / "core" / "settings.py"
MARKER = "<!-- settings-reference -->"


def _constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level names bound to a value (DEFAULTS, FROM_ENVIRONMENT, the names DEFAULTS refers to)."""
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = node.value
    return found


def settings_reference(source: Path = SOURCE) -> list[tuple[str, str, bool, str]]:
    """(name, default as written in Python, read from the environment first, what the comment says) per setting."""
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines()
    constants = _constants(ast.parse(text))
    defaults = constants.get("DEFAULTS")
    if not isinstance(defaults, ast.Dict):
        raise ValueError(f"{source}: DEFAULTS is not a dict literal; the settings reference (docs) cannot be made")
    environment = constants.get("FROM_ENVIRONMENT")
    from_env = set(ast.literal_eval(environment)) if environment is not None else set()
    rows = []
    for key, value in zip(defaults.keys, defaults.values, strict=True):
        if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
            raise ValueError(f"{source}:{value.lineno}: a DEFAULTS key that is not a plain string")
        comment: list[str] = []
        number = key.lineno - 2
        while number >= 0 and lines[number].strip().startswith("#"):
            comment.insert(0, lines[number].strip().lstrip("#").strip())
            number -= 1
        if not comment:
            raise ValueError(f"{source}:{key.lineno}: {key.value} has no comment saying what it is for")
        shown = constants.get(value.id, value) if isinstance(value, ast.Name) else value
        rows.append((key.value, ast.unparse(shown), key.value in from_env, " ".join(comment)))
    return rows


def table(source: Path = SOURCE) -> str:
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731
    head = "| setting | default | from the environment first | what it does |\n|---|---|---|---|\n"
    return head + "".join(
        f"| `{name}` | `{cell(default)}` | {'yes' if env else ''} | {cell(meaning)} |\n"
        for name, default, env, meaning in settings_reference(source)
    )


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs passes them by name)
    return markdown.replace(MARKER, table()) if MARKER in markdown else markdown
