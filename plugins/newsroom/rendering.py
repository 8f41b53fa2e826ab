"""Renders the release pages on every core: Pelican renders every page in one process, and the release pages are
the largest share of a build.

Pelican's writer is kept; release pages are queued as Pelican hands them over and, once the articles are done
(article_writer_finalized), rendered by forked copies of the build, which see exactly the context the build sees.
"""

from __future__ import annotations

import logging

from pelican.utils import sanitised_join
from pelican.writers import Writer

from . import workers

logger = logging.getLogger(__name__)


class ReleasePageWriter(Writer):
    """Pelican's writer, with release pages (written with an `article`) queued until `flush`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queued: list[tuple] = []

    def write_file(self, name, template, context, relative_urls=False, paginated=None, template_name=None,
                   override_output=False, url=None, **kwargs):
        if "article" in kwargs and not paginated and name:
            self.queued.append((name, template, context, relative_urls, override_output, url, kwargs))
            return
        super().write_file(name, template, context, relative_urls, paginated, template_name, override_output,
                           url, **kwargs)

    def flush(self) -> None:
        """Render the queued pages: in worker processes when there are enough of them, else here."""
        jobs, self.queued = self.queued, []
        count = workers.processes(self.settings["NEWSROOM_PROCESSES"], len(jobs))
        if count == 1:
            for job in jobs:
                self._render(job)
            return
        logger.info("Rendering %d release pages in %d processes", len(jobs), count)
        workers.map_shares(self._render, jobs, count)
        # What the workers wrote counts as written here, so Pelican still refuses to write a page twice.
        self._written_files.update(sanitised_join(self.output_path, job[0]) for job in jobs)

    def _render(self, job: tuple) -> None:
        name, template, context, relative_urls, override_output, url, kwargs = job
        super().write_file(name, template, context, relative_urls, None, None, override_output, url, **kwargs)
