"""What the theme's templates can call: gettext in the page's language, timestamps, type names and addresses."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from . import clock, i18n, urls


def page_lang(context: Context) -> str:
    """The language a page is written in: set by our listings, else that of the release or page shown."""
    if context.get("page_lang"):
        return context["page_lang"]
    for key in ("article", "page"):
        item = context.get(key)
        if item is not None and getattr(item, "lang", None):
            return item.lang
    return context["DEFAULT_LANG"]


def install(env: Environment, settings: dict) -> None:
    tz = ZoneInfo(settings["TIMEZONE"])
    catalogs = Path(settings["THEME"]) / "translations"

    @pass_context
    def gettext(context: Context, message: str) -> str:
        return i18n.translations(catalogs, page_lang(context)).ugettext(message)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int) -> str:
        return i18n.translations(catalogs, page_lang(context)).ungettext(singular, plural, count)

    @pass_context
    def pgettext(context: Context, message_context: str, message: str) -> str:
        return i18n.translations(catalogs, page_lang(context)).upgettext(message_context, message)

    @pass_context
    def npgettext(context: Context, message_context: str, singular: str, plural: str, count: int) -> str:
        return i18n.translations(catalogs, page_lang(context)).unpgettext(message_context, singular, plural, count)

    @pass_context
    def type_name(context: Context, kind: str, plural: bool = False) -> str:
        if plural:
            return pgettext(context, i18n.LISTING, i18n.TYPE_PLURALS[kind])
        return gettext(context, i18n.TYPE_NAMES[kind])

    @pass_context
    def event_time(context: Context, event) -> str:
        return i18n.event_time(event.start, event.end, tz, page_lang(context))

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)
    env.filters.update(
        timestamp=lambda moment, seconds=True: clock.timestamp(moment, tz, seconds),
        isodate=lambda moment: i18n.iso_date(moment, tz),
        type_name=type_name,
        event_time=event_time,
        language_name=i18n.language_name,
        filesize=pass_context(lambda context, size: i18n.file_size(size, page_lang(context))),
    )
    env.globals.update(current_lang=pass_context(page_lang), urls=urls, NEWSROOM_LANGS=tuple(settings["NEWSROOM_LANGUAGES"]), type_name=type_name)
