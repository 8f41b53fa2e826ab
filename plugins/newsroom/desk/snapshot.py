"""The page behind a shared link: one release, exactly as one git commit holds it, built in the real theme.

The content folder at that commit is taken out of git (`git archive`, so nothing unsaved or uncommitted is in it),
every other release is removed from the copy, and the copy is built as a preview (embargoed and draft versions
rendered) with the banner of the link's kind. So a link can show no other release, and a later edit makes a new
snapshot rather than changing what a reviewer approved. Addresses in the pages carry KEY where the link's token
goes; the preview origin puts each request's own token there (desk/pressview.py), so one build serves every
recipient and each recipient's link alone opens it.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from newsroom.build.run import build
from newsroom.core.settings import Settings
from newsroom.desk import documents, gitstore

KEY = "NEWSROOMxSHAREDxLINKxKEY"
KINDS = ("review", "press")
_lock = threading.Lock()


def folder(settings: dict) -> Path:
    return Path(settings["NEWSROOM_STATE_DIR"]) / "desk" / "snapshots"


def ensure(settings: dict, repo: Path, release_id: str, sha: str, kind: str, now: datetime) -> Path:
    """The built site of the release at commit `sha` for links of `kind`, built once per commit and kind."""
    if kind not in KINDS or not all(c in "0123456789abcdef" for c in sha):
        raise ValueError("a snapshot needs a known kind and a commit id")
    site = folder(settings) / f"{release_id}-{sha[:16]}-{kind}"
    if site.is_dir():
        return site
    with _lock:
        if site.is_dir():
            return site
        site.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=site.parent, prefix=".building-") as scratch:
            work = Path(scratch)
            content = _export(settings, repo, sha, work / "tree")
            _keep_only(content, release_id, Settings.of(settings).tz, now)
            build(_settings(settings, content, work, release_id, kind, now))
            (work / "site").rename(site)
    return site


def _export(settings: dict, repo: Path, sha: str, into: Path) -> Path:
    content = Path(settings["PATH"]).resolve()
    inside = str(content.relative_to(repo.resolve())) if content != repo.resolve() else "."
    done = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", sha, "--", inside], capture_output=True, timeout=120
    )
    if done.returncode != 0:
        raise gitstore.GitError(done.stderr.decode(errors="replace").strip() or "git archive failed")
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / inside


def _keep_only(content: Path, release_id: str, tz, now: datetime) -> None:
    for rid, langs in documents.versions(content, tz, now).items():
        if rid != release_id:
            for version in langs.values():
                version.path.unlink()


def _settings(settings: dict, content: Path, work: Path, release_id: str, kind: str, now: datetime) -> Settings:
    base = f"{str(settings['NEWSROOM_DESK_PREVIEW_URL']).rstrip('/')}/t/{KEY}"
    checked = Settings.of(settings)
    banner: dict[str, str] = {"kind": kind}
    if kind == "review":
        banner["decide_url"] = f"{str(settings['NEWSROOM_DESK_URL']).rstrip('/')}/r/{KEY}"
    else:
        lift = min(
            (v.date for v in documents.versions(content, checked.tz, now).get(release_id, {}).values() if v.date),
            default=now,
        ).astimezone(checked.tz)
        banner.update(date=f"{lift.day}.{lift.month}.{lift.year}", time=f"{lift.hour}.{lift.minute:02d}")
    return checked.replace(
        PATH=str(content),
        OUTPUT_PATH=str(work / "site"),
        CACHE_PATH=str(work / "cache"),
        SITEURL=base,
        NEWSROOM_FEED_SITEURL=base,
        NEWSROOM_PREVIEW=True,
        DELETE_OUTPUT_DIRECTORY=True,
        NEWSROOM_NOW=now,
        NEWSROOM_SHARED=banner,
    )
