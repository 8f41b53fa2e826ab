"""UI strings and dates in the reader's language, from the theme's gettext catalogs (compiled with Babel)."""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.support import NullTranslations, Translations
from babel.units import format_unit


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> str:
    """Marks a string with a context for extraction."""
    return message


TYPE_NAMES = {
    "press-release": N_("Press release"),
    "news": N_("News"),
    "invitation": N_("Invitation"),
    "blog": N_("Blog post"),
    "article": N_("Article"),
}
# Listing headings; "News" needs a context because Finnish and Swedish say it differently there.
LISTING = "listing"
TYPE_PLURALS = {
    "press-release": NP_("listing", "Press releases"),
    "news": NP_("listing", "News"),
    "invitation": NP_("listing", "Invitations"),
    "blog": NP_("listing", "Blog posts"),
    "article": NP_("listing", "Articles"),
}


class MissingCatalog(RuntimeError):
    """The theme's compiled catalogs are not there: `make install` compiles them."""


def catalog_dir(settings: dict) -> Path:
    """Where the theme keeps its gettext catalogs."""
    return Path(settings["THEME"]) / "translations"


@cache
def translations(folder: Path, lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    if not (folder / lang / "LC_MESSAGES" / "messages.mo").exists():
        raise MissingCatalog(
            f"no compiled catalog for '{lang}' in {folder}; run 'make install' (it compiles the .po files)"
        )
    return Translations.load(str(folder), [lang])


def gettext(folder: Path, lang: str, message: str) -> str:
    return translations(folder, lang).ugettext(message)


def language_name(lang: str) -> str:
    """A language's name in itself ("suomi", "svenska", "English"), as a language switcher shows it."""
    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


def event_time(start: datetime, end: datetime | None, tz: ZoneInfo, lang: str) -> str:
    """'torstai 5. maaliskuuta 2026 10.00–12.00', written the way the language writes it."""
    start = start.astimezone(tz)
    text = f"{format_date(start, 'full', locale=lang)} {format_time(start, 'short', locale=lang)}"
    if end is None:
        return text
    end = end.astimezone(tz)
    if end.date() == start.date():
        return f"{text}–{format_time(end, 'short', locale=lang)}"
    return f"{text} – {format_date(end, 'full', locale=lang)} {format_time(end, 'short', locale=lang)}"


@lru_cache(maxsize=4096)
def file_size(size: int, lang: str) -> str:
    """'1,2 Mt' / '1.2 MB': megabytes with one decimal, smaller files in whole kilobytes."""
    if size >= 1_000_000:
        return format_unit(round(size / 1_000_000, 1), "digital-megabyte", length="short", locale=lang)
    return format_unit(max(1, round(size / 1000)), "digital-kilobyte", length="short", locale=lang)


def iso_date(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


def publisher_words(names: dict[str, str], forms: dict[str, dict[str, str]], lang: str) -> dict[str, str]:
    """The publisher's name as a sentence in `lang` needs it, for the placeholders of translated messages:
    `publisher` in running text ("the City of Kaislaranta"), `publisher_start` at the start of a sentence and
    `publisher_of` where the sentence says whose ("releases of the City of Kaislaranta"; Finnish takes the
    genitive there: "Kaislarannan kaupungin tiedotteet"). A form the settings do not give is the name as written."""
    written = names.get(lang) or next(iter(names.values()), "Newsroom")
    own = forms.get(lang, {})
    text = own.get("text") or written
    return {
        "publisher": text,
        "publisher_start": text[:1].upper() + text[1:],
        "publisher_of": own.get("genitive") or text,
    }
