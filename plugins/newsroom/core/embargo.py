"""Decides which release versions are public at the build's moment; everything else stays out of a public build."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newsroom.core.model import Catalog, Contact, Release


@dataclass(frozen=True)
class Clock:
    """The build's moment and whether it is a preview (which shows unpublished releases, marked)."""

    now: datetime
    preview: bool = False


def is_public(release: Release, now: datetime) -> bool:
    return state(release, now) is None


def state(release: Release, now: datetime) -> str | None:
    """None for a public release, else why it is not public: 'draft' or 'embargoed'."""
    if release.status == "draft":
        return "draft"
    return None if release.date <= now else "embargoed"


def unpublished(catalog: Catalog, now: datetime) -> list[Release]:
    return [r for r in catalog.releases if not is_public(r, now)]


def hidden_images(catalog: Catalog, now: datetime) -> set[str]:
    """Images that only unpublished releases use: a public build must not carry them in any form."""
    shown = {image.id for r in catalog.releases if is_public(r, now) for image in r.images}
    shown |= {c.photo.id for c in public_contacts(catalog, now) if c.photo}
    return {image.id for r in unpublished(catalog, now) for image in r.images} - shown


def public_contacts(catalog: Catalog, now: datetime) -> list[Contact]:
    """The cards the public may see: the standing press contacts (named by no release) and everyone a public release
    names. A card only unpublished releases name stays out until one of them is public: the person may be the news
    (a new director), and the card, its vCard and its photo would give the release away."""
    named = {c.id for r in catalog.releases for c in r.contacts}
    shown = {c.id for r in catalog.releases if is_public(r, now) for c in r.contacts}
    return [c for c in catalog.contacts.values() if c.id not in named or c.id in shown]


def hidden_contacts(catalog: Catalog, now: datetime) -> list[tuple[Contact, Release]]:
    """Each card the public may not see yet, with an unpublished release that names it."""
    shown = {c.id for c in public_contacts(catalog, now)}
    found = {c.id: (c, r) for r in unpublished(catalog, now) for c in r.contacts if c.id not in shown}
    return list(found.values())


def next_lift(catalog: Catalog, now: datetime) -> Release | None:
    """The embargoed release that becomes public first after `now` (drafts never lift by themselves)."""
    waiting = [r for r in catalog.releases if r.status == "published" and r.date > now]
    return min(waiting, key=lambda r: r.date, default=None)


def decide(metadata: dict, catalog: Catalog, clock: Clock) -> None:
    """Called with a release's metadata before Pelican makes an Article of it.

    A public build marks anything not yet public 'skip', so Pelican writes no page, listing or
    translation link for it. A preview publishes everything and remembers why each is not public.
    """
    release = catalog.version(metadata.get("release", ""), metadata.get("lang", ""))
    if release is None:
        metadata["status"] = "skip"
        return
    why = state(release, clock.now)
    if why is None:
        return
    if clock.preview:
        metadata["status"] = "published"
        metadata["embargo_state"] = why
    else:
        metadata["status"] = "skip"
