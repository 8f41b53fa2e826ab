"""Renders the pages on every core: Pelican renders every page in one process, and rendering is the largest share of
a build.

Pelican's writer is kept; the pages are queued as the generators hand them over and rendered by forked copies of the
build, which see exactly the context the build sees: the release pages once the articles are done (the search index
reads them, article_writer_finalized), every other page once all generators are done (finalized).
"""

from __future__ import annotations

import logging

from pelican.utils import sanitised_join
from pelican.writers import Writer

from . import workers
from .pagecache import PageCache

logger = logging.getLogger(__name__)

_current: QueueingWriter | None = None  # the writer of the build under way (one build at a time in a process)


class QueueingWriter(Writer):
    """Pelican's writer, with every page queued until `flush`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queued: list[tuple] = []
        self.cache: PageCache | None = None
        global _current
        _current = self  # what a failed earlier build left queued is dropped with its writer

    def write_file(self, name, template, context, relative_urls=False, paginated=None, template_name=None,
                   override_output=False, url=None, **kwargs):
        if name:
            self.queued.append((name, template, context, relative_urls, paginated, template_name, override_output,
                                url, kwargs))

    def flush(self) -> None:
        """Render the queued pages the page cache cannot keep: in worker processes when there are enough of them,
        else here."""
        jobs, self.queued = self.queued, []
        if self.cache is None and jobs:
            self.cache = PageCache(self.settings, jobs[0][2])
        keys = {id(job): self.cache.key(job) for job in jobs} if jobs else {}
        kept = {id(job) for job in jobs if keys[id(job)] and self.cache.keep(job, keys[id(job)], _more_section)}
        jobs = [job for job in jobs if id(job) not in kept]
        # Listings are one job of many pages each: the largest first, so that the processes share the work evenly.
        jobs.sort(key=lambda job: -len(next(iter((job[4] or {}).values()), ())))
        count = workers.processes(self.settings["NEWSROOM_PROCESSES"], len(jobs))
        logger.info("Rendering %d pages in %d process(es); %d kept from the last build", len(jobs), count, len(kept))
        workers.map_shares(self._render, jobs, count)
        for job in jobs:
            if keys[id(job)]:
                self.cache.written(job, keys[id(job)])
        if count > 1:
            # What the workers wrote counts as written here, so Pelican still refuses to write a page twice.
            self._written_files.update(sanitised_join(self.output_path, job[0]) for job in jobs if not job[4])

    def _render(self, job: tuple) -> None:
        name, template, context, relative_urls, paginated, template_name, override_output, url, kwargs = job
        super().write_file(name, template, context, relative_urls, paginated, template_name, override_output, url,
                           **kwargs)


def flush_current() -> None:
    """Render what the build's writer still holds, and note for the next build what the output holds."""
    global _current
    writer, _current = _current, None
    if writer is not None:
        writer.flush()
        if writer.cache is not None:
            writer.cache.save()


def _more_section(job: tuple) -> str:
    """A release page's "more from the publisher", made as the page itself makes it (templating.more_section)."""
    name, template, context, _, _, _, _, _, kwargs = job
    article = kwargs["article"]
    page = template.new_context({**context, **kwargs, "output_file": name, "lang": article.lang})
    return template.environment.globals["more_section"](page, article)
