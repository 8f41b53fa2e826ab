"""The Pelican generator for everything beyond single releases: per-language front, type, keyword, contacts,
about and 404 pages; it also copies the files public releases use and records what the build published."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pelican.generators import Generator

from newsroom.build import manifest
from newsroom.core import urls
from newsroom.core.embargo import public_contacts
from newsroom.core.model import TYPES
from newsroom.site.assets import copy_assets
from newsroom.site.context import RELEASES_KEY, prepare, write_page


class NewsroomGenerator(Generator):
    """Loads the catalog before any content is read, so every later step sees the resolved model."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalog, self.clock = prepare(self.context, self.settings)
        self.langs = tuple(self.settings["NEWSROOM_LANGUAGES"])

    def generate_context(self) -> None:
        releases = self.context.get(RELEASES_KEY, [])
        self.by_lang = {lang: [a for a in releases if a.lang == lang] for lang in self.langs}
        self.front = {lang: _pinned_first(items) for lang, items in self.by_lang.items()}
        self.by_type = {
            lang: {kind: [a for a in items if a.record.type == kind] for kind in types_in(items)}
            for lang, items in self.by_lang.items()
        }
        self.by_keyword = {lang: keyword_groups(items) for lang, items in self.by_lang.items()}
        shown = self.catalog.contacts.values() if self.clock.preview else public_contacts(self.catalog, self.clock.now)
        contacts = sorted(shown, key=lambda c: c.name.split()[-1:] + [c.name])
        self.context["all_contacts"] = contacts
        self.context["release_types"] = {lang: list(kinds) for lang, kinds in self.by_type.items()}
        # The keywords public releases use, per language, for the subscribe form to offer.
        self.context["keywords_in"] = {
            lang: sorted((word for word, _ in groups.values()), key=str.casefold)
            for lang, groups in self.by_keyword.items()
        }

    def generate_output(self, writer) -> None:
        for lang in self.langs:
            self._write_lang(writer, lang)
        self._write(writer, "404.html", "404", self.langs[0])
        self._write(writer, "index.html", "language_choice", self.langs[0], alternate_url=urls.front)
        copy_assets(
            Path(self.output_path), [a for items in self.by_lang.values() for a in items], self.catalog.publisher
        )
        manifest.record_build(
            Path(self.output_path),
            self.context.get(RELEASES_KEY, []),
            self.clock,
            self.settings,
            self.catalog.publisher,
        )

    def _write_lang(self, writer, lang: str) -> None:
        self._write(writer, urls.front(lang), "index", lang, alternate_url=urls.front, articles=self.front[lang])
        for kind, items in self.by_type[lang].items():
            self._write(
                writer,
                urls.release_type(lang, kind),
                "type",
                lang,
                articles=items,
                release_type=kind,
                alternate_url=lambda other, k=kind: urls.release_type(other, k) if k in self.by_type[other] else None,
            )
        for word, items in self.by_keyword[lang].values():
            self._write(writer, urls.keyword(lang, word), "keyword", lang, articles=items, keyword=word)
        self._write(writer, urls.contacts(lang), "contacts", lang, alternate_url=urls.contacts)
        self._write(writer, urls.about(lang), "about", lang, alternate_url=urls.about)
        self._write(writer, f"{lang}/404.html", "404", lang)

    def _write(self, writer, url: str, template: str, lang: str, alternate_url=None, **values) -> None:
        write_page(self, writer, url, template, lang, alternate_url, **values)


def _pinned_first(items: list) -> list:
    return [a for a in items if a.record.pinned] + [a for a in items if not a.record.pinned]


def types_in(items: list) -> list[str]:
    present = {a.record.type for a in items}
    return [kind for kind in TYPES if kind in present]


def keyword_groups(items: list) -> dict[str, tuple[str, list]]:
    """Releases per keyword slug, so 'Kirjastot' and 'kirjastot' share one page."""
    groups: dict[str, tuple[str, list]] = {}
    members: dict[str, list] = defaultdict(list)
    for article in items:
        for word in article.record.keywords:
            slug = urls.keyword_slug(word)
            groups.setdefault(slug, (word, members[slug]))
            members[slug].append(article)
    return groups
