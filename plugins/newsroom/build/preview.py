"""Where a preview may not be written: a preview holds drafts and embargoed releases, so an output that is, holds
or lies inside the live site (the deploy target, the copies it points at, the last published build) would put them
in front of readers. Paths are compared as given and with every symlink resolved."""

from __future__ import annotations

from pathlib import Path

from newsroom.core.settings import local_deploy
from newsroom.publishing.deploy import kept_copies


class PreviewTargetError(Exception):
    """A preview was asked to write into the live site; nothing was written."""


def live_folders(settings: dict) -> list[Path]:
    """The folders readers are served from, or that `newsroom publish` builds and deploys from."""
    from newsroom.publishing.publish import STAGING  # here: publish imports the build, which imports this module

    found = [Path(settings["NEWSROOM_STATE_DIR"]) / STAGING]
    target = settings["NEWSROOM_DEPLOY"]
    if local_deploy(target):
        found += [Path(target), kept_copies(Path(target))]
    return found


def _forms(path: Path) -> set[Path]:
    return {path.absolute(), path.resolve()}


def _overlap(one: Path, other: Path) -> bool:
    return one == other or one in other.parents or other in one.parents


def refuse_live_output(settings: dict) -> None:
    output = Path(settings["OUTPUT_PATH"])
    for live in live_folders(settings):
        if any(_overlap(mine, theirs) for mine in _forms(output) for theirs in _forms(live)):
            raise PreviewTargetError(
                f"the preview output {output} is, holds or lies inside {live}, which is (or holds) the public site; "
                "a preview shows drafts and embargoed releases, so it goes in a folder of its own: "
                "give --output preview (the default) or another folder outside the site"
            )
