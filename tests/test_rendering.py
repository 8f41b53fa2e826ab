"""Release files read and pages rendered by worker processes make the pages the build makes alone, byte for byte."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from newsroom.core import workers
from sitebuilder import ROOT, build_site, release, write_content

NOW = "2026-03-10T12:00+02:00"
COUNT = 2 * workers.MIN_ITEMS_PER_PROCESS + 10  # enough for two processes

# Builds in a process of its own (a fork is only made where no other thread runs, and pytest may run some), and
# notes how many files were read ahead and which process wrote each release page.
BUILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from pelican import signals
    from newsroom.build.run import BuildOptions, build, load_settings
    from newsroom.build.reading import ReusingMarkdownReader

    content, output, log = map(Path, sys.argv[1:4])
    convert_ahead = ReusingMarkdownReader.convert_ahead

    def read_ahead(reader, paths, processes):
        convert_ahead(reader, paths, processes)
        print("read ahead", len(reader.converted), "of", len(paths), "in", processes)

    ReusingMarkdownReader.convert_ahead = read_ahead

    def written(path, context):
        if "/releases/" in path:
            with log.open("a") as sink:
                sink.write(f"{os.getpid()} {path}\\n")

    signals.content_written.connect(written)
    settings = load_settings(BuildOptions(Path(sys.argv[4]), content, output, sys.argv[5]))
    build({**settings, "NEWSROOM_PROCESSES": 2})
    print(os.getpid())
""")


def test_releases_read_and_rendered_in_two_processes_equal_those_of_one(tmp_path):
    releases = {
        f"r{n:03}.{lang}.md": release(
            f"Tiedote numero {n} {lang}",
            f"2026-02-{1 + n % 28:02} {8 + n % 10:02}:{n % 60:02}",
            lang=lang,
            release_id=f"r{n:03}",
            Keywords=f"aihe {n % 7}",
            body=f"Teksti {n}.",
        )
        for n in range(COUNT // 2)
        for lang in ("fi", "sv")
    }
    content = write_content(tmp_path / "content", releases)
    log = tmp_path / "written.log"
    parallel = tmp_path / "parallel"
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(content), str(parallel), str(log), str(ROOT / "pelicanconf.py"), NOW],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert f"read ahead {COUNT} of {COUNT} in 2" in done.stdout
    builder = int(done.stdout.split()[-1])
    writers = {int(line.split()[0]) for line in log.read_text().splitlines()}
    assert len(log.read_text().splitlines()) == COUNT
    assert len(writers) == 2 and builder not in writers

    serial = build_site(content, tmp_path / "serial", now=NOW, settings={"NEWSROOM_PROCESSES": 1}).output
    pages = sorted(p.relative_to(serial) for p in serial.rglob("*.html"))
    assert len([p for p in pages if p.parts[1:2] == ("releases",)]) == COUNT
    assert pages == sorted(p.relative_to(parallel) for p in parallel.rglob("*.html"))
    assert [p for p in pages if (serial / p).read_bytes() != (parallel / p).read_bytes()] == []


def test_a_small_site_or_a_build_with_one_process_set_renders_in_its_own_process():
    assert workers.processes(0, workers.MIN_ITEMS_PER_PROCESS - 1) == 1
    assert workers.processes(1, 10_000) == 1


def test_no_fork_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert workers.processes(2, 10_000) == 1
    finally:
        stop.set()
        other.join()
