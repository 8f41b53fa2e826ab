"""`make bench`: builds one synthetic newsroom with bare Pelican and with the full newsroom, and prints the table.

Every build runs in its own process, so each starts cold (imports included) and its peak memory is its own.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from synthetic import NOW, write_corpus, write_release

ROOT = Path(__file__).resolve().parents[2]

STEPS = ("cold", "warm", "add one")

# Where a build's time goes: the cumulative seconds of these functions (absent modules are skipped).
PROFILE_PARTS = (
    ("catalog: load and check the content", "newsroom.content.catalog:load_catalog"),
    ("reading (Markdown, metadata)", "pelican.readers:Readers.read_file"),
    ("  of which Markdown conversion", "markdown.core:Markdown.convert"),
    ("rendering and writing pages (Pelican's writer)", "pelican.writers:Writer.write_file"),
    ("  of which Jinja rendering", "jinja2.environment:Template.render"),
    ("  of which release pages", "newsroom.site.plugin:on_article_writer_finalized"),
    ("  of which listings and the other pages", "newsroom.build.rendering:flush_current"),
    ("Pelican's own feeds", "pelican.writers:Writer.write_feed"),
    ("feeds (RSS, Atom)", "newsroom.site.feeds:FeedsGenerator.generate_output"),
    ("media bank: image derivatives, ZIPs", "newsroom.site.mediabank:MediaBankGenerator.generate_context"),
    ("media bank pages and files", "newsroom.site.mediabank:MediaBankGenerator.generate_output"),
    ("discovery: vCards, calendars, API, sitemaps", "newsroom.site.discovery:DiscoveryGenerator.generate_output"),
    ("search index: waiting for Pagefind (it runs alongside)", "newsroom.build.search:Indexing.wait"),
    ("static files", "pelican.generators:StaticGenerator.generate_output"),
    ("manifest fingerprint", "newsroom.build.manifest:fingerprint"),
    ("leak audit of every output file", "newsroom.build.audit:audit"),
)


@dataclass(frozen=True)
class Variant:
    """One row of the table: which builder, over a corpus in how many languages, in how many processes."""

    builder: str  # "bare" or "newsroom"
    langs: tuple[str, ...]
    processes: int = 0  # NEWSROOM_PROCESSES: 0 is one per core

    @property
    def name(self) -> str:
        who = "bare Pelican" if self.builder == "bare" else "newsroom"
        alone = ", one process" if self.processes == 1 else ""
        return f"{who}, {len(self.langs)} language{'s' if len(self.langs) > 1 else ''}{alone}"

    @property
    def folder(self) -> str:
        return f"{self.builder}-{len(self.langs)}-{self.processes}"


def build_once(
    builder: str, content: Path, output: Path, cache: Path, langs: tuple[str, ...], processes: int = 0
) -> None:
    """One build in this process, as the user would run it: bare `pelican` defaults, or `newsroom build`."""
    from pelican import Pelican
    from pelican.settings import read_settings

    if builder == "bare":
        settings = read_settings(
            None,
            override={
                "PATH": str(content),
                "OUTPUT_PATH": str(output),
                "CACHE_PATH": str(cache),
                "PLUGINS": [],
                "TIMEZONE": "Europe/Helsinki",
                "DEFAULT_LANG": langs[0],
            },
        )
        Pelican(settings).run()
        return
    from newsroom.build.run import BuildOptions, build, load_settings

    settings = load_settings(BuildOptions(ROOT / "pelicanconf.py", content, output, NOW.isoformat()))
    settings.update(NEWSROOM_LANGUAGES=langs, CACHE_PATH=str(cache), NEWSROOM_PROCESSES=processes)
    build(settings)


def measure(variant: Variant, work: Path) -> dict:
    """Seconds and peak memory of a build in a fresh process."""
    folder = work / variant.folder
    command = [
        sys.executable,
        __file__,
        "_build",
        variant.builder,
        str(folder),
        ",".join(variant.langs),
        str(variant.processes),
    ]
    log = folder / "build.log"
    with log.open("w") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, env=_environment(folder))
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{variant.name}: the build failed\n{log.read_text()}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024}


def _environment(folder: Path) -> dict[str, str]:
    """The image derivatives' cache lives with the variant's folder, so the cold build starts without one."""
    return {**os.environ, "NEWSROOM_IMAGE_CACHE": str(folder / "image-cache")}


def run_variant(variant: Variant, work: Path, releases: int) -> dict[str, dict]:
    folder = work / variant.folder
    if folder.exists():
        shutil.rmtree(folder)
    write_corpus(folder / "content", releases, variant.langs)
    results = {"cold": measure(variant, work), "warm": measure(variant, work)}
    write_release(folder / "content", 99_999, variant.langs, random.Random(1), NOW - timedelta(minutes=30))
    results["add one"] = measure(variant, work)
    return results


def table(results: dict[Variant, dict[str, dict]], releases: int) -> str:
    """Markdown table: seconds and the ratio to bare Pelican's cold build of the same corpus."""
    lines = [
        f"{releases} releases; ratio = seconds / bare Pelican's cold build of the same files in this run.",
        "",
        "| build | files | cold s | ratio | warm s | ratio | add one s | ratio | peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, steps in results.items():
        bare = results[Variant("bare", variant.langs)]["cold"]["seconds"]
        cells = [variant.name, str(releases * len(variant.langs))]
        for step in STEPS:
            cells += [f"{steps[step]['seconds']:.2f}", f"{steps[step]['seconds'] / bare:.2f}x"]
        cells.append(f"{max(s['peak_mb'] for s in steps.values()):.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def profile(work: Path, langs: tuple[str, ...], releases: int) -> str:
    """A cold newsroom build in one process under cProfile, summarised by step; the full stats are kept for
    pstats/snakeviz."""
    folder = work / "profile"
    if folder.exists():
        shutil.rmtree(folder)
    write_corpus(folder / "content", releases, langs)
    stats_file = work / "newsroom-cold.prof"
    subprocess.run(
        [sys.executable, __file__, "_profile", str(folder), ",".join(langs), str(stats_file)],
        cwd=ROOT,
        check=True,
        env=_environment(folder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return summarize(stats_file, f"Cold newsroom build of {releases} releases in {len(langs)} language(s)")


def summarize(stats_file: Path, title: str) -> str:
    """The profile as a table of the steps above, each with its share of the whole build."""
    stats = pstats.Stats(str(stats_file))
    total = max(entry[3] for entry in stats.stats.values())
    lines = [
        f"{title} in one process under cProfile: {total:.2f} s (profiling slows Python code down, Pagefind not; "
        f"the shares are what matter). Stats: {stats_file}",
        "",
        "| step | seconds | share |",
        "|---|---:|---:|",
    ]
    for label, target in PROFILE_PARTS:
        seconds = _cumulative(stats, target)
        if seconds:
            lines.append(f"| {label} | {seconds:.2f} | {seconds / total:.0%} |")
    return "\n".join(lines)


def _cumulative(stats: pstats.Stats, target: str) -> float:
    """Cumulative seconds of `module:Class.function`, found by its code object; 0 when it does not exist."""
    module_name, _, qualname = target.partition(":")
    try:
        function = importlib.import_module(module_name)
        for part in qualname.split("."):
            function = getattr(function, part)
    except (ImportError, AttributeError):
        return 0.0
    code = function.__code__
    entry = stats.stats.get((code.co_filename, code.co_firstlineno, code.co_name))
    return entry[3] if entry else 0.0


def _child(argv: list[str]) -> None:
    mode, rest = argv[0], argv[1:]
    if mode == "_build":
        builder, folder, langs, processes = rest
        folder = Path(folder)
        build_once(
            builder, folder / "content", folder / "output", folder / "cache", tuple(langs.split(",")), int(processes)
        )
    elif mode == "_profile":
        folder, langs, stats_file = rest
        folder = Path(folder)
        profiler = cProfile.Profile()
        # In one process: cProfile sees only its own process, and the shares are what is asked of it.
        profiler.runcall(
            build_once, "newsroom", folder / "content", folder / "output", folder / "cache", tuple(langs.split(",")), 1
        )
        profiler.dump_stats(stats_file)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):
        _child(argv)
        return 0
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=2000, help="releases in the corpus (default 2000)")
    parser.add_argument("--langs", default="fi,sv,en", help="languages, comma-separated; the first alone, then all")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench", help="scratch folder (default var/bench)")
    parser.add_argument("--profile", action="store_true", help="also profile a cold newsroom build")
    args = parser.parse_args(argv)
    langs = tuple(lang.strip() for lang in args.langs.split(",") if lang.strip())
    # The newsroom also in one process (NEWSROOM_PROCESSES=1), to show what the other cores add.
    variants = [
        Variant(builder, chosen, processes)
        for chosen in dict.fromkeys((langs[:1], langs))
        for builder, processes in (("bare", 0), ("newsroom", 0), ("newsroom", 1))
    ]
    results = {}
    for variant in variants:
        print(f"building {variant.name} ...", file=sys.stderr, flush=True)
        results[variant] = run_variant(variant, args.work, args.releases)
    print(table(results, args.releases))
    if args.profile:
        print()
        print(profile(args.work, langs[:1], args.releases))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
