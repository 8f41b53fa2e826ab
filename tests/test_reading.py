"""One Markdown converter per build reads every file exactly as Pelican's own reader, one converter per file, does."""

from __future__ import annotations

from pelican import signals
from pelican.readers import MarkdownReader, Readers
from pelican.settings import DEFAULT_CONFIG

from newsroom.build.reading import ReusingMarkdownReader, on_readers_init

FILES = {
    "first.md": "Title: First\nSummary: A *formatted* summary.\nKeywords: a, b\n\nText with a footnote[^1].\n\n"
    "[^1]: The note.\n\n*[HTML]: Hyper Text\n\nHTML here.\n",
    "second.md": "Title: Second\nLead: No summary here.\n\n## Heading\n\n> A quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "third.md": "Title: Third\n\nText with a footnote[^1] of its own and no abbreviation: HTML.\n\n[^1]: Another note.\n",
}


def _settings() -> dict:
    settings = dict(DEFAULT_CONFIG)
    settings["MARKDOWN"] = {
        "extension_configs": {"markdown.extensions.extra": {}, "markdown.extensions.smarty": {"smart_quotes": False}},
        "output_format": "html5",
    }
    return settings


def test_reused_converter_gives_what_a_fresh_converter_per_file_gives(tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    fresh, reused = MarkdownReader(_settings()), ReusingMarkdownReader(_settings())
    for _ in range(2):  # twice round: nothing of one file may stay behind for the next
        for name in FILES:
            assert reused.read(str(tmp_path / name)) == fresh.read(str(tmp_path / name))
    content, metadata = reused.read(str(tmp_path / "first.md"))
    assert metadata["summary"] == "<p>A <em>formatted</em> summary.</p>" and metadata["title"] == "First"
    assert 'class="footnote"' in content and '<abbr title="Hyper Text">HTML</abbr>' in content


def test_pelican_reads_markdown_with_the_reusing_reader_once_the_plugin_is_registered():
    signals.readers_init.connect(on_readers_init)  # what newsroom's register() does (the same receiver, once)
    settings = {
        **_settings(),
        "READERS": {},
        "CONTENT_CACHING_LAYER": "reader",
        "CACHE_CONTENT": False,
        "LOAD_CONTENT_CACHE": False,
    }
    readers = Readers(settings)
    assert type(readers.readers["md"]) is ReusingMarkdownReader
    assert type(readers.readers["markdown"]) is ReusingMarkdownReader
