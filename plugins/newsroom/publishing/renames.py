"""A release whose id or address changed after it was published. Subscribers know a release by its id, so a new id
would be announced to all of them again; the media and search engines know it by its address, so a new address
would break every link to it. The last published manifest (in the state folder) says which file carried which id
and where each version was published: a file that now carries another id is a problem unless its header says it is
a new release ('New-Release: yes'); a version whose title now makes another address is a problem until its header
keeps the old one ('Slug: ...') or names the new one on purpose."""

from __future__ import annotations

from pathlib import Path

from newsroom.build import manifest
from newsroom.core import urls
from newsroom.core.model import Catalog, Problem


def renamed_problems(catalog: Catalog, settings: dict) -> list[Problem]:
    last = manifest.read(Path(settings["NEWSROOM_STATE_DIR"])) or {"releases": []}
    return [*_new_ids(catalog, last), *_moved(catalog, last, settings)]


def _new_ids(catalog: Catalog, last: dict) -> list[Problem]:
    announced = {(entry["release"], entry["lang"]) for entry in last["releases"]}
    was = {(entry["source"], entry["lang"]): entry["release"] for entry in last["releases"] if entry.get("source")}
    root = Path(catalog.root).resolve()
    problems = []
    for release in catalog.releases:
        if release.new_release or (release.release_id, release.lang) in announced:
            continue
        source = release.source.resolve().relative_to(root).as_posix()
        earlier = was.get((source, release.lang))
        if earlier is not None and earlier != release.release_id:
            problems.append(
                Problem(
                    release.source,
                    release.lines.get("Release", 1),
                    "Release",
                    f"this file was published as '{earlier}' and subscribers were told of it; under the new id "
                    f"'{release.release_id}' it would be sent to every subscriber again. Change it back to "
                    f"'Release: {earlier}', or, if this is really another release, add 'New-Release: yes'",
                )
            )
    return problems


def _moved(catalog: Catalog, last: dict, settings: dict) -> list[Problem]:
    """Versions whose address, made from the title (no 'Slug:' line), is not where they were published."""
    base = len(last.get("site_url") or "") + 1
    published = {(entry["release"], entry["lang"]): entry["url"][base:] for entry in last["releases"]}
    problems = []
    for release in catalog.releases:
        was = published.get((release.release_id, release.lang))
        now = urls.release_page(settings, release)
        if was is None or was == now or "Slug" in release.lines:
            continue
        slug = was.rstrip("/").rsplit("/", 1)[-1]
        problems.append(
            Problem(
                release.source,
                release.lines.get("Title", 1),
                "Title",
                f"this release was published at /{was}, but its title now makes the address /{now}, and links "
                f"to the old one would break. Add the line 'Slug: {slug}' to keep the address, or "
                f"'Slug: {release.slug}' if it should move",
            )
        )
    return problems
