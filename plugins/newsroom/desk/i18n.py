"""The desk's own interface in Finnish, Swedish and English, from its gettext catalogs (desk/translations)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from newsroom.core.i18n import MissingCatalog
from newsroom.core.i18n import translations as theme_translations

UI_LANGS = ("fi", "sv", "en")
FOLDER = Path(__file__).parent / "translations"
DOMAIN = "desk"


@cache
def _translations(lang: str, theme: Path) -> NullTranslations:
    """The desk's catalog, falling back to the theme's (release type names are translated once, there)."""
    if lang == "en":
        return NullTranslations()
    if not (FOLDER / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").exists():
        raise MissingCatalog(f"no compiled desk catalog for '{lang}' in {FOLDER}; run 'make install'")
    desk = Translations.load(str(FOLDER), [lang], domain=DOMAIN)
    desk.add_fallback(theme_translations(theme, lang))
    return desk


def translator(lang: str, theme: Path) -> Callable[[str], str]:
    return _translations(lang, theme).ugettext


def pick(cookie: str | None, accept_language: str) -> str:
    """The language the user chose, else the first of theirs the desk speaks, else Finnish."""
    if cookie in UI_LANGS:
        return cookie
    for part in accept_language.split(","):
        lang = part.split(";")[0].strip().lower()[:2]
        if lang in UI_LANGS:
            return lang
    return UI_LANGS[0]
