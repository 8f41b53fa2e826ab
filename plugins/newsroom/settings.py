"""The NEWSROOM_ settings and their defaults, in one place; pelicanconf.py overrides any of them."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # Languages of the newsroom, the first is the default (DEFAULT_LANG should match it).
    "NEWSROOM_LANGUAGES": ("fi", "sv", "en"),
    # The build clock: None means now; '2026-03-01T09:00+02:00' previews another moment.
    "NEWSROOM_NOW": None,
    # How many other releases "more from the publisher" lists.
    "NEWSROOM_MORE_COUNT": 5,
}


def apply_defaults(settings: dict) -> None:
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
