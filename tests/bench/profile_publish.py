"""Where a warm publish spends its time: one process, a synthetic newsroom, cProfile around an "add one release"
publish (build and deploy) and around a prebuild of the next lift, summarised by step.

`python tests/bench/profile_publish.py --releases 2000` (the stats files are kept in --work for pstats/snakeviz).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import NOW, write_corpus, write_release  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# The steps of a warm publish (cumulative seconds of each function; absent ones are skipped).
STEPS = (
    ("the whole build (build_public)", "newsroom.publishing.publish:build_public"),
    ("  work folder: staging the last output", "newsroom.build.staging:staged"),
    ("  Pelican: read, render, write", "pelican:Pelican.run"),
    ("    pages kept (pagecache.keep)", "newsroom.build.pagecache:PageCache.keep"),
    ("    JSON API", "newsroom.site.discovery:DiscoveryGenerator._write_api"),
    ("    sitemap.xml", "newsroom.site.sitemaps:pages"),
    ("    search index: waiting for Pagefind", "newsroom.build.search:Indexing.wait"),
    ("  leak audit", "newsroom.build.audit:audit"),
    ("  sweep of pages no longer made", "newsroom.publishing.publish:_sweep"),
    ("deploy: copy beside the target and swap", "newsroom.publishing.deploy:deploy"),
    ("stage a prebuild beside the target", "newsroom.publishing.deploy:stage"),
)


def _cumulative(stats: pstats.Stats, target: str) -> float:
    import importlib

    module_name, _, qualname = target.partition(":")
    try:
        function = importlib.import_module(module_name)
        for part in qualname.split("."):
            function = getattr(function, part)
    except (ImportError, AttributeError):
        return 0.0
    function = getattr(function, "__wrapped__", function)
    code = function.__code__
    entry = stats.stats.get((code.co_filename, code.co_firstlineno, code.co_name))
    return entry[3] if entry else 0.0


def summary(stats_file: Path, title: str, wall: float) -> str:
    stats = pstats.Stats(str(stats_file))
    lines = [f"{title}: {wall:.2f} s wall under cProfile ({stats_file})", "", "| step | seconds |", "|---|---:|"]
    for label, target in STEPS:
        seconds = _cumulative(stats, target)
        if seconds:
            lines.append(f"| {label} | {seconds:.2f} |")
    return "\n".join(lines)


def profiled(stats_file: Path, call) -> float:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(call)
    wall = time.perf_counter() - started
    profiler.dump_stats(str(stats_file))
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "profile-publish")
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    content = write_corpus(args.work / "content", args.releases, ("fi",))
    os.environ.update(
        NEWSROOM_STATE_DIR=str(args.work / "state"),
        NEWSROOM_DEPLOY=str(args.work / "site"),
        NEWSROOM_IMAGE_CACHE=str(args.work / "image-cache"),
        NEWSROOM_SITEURL="https://newsroom.bench.example",
    )
    from newsroom.build.run import BuildOptions, load_settings
    from newsroom.publishing.deploy import deploy, stage
    from newsroom.publishing.publish import PREBUILD, build_public, checked_catalog

    settings = load_settings(BuildOptions(ROOT / "publishconf.py", content))
    target = settings["NEWSROOM_DEPLOY"]

    def publish() -> None:
        deploy(build_public(settings, checked_catalog(settings), NOW), target)

    def prebuild(lift: int) -> None:
        catalog = checked_catalog(settings)
        at = sorted(r.date for r in catalog.releases if r.date > NOW)[lift]
        stage(build_public(settings, catalog, at, PREBUILD), Path(target)).discard()

    started = time.perf_counter()
    publish()
    print(f"cold publish: {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)
    prebuild(0)  # the prebuild folder's first build is cold too
    write_release(content, 99_999, ("fi",), random.Random(1), NOW - timedelta(minutes=30))
    out = [
        summary(
            args.work / "add-one.prof",
            "warm publish after one new release",
            profiled(args.work / "add-one.prof", publish),
        ),
        summary(
            args.work / "prebuild.prof",
            "prebuild of the next lift",
            profiled(args.work / "prebuild.prof", lambda: prebuild(1)),
        ),
    ]
    print("\n\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
