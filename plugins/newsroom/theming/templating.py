"""What the theme's templates can call: gettext in the page's language, timestamps, type names and addresses."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from newsroom.core import clock, i18n, urls
from newsroom.core.settings import Settings

# Where a release page's "more from the publisher" begins and ends.
MORE_SECTION = ("<!-- newsroom:more -->", "<!-- /newsroom:more -->")


class Cards:
    """Release cards as rendered, for this build and, while what every page shares (the page cache's key: code,
    theme, settings) is the same, the next build in this process: the resident publisher renders the cards of what
    changed, not of every release again. A card is known by what it shows of its release (address, title, record)."""

    def __init__(self) -> None:
        self.shared = ""
        self.now: dict[tuple, Markup] = {}
        self.last: dict[tuple, Markup] = {}
        self.identities: dict[int, tuple[object, str]] = {}

    def start(self, shared: str) -> None:
        """A new build; `shared` "" (a preview's, whose cards follow the clock) keeps nothing of the last."""
        self.last = self.now if shared and shared == self.shared else {}
        self.now, self.identities, self.shared = {}, {}, shared

    def identity(self, item) -> str:
        """What a card shows of `item`, worked out once for each item (kept with it: an id alone may be reused)."""
        known = self.identities.get(id(item))
        if known is None or known[0] is not item:
            known = self.identities[id(item)] = (
                item,
                repr((item.source_path, item.url, item.title, item.record.as_text)),
            )
        return known[1]

    def get(self, key: tuple) -> Markup | None:
        card = self.now.get(key)
        if card is None and key in self.last:
            card = self.now[key] = self.last[key]
        return card

    def put(self, key: tuple, card: Markup) -> Markup:
        self.now[key] = card
        return card


CARDS = Cards()


def page_lang(context: Context) -> str:
    """The language a page is written in: set by our listings, else that of the release or page shown."""
    if context.get("page_lang"):
        return context["page_lang"]
    for key in ("article", "page"):
        item = context.get(key)
        if item is not None and getattr(item, "lang", None):
            return item.lang
    return context["DEFAULT_LANG"]


def breakable(address: str) -> Markup:
    """An e-mail address that a narrow column breaks only after its @ and dots (<wbr>), never mid-word."""
    return Markup(str(Markup.escape(address)).replace("@", "@<wbr>").replace(".", ".<wbr>"))


def install(env: Environment, settings: dict) -> None:
    tz = Settings.of(settings).tz
    catalogs = i18n.catalog_dir(settings)

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

    @pass_context
    def release_card(context: Context, item, heading_level: int, pinned_badge: bool = False) -> Markup:
        """A release's card in a listing, rendered once (CARDS): a release is listed on its front, type and keyword
        pages and in "more from the publisher" on every release page, so most cards are shown thousands of times."""
        key = (
            CARDS.identity(item),
            page_lang(context),
            heading_level,
            pinned_badge,
            getattr(item, "embargo_state", None),
        )
        card = CARDS.get(key)
        if card is None:
            template = context.environment.get_template("partials/_release_card.html")
            values = {"item": item, "heading_level": heading_level, "pinned_badge": pinned_badge}
            card = CARDS.put(key, Markup(template.render(context.get_all(), **values)))
        return card

    sections: dict[tuple, Markup] = {}

    @pass_context
    def more_section(context: Context, article) -> Markup:
        """A release page's "more from the publisher", rendered once for each list: most pages of a language show the
        same newest releases. Marked (MORE_SECTION), so a rebuild can put a new list into a page it keeps."""
        key = (page_lang(context), tuple(item.source_path for item in article.more))
        if key not in sections:
            template = context.environment.get_template("release/_more.html")
            sections[key] = Markup(MORE_SECTION[0] + template.render(context.get_all()) + MORE_SECTION[1])
        return sections[key]

    # Each release's date is shown on many pages; format it once.
    timestamp = lru_cache(maxsize=None)(lambda moment, seconds=True: clock.timestamp(moment, tz, seconds))
    isodate = lru_cache(maxsize=None)(lambda moment: i18n.iso_date(moment, tz))

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)
    env.filters.update(
        timestamp=timestamp,
        isodate=isodate,
        type_name=type_name,
        event_time=event_time,
        language_name=i18n.language_name,
        keyword_slug=urls.keyword_slug,
        breakable=breakable,
        filesize=pass_context(lambda context, size: i18n.file_size(size, page_lang(context))),
    )

    @pass_context
    def publisher_words(context: Context) -> dict[str, str]:
        """For messages naming the publisher: `_("More from %(publisher)s", **publisher_words())`."""
        publisher = context.get("publisher")
        if isinstance(publisher, dict):  # an email's: from the build's manifest
            names, forms = publisher.get("name") or {}, publisher.get("name_forms") or {}
        else:
            names, forms = publisher.name, publisher.name_forms
        return i18n.publisher_words(names, forms, page_lang(context))

    env.globals.update(
        current_lang=pass_context(page_lang),
        publisher_words=publisher_words,
        urls=urls,
        NEWSROOM_LANGS=tuple(settings["NEWSROOM_LANGUAGES"]),
        type_name=type_name,
        release_card=release_card,
        more_section=more_section,
    )
