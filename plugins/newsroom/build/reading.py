"""Reads Markdown with one converter per process, reset between files, and converts the release files that Pelican's
cache does not hold on every core before Pelican asks for them one by one."""

from __future__ import annotations

import os

from markdown import Markdown
from markdown.extensions.meta import MetaPreprocessor
from pelican.generators import ArticlesGenerator
from pelican.readers import MarkdownReader
from pelican.utils import pelican_open

from newsroom.core import workers


class ReusingMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader, same output; building a Markdown object with its extensions cost about a fifth
    of converting a typical release, once per file."""

    _converter: Markdown | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.converted: dict[str, tuple[str, dict]] = {}  # read ahead by `convert_ahead`, handed out once
        self.read_ahead = False

    def read(self, source_path: str) -> tuple[str, dict]:
        if source_path in self.converted:
            return self.converted.pop(source_path)
        if self._converter is None:
            self._converter = Markdown(**self.settings["MARKDOWN"])
        self._source_path = source_path
        self._md = self._converter.reset()
        with pelican_open(source_path) as text:
            content = self._md.convert(text)
        metadata = self._parse_metadata(joined(self._md.Meta))
        # Pelican's _parse_metadata unregisters the meta preprocessor (so formatted fields such as Summary are not
        # read as headers); the next file needs it back.
        if "meta" not in self._converter.preprocessors:
            self._converter.preprocessors.register(MetaPreprocessor(self._converter), "meta", 27)
        return content, metadata

    def convert_ahead(self, paths: list[str], processes: int) -> None:
        """Convert `paths` in worker processes; a file a worker could not read is left for Pelican to read (and
        report) as usual."""
        for path, result in zip(paths, workers.map_shares(self._read_or_none, paths, processes)):
            if result is not None:
                self.converted[path] = result

    def _read_or_none(self, path: str) -> tuple[str, dict] | None:
        try:
            return self.read(path)
        except Exception:
            return None


def joined(meta: dict[str, list[str]]) -> dict[str, list[str]]:
    """Python-Markdown gives a field continued on indented lines as a list of its lines, which Pelican keeps as a
    list (a title shown as "['first', 'second']"); the newsroom's header reader joins them with a space, and so
    does this. A field given twice is refused by `newsroom check` before any build."""
    return {key: [" ".join(part.strip() for part in value)] for key, value in meta.items()}


def on_readers_init(readers) -> None:
    for extension in MarkdownReader.file_extensions:
        if readers.reader_classes.get(extension) is MarkdownReader:
            readers.reader_classes[extension] = ReusingMarkdownReader


def on_article_preread(generator: ArticlesGenerator) -> None:
    """Before Pelican reads the first release: convert every Markdown release its cache lacks, on every core."""
    reader = generator.readers.readers.get("md")  # Pelican makes one reader per file extension
    if not isinstance(reader, ReusingMarkdownReader) or reader.read_ahead:
        return
    reader.read_ahead = True
    settings = generator.settings
    paths = [
        os.path.abspath(os.path.join(generator.path, name))
        for name in generator.get_files(settings["ARTICLE_PATHS"], exclude=settings["ARTICLE_EXCLUDES"])
    ]
    paths = [
        path
        for path in paths
        if path.endswith(".md") and generator.readers.get_cached_data(path, (None, None))[0] is None
    ]
    count = workers.processes(settings["NEWSROOM_PROCESSES"], len(paths))
    if count > 1:
        reader.convert_ahead(paths, count)
