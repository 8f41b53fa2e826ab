"""Links between content files ({filename}, {static}, {attach}): Pelican follows them wherever they point and copies
a {static} target into the site, so a link must stay inside the content folder, and a public page may not link to
a release, an attachment or a picture that is not public yet."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from newsroom.content import paths
from newsroom.content.header import lines
from newsroom.core import records
from newsroom.core.embargo import is_public, state
from newsroom.core.model import Catalog, Problem

# As Pelican's INTRASITE_LINK_REGEX reads them: {what}path or |what|path, up to the end of the address.
_LINK = re.compile(r"[{|](?P<what>filename|static|attach)[}|](?P<path>[^\s)\"'<>]+)")


_written: dict[str, tuple] = {}  # by file: its stat and its links (records.per_file)


def _links(source: Path) -> list[tuple[int, str, str]]:
    """(line, kind, as written) of each link in `source`, read again only when the file changed."""
    return records.per_file(_written, source, _read_links)


def _read_links(source: Path) -> list[tuple[int, str, str]]:
    text = source.read_text(encoding="utf-8-sig", errors="replace")
    return [
        (number, match["what"], match["path"])
        for number, line in enumerate(lines(text), start=1)
        for match in _LINK.finditer(line)
    ]


def targets(source: Path, root: Path) -> list[tuple[int, str, str, Path | None]]:
    """(line, kind, as written, resolved file or None when outside the content folder) for each link in `source`;
    each one resolved afresh (a link's target may have become a symlink since)."""
    found = []
    for number, what, written in _links(source):
        name = unquote(re.split(r"[?#]", written, maxsplit=1)[0])
        base = Path(root).resolve() if name.startswith("/") else source.absolute().parent
        found.append((number, what, written, paths.inside(root, name.lstrip("/"), base)))
    return found


def link_problems(catalog: Catalog, now: datetime, preview: bool = False) -> list[Problem]:
    """Links out of the content folder, always; in a public build, public pages' links to what is hidden at `now`."""
    root = catalog.root
    resolve = cache(Path.resolve)  # the same few pictures are in hundreds of releases
    hidden_releases = {resolve(r.source): r for r in catalog.releases if not is_public(r, now)}
    public = [r for r in catalog.releases if is_public(r, now)]
    shown = {resolve(a.path) for r in public for a in r.attachments} | {
        resolve(i.path) for r in public for i in r.images
    }
    shown |= {resolve(c.photo.path) for c in catalog.contacts.values() if c.photo}
    hidden_files = {resolve(a.path): r for r in hidden_releases.values() for a in r.attachments}
    hidden_files |= {resolve(i.path): r for r in hidden_releases.values() for i in r.images}
    sources = [r.source for r in catalog.releases] + sorted((Path(root) / "pages").rglob("*.md"))
    problems = []
    for source in sources:
        release = catalog.release_at(source)
        page_is_public = release is None or is_public(release, now)
        for line, what, written, target in targets(source, root):
            if target is None:
                problems.append(Problem(source, line, "", f"links to {paths.outside_message(written, root)}"))
                continue
            if preview or not page_is_public:
                continue
            owner = hidden_releases.get(target) or (hidden_files.get(target) if target not in shown else None)
            if owner is not None:
                problems.append(
                    Problem(
                        source,
                        line,
                        "",
                        f"links ({{{what}}}) to {written}, which belongs to {owner.source} ({state(owner, now)}, not "
                        f"public until {'it is published' if owner.status == 'draft' else owner.date.isoformat()}); "
                        "a public page may not name it: remove the link, or publish both together",
                    )
                )
    return problems
