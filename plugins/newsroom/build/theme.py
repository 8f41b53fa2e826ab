"""Which theme folder a build uses: the one the settings file names, else the copy installed with the package."""

from __future__ import annotations

from pathlib import Path

from pelican.settings import get_settings_from_file

# A wheel carries the theme inside the package (setup.py); a checkout keeps it at the top, beside plugins/.
PACKAGE = Path(__file__).resolve().parent.parent
INSTALLED = PACKAGE / "theme"
CHECKOUT = PACKAGE.parent.parent / "theme"


def packaged_theme() -> Path:
    return INSTALLED if INSTALLED.is_dir() else CHECKOUT


def theme_override(settings_file: Path) -> dict[str, str]:
    """{"THEME": the packaged theme} when the settings file names a theme folder that is not there, else {}.

    A newsroom set up with `pip install newsroom` has its own settings file and content but no theme folder;
    Pelican's built-in theme names ('simple', 'notmyidea') are not newsroom themes, so they are not looked for.
    """
    theme = get_settings_from_file(str(settings_file)).get("THEME")
    if theme is None:
        return {"THEME": str(packaged_theme())}
    folder = Path(theme) if Path(theme).is_absolute() else settings_file.resolve().parent / theme
    return {} if folder.is_dir() else {"THEME": str(packaged_theme())}
