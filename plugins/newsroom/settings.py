"""The NEWSROOM_ settings and their defaults, in one place; pelicanconf.py overrides any of them."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS: dict[str, object] = {
    # Languages of the newsroom, the first is the default (DEFAULT_LANG should match it).
    "NEWSROOM_LANGUAGES": ("fi", "sv", "en"),
    # The build clock: None means now; '2026-03-01T09:00+02:00' previews another moment.
    "NEWSROOM_NOW": None,
    # A preview shows drafts and embargoed releases with a banner, and is never deployed.
    "NEWSROOM_PREVIEW": False,
    # Where publish keeps its state (last published manifest, staging build); never inside the output.
    "NEWSROOM_STATE_DIR": "var",
    # Where `newsroom publish` deploys: a folder (kept as a symlink, swapped atomically) or rsync://host/path.
    "NEWSROOM_DEPLOY": "var/site",
    # How many other releases "more from the publisher" lists.
    "NEWSROOM_MORE_COUNT": 5,
    # How many of the newest releases each RSS/Atom feed holds.
    "NEWSROOM_FEED_MAX_ITEMS": 50,
    # Feeds need absolute addresses: used instead of SITEURL while SITEURL is empty (`make html`, `make serve`).
    "NEWSROOM_FEED_SITEURL": "http://127.0.0.1:8000",
}


# Read from the environment first: they differ per machine, and secrets never go in a settings file.
FROM_ENVIRONMENT = ("NEWSROOM_DEPLOY", "NEWSROOM_STATE_DIR")


def apply_defaults(settings: dict, base: Path | None = None) -> None:
    """Fill in defaults; relative state paths are taken from the settings file's folder, like Pelican's PATH."""
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    for key in FROM_ENVIRONMENT:
        if os.environ.get(key):
            settings[key] = os.environ[key]
    if base is not None:
        settings["NEWSROOM_STATE_DIR"] = str(base / settings["NEWSROOM_STATE_DIR"])
        if "://" not in settings["NEWSROOM_DEPLOY"]:
            settings["NEWSROOM_DEPLOY"] = str(base / settings["NEWSROOM_DEPLOY"])
