"""A release whose id changed after it was published: subscribers know a release by its id, so the new id would be
announced to all of them again. The last published manifest (in the state folder) says which file carried which id;
a file that now carries another id is a problem unless its header says it is a new release ('New-Release: yes')."""

from __future__ import annotations

from pathlib import Path

from newsroom.build import manifest
from newsroom.core.model import Catalog, Problem


def renamed_problems(catalog: Catalog, settings: dict) -> list[Problem]:
    last = manifest.read(Path(settings["NEWSROOM_STATE_DIR"])) or {"releases": []}
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
