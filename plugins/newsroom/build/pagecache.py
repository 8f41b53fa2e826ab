"""Keeps the release and listing pages of the last build into the same folder whose inputs have not changed, so a
rebuild after one new release renders that release and the listings it joins, and only puts the new "more from the
publisher" into the other release pages.

A page's key is a digest of what it is made from: what every page shares (code, theme, settings, the content beside
the releases, the release types and consent texts in use) and its own data (a release's record, body and language
versions; a listing's releases). A page is kept when its key, and its file in the output, are as the last build
left them (size and modification time). A preview, whose banners follow the clock, keeps nothing.

A new release changes "more from the publisher" on every release page of its language. A build with DEFER_MORE set
(the resident publisher's, after a content change) keeps such a page as it is when every release its list shows is
still public in this build: the new release is live after a build that rewrites only the pages it is on, and the
publisher brings the lists up to date in a build that follows (`deferred`). A list that shows a release no longer
public is always rewritten, so a deferred list never links to what the build hides. The listings are deferred by the
same rule: a new release moves every release of a listing one place on, so every page of it changes; such a build
renders a listing's first page and its last ones, and keeps each page between them whose releases are all still public
(`deferred_pages`). So is the media bank, a page without a key (rendered every time otherwise): while every release
it names is public and every picture it shows is shown with the same files (`keep_outdated`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, NamedTuple

from pelican.paginator import Paginator

from newsroom.build import manifest, staging
from newsroom.core import records
from newsroom.theming import templating
from newsroom.theming.templating import MORE_SECTION

INDEX = "newsroom-pages.json"  # in Pelican's CACHE_PATH
LISTINGS = ("index", "type", "keyword")
_SHARED_CONTEXT = ("release_types", "consent_versions")  # what pages read from the context beyond settings
DEFER_MORE = "NEWSROOM_DEFER_MORE"  # a build setting (not in pelicanconf.py): keep outdated "more from" lists
_NOT_SHOWN = {"NEWSROOM_PROCESSES", DEFER_MORE}  # settings no page shows anything of
OUTDATABLE = ("media",)  # pages without a key that a DEFER_MORE build may keep as they are (keep_outdated)


class Page(NamedTuple):
    """A page (or a paginated listing) as Pelican's writer is asked to write it."""

    name: str
    template: Any
    context: dict
    relative_urls: bool
    paginated: dict | None
    template_name: str | None
    override_output: bool
    url: str | None
    kwargs: dict


def _plain(value) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


def shared_key(settings: dict, context: dict) -> str:
    """What every page shares. Files are taken by name, size and modification time, like Pelican's reader cache:
    reading every picture of the content folder on every build would cost more than it saves."""
    digest = hashlib.sha256()
    for path in sorted(manifest.shared_inputs(settings)):
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    plain = {key: value for key, value in settings.items() if _plain(value) and key not in _NOT_SHOWN}
    digest.update(json.dumps(plain, sort_keys=True).encode())
    for name in _SHARED_CONTEXT:
        digest.update(f"\n{name}={context.get(name)!r}".encode())
    return digest.hexdigest()


def _release(article) -> str:
    """What a release page shows of its own ("more from the publisher" aside)."""
    versions = [(t.lang, t.url, t.title) for t in article.translations]
    zip_file = getattr(article, "images_zip", None)
    return repr(
        (
            article.record.as_text,
            body_digest(article).hex(),
            sorted(article.metadata.items()),
            versions,
            article.language_links,
            zip_file and (zip_file.url, zip_file.size),
        )
    )


def body_digest(article) -> bytes:
    """The digest of a release's body as its page shows it, made once a build: Pelican's `content` rewrites the
    body's links at every read."""
    known = article.__dict__.get("newsroom_body_digest")
    if known is None:
        known = article.newsroom_body_digest = hashlib.sha256(article.content.encode()).digest()
    return known


def more_key(page: Page) -> str:
    """What a release page's "more from the publisher" is made from: its language and what it shows of the releases
    it lists (as a listing does); the theme and settings are in the page's key already."""
    article = page.kwargs["article"]
    digest = hashlib.sha256(article.lang.encode())
    for item in article.more:
        digest.update(templating.CARDS.identity(item).encode())
    return digest.hexdigest()


def media_shown(context: dict) -> list[str]:
    """What the media bank shows, one item a picture, a video or a release it names: the asset, its files and the
    contact cards it is the photo of; a release's address, title, keywords, language and id."""
    items = (*context.get("media_bank", []), *context.get("media_videos", []))
    shown = {
        repr((entry.image, sorted((name, f.url, f.size) for name, f in entry.files.files.items()), entry.contacts))
        for entry in context.get("media_bank", [])
    }
    shown |= {repr((item.video, [(f.url, f.size) for f in item.all()])) for item in context.get("media_videos", [])}
    shown |= {
        repr((a.url, a.title, a.record.keywords, a.lang, a.record.release_id)) for item in items for a in item.releases
    }
    return sorted(hashlib.sha256(text.encode()).hexdigest()[:32] for text in shown)


def is_release(page: Page) -> bool:
    return "article" in page.kwargs and not page.paginated


def page_key(shared: str, page: Page) -> str | None:
    """The key of a release page or a listing; None for any other page (rendered every time, they are few) and for
    one whose data cannot be told apart from another build's (an object without a readable repr)."""
    if is_release(page):
        parts = [_release(page.kwargs["article"]), repr(page.kwargs.get("category"))]
    elif page.paginated and page.template_name in LISTINGS:
        parts = [repr(sorted((k, v) for k, v in page.kwargs.items() if k != "articles"))]
        parts += [templating.CARDS.identity(article) for article in page.kwargs["articles"]]
    else:
        return None
    if any(" at 0x" in part for part in parts):
        return None
    digest = hashlib.sha256(f"{shared}\n{page.template.name}\n{page.name}\n{page.url}\n{page.relative_urls}\n".encode())
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()


class PageCache:
    """What the last build into this folder left, and what this one keeps or writes."""

    def __init__(self, settings: dict, context: dict):
        self.settings = settings
        self.output = Path(settings["OUTPUT_PATH"])
        self.index = Path(settings["CACHE_PATH"]) / INDEX
        self.enabled = not settings["NEWSROOM_PREVIEW"]
        self.shared = shared_key(settings, context) if self.enabled else ""
        templating.CARDS.start(self.shared)
        stored = records.read(self.index)
        keeps = stored.get("shared") == self.shared and staging.keeps(self.output)
        self.last = stored.get("pages", {}) if keeps else {}
        self.now: dict[str, dict] = {}
        self.sections: dict[str, str] = {}  # "more from the publisher" by more_key
        self.defer = bool(settings.get(DEFER_MORE))
        self.public: set[str] = set()  # the addresses of the release pages this build makes
        self.deferred = 0  # kept pages (and listings) whose "more from the publisher" (or order) is out of date

    def key(self, page: Page) -> str | None:
        return page_key(self.shared, page) if self.enabled else None

    def keep(self, page: Page, key: str, more_section) -> bool:
        """Whether the page (or listing) is in the last output as the last build left it; if so its files are linked
        into this build's folder, and a kept release page gets the current "more from the publisher", made by
        `more_section(page)` only when the releases it lists changed (`more_key`)."""
        entry = self.last.get(page.name)
        if entry is None or entry["key"] != key:
            return False
        last = staging.last_output(self.output)
        if any(records.stamp(last / name) != stat for name, stat in entry["files"].items()):
            return False
        more = more_key(page) if is_release(page) else None
        if more is not None and entry.get("more") != more:
            if self._may_defer(entry):
                if not staging.keep(self.output, page.name):
                    return False
                self.deferred += 1
                self.now[page.name] = entry  # its old "more" key: the next build without DEFER_MORE updates it
                return True
            text = (last / page.name).read_text(encoding="utf-8")
            start, end = text.find(MORE_SECTION[0]), text.find(MORE_SECTION[1])
            if start < 0 or end < start:
                return False
            if more not in self.sections:  # most pages of a language list the same releases
                self.sections[more] = str(more_section(page))  # a Markup would escape the text it is added to
            section = self.sections[more]
            text = text[:start] + section + text[end + len(MORE_SECTION[1]) :]
            path = self.output / page.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")  # a new file: the last output's stays as it was
            entry = {"key": key, "files": {page.name: records.stamp(path)}}
        elif not all(staging.keep(self.output, name) for name in entry["files"]):
            return False
        self.now[page.name] = self._with_more(entry, page, more)
        return True

    def deferred_pages(self, page: Page) -> set[str]:
        """The pages of a listing whose key changed that a DEFER_MORE build keeps from the last output as they are:
        every page but the first and the last one, when each release it shows is still public. None of them when the
        listing has fewer pages than it had (its last pages would be left over)."""
        entry = self.last.get(page.name)
        if not (self.defer and page.paginated and entry and "listed" in entry):
            return set()
        names = list(self._listed(page))
        if len(names) < len(entry["files"]):
            return set()
        last = staging.last_output(self.output)
        return {
            name
            for name in names[1 : len(entry["files"]) - 1]
            if self.public.issuperset(entry["listed"].get(name, [None]))
            and records.stamp(last / name) == entry["files"].get(name)
        }

    def keep_outdated(self, page: Page) -> bool:
        """Whether a DEFER_MORE build keeps a page of OUTDATABLE as the last build left it: everything it shows (each
        release it names among them) is shown as it was; what is new joins it in the next build."""
        entry = self.last.get(page.name)
        if not (self.defer and page.template_name in OUTDATABLE and entry):
            return False
        shown = media_shown(page.context)
        if not set(shown).issuperset(entry["shown"]):
            return False
        last = staging.last_output(self.output)
        if records.stamp(last / page.name) != entry["files"][page.name] or not staging.keep(self.output, page.name):
            return False
        self.deferred += shown != entry["shown"]  # the same items: the page is as a render would make it
        self.now[page.name] = entry
        return True

    def written(self, page: Page, key: str | None, kept: set[str] = frozenset()) -> None:
        """Note the files the page (or listing) now has; `kept`: pages of a listing left outdated (deferred_pages),
        whose entry can then match no key, so the next build without DEFER_MORE renders them."""
        entry = {"key": key, "files": {f: records.stamp(self.output / f) for f in self._files(page)}}
        if page.paginated and page.template_name in LISTINGS:
            listed = self._listed(page)
            if kept:
                self.deferred += 1
                listed.update((name, self.last[page.name]["listed"][name]) for name in kept)
                entry["key"] = "deferred"
            entry["listed"] = listed
        elif page.template_name in OUTDATABLE:
            entry["shown"] = media_shown(page.context)
        self.now[page.name] = self._with_more(entry, page, more_key(page) if is_release(page) else None)

    def _may_defer(self, entry: dict) -> bool:
        return self.defer and "listed" in entry and self.public.issuperset(entry["listed"])

    @staticmethod
    def _with_more(entry: dict, page: Page, more: str | None) -> dict:
        """A release page's entry also holds what its "more from the publisher" lists (its key, and the addresses a
        deferring build checks)."""
        if more is None:
            return entry
        return {**entry, "more": more, "listed": [item.url for item in page.kwargs["article"].more]}

    def _files(self, page: Page) -> list[str]:
        return list(self._listed(page)) if page.paginated else [page.name]

    def _listed(self, page: Page) -> dict[str, list[str]]:
        """A listing's files, in page order, with the addresses of the releases each one shows."""
        per_page = self.settings["PAGINATED_TEMPLATES"][page.template_name] or self.settings["DEFAULT_PAGINATION"]
        paginator = Paginator(page.name, page.url, next(iter(page.paginated.values())), self.settings, per_page)
        pages = (paginator.page(number) for number in range(1, paginator.num_pages + 1))
        return {part.save_as: [article.url for article in part.object_list] for part in pages}

    def save(self) -> None:
        if not self.enabled:
            return
        records.write(self.index, {"shared": self.shared, "pages": self.now, "deferred": self.deferred})


def deferred(settings: dict) -> int:
    """How many pages and listings the last build into this folder left outdated (DEFER_MORE)."""
    return records.read(Path(settings["CACHE_PATH"]) / INDEX).get("deferred", 0)
