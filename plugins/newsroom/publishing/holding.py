"""Releases held for approval (NEWSROOM_APPROVAL = "required"): built as drafts, and their writers told once.

Every publish (the resident publisher's and cron's `newsroom publish`) reads its catalog through `hold`, so a held
release is hidden the one way drafts are: the site plugin writes no page for it and the audit checks the output
against it as against every other unpublished version. When it is approved the next publish finds it public.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
from datetime import datetime
from pathlib import Path

from newsroom.build import manifest
from newsroom.core.model import Catalog, Release
from newsroom.core.settings import Settings
from newsroom.mail import approvals, sharemail, store
from newsroom.mail.mailer import MailerConfigError

logger = logging.getLogger("newsroom.publisher")


def hold(settings: dict, catalog: Catalog, now: datetime, tell: bool = True) -> tuple[Catalog, list[Release]]:
    """The catalog with every held release a draft, and the held versions as they were; `tell` emails the writers
    of those whose time has come (a prebuild, made ahead of the time, does not)."""
    if approvals.mode(settings) != "required":
        return catalog, []
    state = Path(settings["NEWSROOM_STATE_DIR"])
    live = {entry["release"] for entry in (manifest.read(state) or {}).get("releases", [])}
    conn = store.connect(store.db_path(settings))
    try:
        ids = set(approvals.held(conn, settings, catalog, live))
        held = [r for r in catalog.releases if r.release_id in ids and r.status == "published"]
        if tell:
            _tell_writers(conn, settings, [r for r in held if r.date <= now], now)
    finally:
        conn.close()
    releases = tuple(dataclasses.replace(r, status="draft") if r.release_id in ids else r for r in catalog.releases)
    return dataclasses.replace(catalog, releases=releases), held


def _tell_writers(conn, settings: dict, due: list[Release], now: datetime) -> None:
    """Once per release and time: an email to whoever last changed it that it is held, and why."""
    langs = tuple(settings["NEWSROOM_LANGUAGES"])
    first: dict[str, Release] = {}
    for release in sorted(due, key=lambda r: langs.index(r.lang) if r.lang in langs else len(langs)):
        first.setdefault(release.release_id, release)
    for release_id, release in first.items():
        writer = _writer(settings, [r.source for r in due if r.release_id == release_id])
        with store.transaction(conn):
            fresh = conn.execute(
                "INSERT INTO held_notices (release, date, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (release_id, store.stamp(release.date), store.stamp(now)),
            ).rowcount
            if fresh and writer:
                message = _compose_or_none(
                    settings,
                    "review_held",
                    release.lang,
                    writer,
                    now,
                    title=release.title,
                    date=release.date.astimezone(Settings.of(settings).tz),
                    desk_url=str(settings["NEWSROOM_DESK_URL"]).rstrip("/"),
                    release_id=release_id,
                )
                if message:
                    sharemail.queue(conn, writer, message, now)
        if fresh:
            logger.warning("Held %s at its time: not approved (NEWSROOM_APPROVAL = required)", release_id)
    if first:
        sharemail.deliver(conn, settings)


def _compose_or_none(settings: dict, *args, **context) -> bytes | None:
    """The writer's email, or None (logged) when the mail settings are wrong: a publish never fails for it."""
    try:
        return sharemail.compose(settings, *args, **context)
    except MailerConfigError as exc:
        logger.error("Cannot tell the writer a release is held: %s", exc)
        return None


def _writer(settings: dict, paths: list[Path]) -> str | None:
    """The author of the last commit that changed the release's files (the desk commits as the signed-in user)."""
    done = subprocess.run(
        ["git", "-C", str(settings["PATH"]), "log", "-1", "--format=%ae", "--", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    email = done.stdout.strip()
    return email if done.returncode == 0 and "@" in email and not email.endswith(".invalid") else None
