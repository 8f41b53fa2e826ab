"""Renders the pages on every core: Pelican renders every page in one process, and rendering is the largest share of
a build.

Pelican's writer is kept; the pages are queued as the generators hand them over and rendered by forked copies of the
build, which see exactly the context the build sees: the release pages once the articles are done (the search index
reads them, article_writer_finalized), every other page once all generators are done (finalized).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pelican.utils import sanitised_join
from pelican.writers import Writer

from newsroom.build import staging
from newsroom.build.pagecache import OUTDATABLE, Page, PageCache, is_release
from newsroom.core import workers

logger = logging.getLogger(__name__)

_current: QueueingWriter | None = None  # the writer of the build under way (one build at a time in a process)


class QueueingWriter(Writer):
    """Pelican's writer, with every page queued until `flush`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queued: list[Page] = []
        self.cache: PageCache | None = None
        self.kept_pages: dict[str, set[str]] = {}  # by listing: its pages kept from the last output (deferred_pages)
        self._kept_files: set[str] = set()  # the same pages, as the paths Pelican opens
        global _current
        _current = self  # what a failed earlier build left queued is dropped with its writer

    def write_file(
        self,
        name,
        template,
        context,
        relative_urls=False,
        paginated=None,
        template_name=None,
        override_output=False,
        url=None,
        **kwargs,
    ):
        if name:
            self.queued.append(
                Page(name, template, context, relative_urls, paginated, template_name, override_output, url, kwargs)
            )

    def _open_w(self, filename, encoding, override=False):
        """A page is always a new file: one kept from the last build (a hard link) is replaced, never written into;
        a listing's page kept as it is (`_Keeping`) is written nowhere."""
        if filename in self._kept_files:
            return open(os.devnull, "w", encoding=encoding)
        if filename != os.devnull and filename not in self._overridden_files:
            Path(filename).unlink(missing_ok=True)
        return super()._open_w(filename, encoding, override)

    def flush(self) -> None:
        """Render the queued pages the page cache cannot keep: in worker processes when there are enough of them,
        else here."""
        pages, self.queued = self.queued, []
        if not pages:  # a newsroom with no public release has none to write at the first flush
            return
        if self.cache is None:
            self.cache = PageCache(self.settings, pages[0].context)
        self.cache.public.update(page.kwargs["article"].url for page in pages if is_release(page))
        keys = {id(page): self.cache.key(page) for page in pages}
        kept = {
            id(page)
            for page in pages
            if self.cache.keep_outdated(page)
            or (keys[id(page)] and self.cache.keep(page, keys[id(page)], _more_section))
        }
        pages = [page for page in pages if id(page) not in kept]
        for page in pages:
            if keys[id(page)] and page.paginated:
                names = self.cache.deferred_pages(page)
                self.kept_pages[page.name] = {name for name in names if staging.keep(Path(self.output_path), name)}
        self._kept_files = {
            sanitised_join(self.output_path, name) for names in self.kept_pages.values() for name in names
        }
        # A listing is one job of many pages: the largest first, so that the processes share the work evenly.
        pages.sort(key=lambda page: -len(next(iter((page.paginated or {}).values()), ())))
        count = workers.processes(self.settings["NEWSROOM_PROCESSES"], len(pages))
        logger.info("Rendering %d pages in %d process(es); %d kept from the last build", len(pages), count, len(kept))
        workers.map_shares(self._render, pages, count)
        for page in pages:
            if keys[id(page)] or page.template_name in OUTDATABLE:
                self.cache.written(page, keys[id(page)], self.kept_pages.get(page.name, set()))
        if count > 1:
            # What the workers wrote counts as written here, so Pelican still refuses to write a page twice.
            self._written_files.update(sanitised_join(self.output_path, p.name) for p in pages if not p.paginated)

    def _render(self, page: Page) -> None:
        kept = self.kept_pages.get(page.name)
        super().write_file(
            page.name,
            _Keeping(page.template, kept) if kept else page.template,
            page.context,
            page.relative_urls,
            page.paginated,
            page.template_name,
            page.override_output,
            page.url,
            **page.kwargs,
        )


class _Keeping:
    """A listing's template that renders nothing for the pages kept as the last output has them (the writer writes
    them nowhere): the paginator still walks every page, so the others come out as a full render makes them."""

    def __init__(self, template, kept: set[str]):
        self.template, self.kept = template, kept

    def render(self, context: dict) -> str:
        return "" if context["output_file"] in self.kept else self.template.render(context)


def flush_current() -> None:
    """Render what the build's writer still holds, and note for the next build what the output holds."""
    global _current
    writer, _current = _current, None
    if writer is not None:
        writer.flush()
        if writer.cache is not None:
            writer.cache.save()


def _more_section(page: Page) -> str:
    """A release page's "more from the publisher", made as the page itself makes it (templating.more_section)."""
    article = page.kwargs["article"]
    values = {**page.context, **page.kwargs, "output_file": page.name, "lang": article.lang}
    return page.template.environment.globals["more_section"](page.template.new_context(values), article)
