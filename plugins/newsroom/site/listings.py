"""The Pelican generator for everything beyond single releases: per-language front, type, keyword, contacts,
about and 404 pages, plus the attachments public releases use."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

from pelican.generators import Generator

from newsroom.build import manifest
from newsroom.content.catalog import ContentError, catalog_for
from newsroom.core import urls
from newsroom.core.clock import build_now
from newsroom.core.embargo import Clock
from newsroom.core.model import TYPES

CATALOG_KEY = "NEWSROOM_CATALOG"
CLOCK_KEY = "NEWSROOM_CLOCK"
RELEASES_KEY = "NEWSROOM_RELEASES"


class NewsroomGenerator(Generator):
    """Loads the catalog before any content is read, so every later step sees the resolved model."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        catalog = self.context.get(CATALOG_KEY) or catalog_for(self.settings)
        if catalog.problems:
            raise ContentError(catalog.problems)
        self.catalog = catalog
        self.context[CATALOG_KEY] = catalog
        self.clock = Clock(
            build_now(self.settings["NEWSROOM_NOW"], ZoneInfo(self.settings["TIMEZONE"])),
            preview=bool(self.settings["NEWSROOM_PREVIEW"]),
        )
        self.context[CLOCK_KEY] = self.clock
        self.context["publisher"] = catalog.publisher
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
        contacts = sorted(self.catalog.contacts.values(), key=lambda c: c.name.split()[-1:] + [c.name])
        self.context["all_contacts"] = contacts
        self.context["release_types"] = {lang: list(kinds) for lang, kinds in self.by_type.items()}

    def generate_output(self, writer) -> None:
        for lang in self.langs:
            self._write_lang(writer, lang)
        self._write(writer, "404.html", "404", self.langs[0])
        self._write(writer, "index.html", "language_choice", self.langs[0], alternate_url=urls.front)
        self._copy_assets()
        if not self.clock.preview:
            self._write_manifest()
        else:
            (Path(self.output_path) / manifest.PREVIEW_MARKER).write_text(
                f"Preview built at {self.clock.now.isoformat()}; shows drafts and embargoed releases. Never deploy it.\n"
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

    def _write_manifest(self) -> None:
        releases = self.context.get(RELEASES_KEY, [])
        fingerprint = manifest.fingerprint(self.settings, [a.record.source for a in releases])
        manifest.write(
            Path(self.output_path),
            releases,
            self.clock.now.isoformat(),
            self.settings["SITEURL"],
            fingerprint,
            self.catalog.publisher,
        )

    def _copy_assets(self) -> None:
        """Copy what public pages show: their releases' attachments and the logo (images: mediabank.py)."""
        out = Path(self.output_path)
        wanted: dict[Path, Path] = {}
        for items in self.by_lang.values():
            for article in items:
                for attachment in article.record.attachments:
                    wanted[out / urls.attachment(attachment.name)] = attachment.path
        logo = self.catalog.publisher.logo if self.catalog.publisher else None
        if logo:
            wanted[out / logo.name] = logo
        for target, source in wanted.items():
            _copy_if_changed(source, target)


def write_page(generator: Generator, writer, url: str, template: str, lang: str, alternate_url=None, **values) -> None:
    """Write one page; `alternate_url` gives the same page in another language (None where that language lacks it),
    else the switcher links front pages."""
    switch = []
    for other in generator.settings["NEWSROOM_LANGUAGES"]:
        if other != lang:
            version = alternate_url(other) if alternate_url else None
            switch.append({"lang": other, "url": version or urls.front(other), "alternate": version is not None})
    paginated = {"articles": values["articles"]} if "articles" in values else None
    writer.write_file(
        urls.save_as(url),
        generator.get_template(template),
        generator.context,
        paginated=paginated,
        template_name=template,
        url=url,
        page_lang=lang,
        page_url=url,
        language_links=switch,
        **values,
    )


def _copy_if_changed(source: Path, target: Path) -> None:
    stat = source.stat()
    if target.exists():
        existing = target.stat()
        if existing.st_size == stat.st_size and existing.st_mtime_ns == stat.st_mtime_ns:
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


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
