"""A rebuild into the same folder keeps the pages whose inputs did not change, and its output is byte for byte what
a fresh build of the same content makes, whatever changed in between."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsroom.build import pagecache
from sitebuilder import build_site, release, write_content

NOW = "2026-03-10T12:00+02:00"
LATER = "2026-03-20T12:00+02:00"
RELEASES = {
    **{
        f"r{n:02}.fi.md": release(
            f"Tiedote {n}",
            f"2026-02-{n + 1:02} 09:00",
            release_id=f"r{n:02}",
            Keywords="satama" if n % 2 else "kirjastot, satama",
            body=f"Tiedotteen {n} teksti.",
        )
        for n in range(12)
    },
    "r00.sv.md": release("Meddelande 0", "2026-02-01 09:00", lang="sv", release_id="r00", Keywords="hamn"),
    "r11.sv.md": release("Meddelande 11", "2026-03-15 09:00", lang="sv", release_id="r11", Keywords="hamn"),
}


PAGES = ("", "page/2/", "page/3/", "page/4/", "page/5/")  # a listing's pages, as PAGINATION_PATTERNS names them


def _pages(output: Path) -> dict[str, bytes]:
    return {str(p.relative_to(output)): p.read_bytes() for p in sorted(output.rglob("*.html"))}


def _stamps(output: Path) -> dict[str, int]:
    return {str(p.relative_to(output)): p.stat().st_mtime_ns for p in output.rglob("*.html")}


@pytest.fixture
def content(tmp_path) -> Path:
    return write_content(tmp_path / "content", RELEASES)


def test_a_rebuild_with_nothing_changed_keeps_every_release_and_listing_page(content, tmp_path):
    output = tmp_path / "out"
    build_site(content, output, now=NOW)
    before = _stamps(output)
    build_site(content, output, now=NOW)
    after = _stamps(output)
    kept = {page for page in before if before[page] == after[page]}
    assert {p for p in before if "/releases/" in p or p in ("fi/index.html", "fi/page/2/index.html")} <= kept
    assert "fi/contacts/index.html" not in kept  # pages without a key are rendered every time


@pytest.mark.parametrize("change", ["new release", "lead", "contact", "clock", "setting"])
def test_a_rebuild_after_a_change_equals_a_fresh_build(content, tmp_path, change):
    output = tmp_path / "out"
    build_site(content, output, now=NOW)
    now, settings = NOW, {}
    if change == "new release":  # the newest: every "more from the publisher" and the front listing change
        (content / "releases" / "new.fi.md").write_text(
            release("Uusin tiedote", "2026-03-09 08:00", release_id="new", Keywords="satama"), encoding="utf-8"
        )
    elif change == "lead":  # of a release in other pages' "more" and in listings
        path = content / "releases" / "r10.fi.md"
        path.write_text(
            path.read_text(encoding="utf-8").replace("Lead of Tiedote 10.", "Korjattu johdanto."), encoding="utf-8"
        )
    elif change == "contact":  # shown on every release page
        path = content / "contacts" / "ville-virtanen.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("555 0150", "555 0199"), encoding="utf-8")
    elif change == "clock":  # the Swedish version comes out: the Finnish page gains its language link
        now = LATER
    elif change == "setting":
        settings = {"NEWSROOM_MORE_COUNT": 2}
    build_site(content, output, now=now, settings=settings)
    fresh = build_site(content, tmp_path / "fresh", now=now, settings=settings).output
    rebuilt, expected = _pages(output), _pages(fresh)
    assert sorted(rebuilt) == sorted(expected)
    assert [page for page in expected if rebuilt[page] != expected[page]] == []
    # And the change shows where it should (the rebuild did not simply keep the old pages).
    page, marker = {
        "new release": ("tiedote-3", "Uusin tiedote"),
        "lead": ("tiedote-3", "Korjattu johdanto."),
        "contact": ("tiedote-3", "555 0199"),
        "clock": ("tiedote-11", "sv/releases/meddelande-11/"),
        "setting": ("tiedote-3", "tiedote-9/"),
    }[change]
    assert (marker in rebuilt[f"fi/releases/{page}/index.html"].decode()) is (change != "setting")


def _files(output: Path, search: bool = True) -> dict[str, bytes]:
    """Every file of a build (`search` False: but the search index, whose file names Pagefind does not keep stable)."""
    return {
        str(p.relative_to(output)): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file() and (search or not str(p.relative_to(output)).startswith("pagefind"))
    }


def test_a_kept_page_cannot_carry_a_hidden_release_into_a_public_build(content, tmp_path):
    """A warm folder last built at a later moment (as the publisher's prebuild folder is, for a later lift), when an
    embargoed release was public: a build for a moment before its embargo keeps pages from it, yet no file shows the
    release's title or address, every file is what a fresh build makes, and the last output's files (which a deployed
    copy shares by hard links) are as they were."""
    title, slug = "Salainen satamatiedote", "salainen-satamatiedote"
    (content / "releases" / "secret.fi.md").write_text(
        release(title, "2026-03-15 10:00", release_id="secret", Keywords="satama", body="Salaisen tiedotteen teksti."),
        encoding="utf-8",
    )
    output = tmp_path / "out"
    warm = {"DELETE_OUTPUT_DIRECTORY": False}  # as the publisher's builds are
    build_site(content, output, publish=True, now=LATER, settings=warm)
    last = _files(output)
    assert title in last["fi/index.html"].decode() and title in last["fi/releases/tiedote-3/index.html"].decode()
    deployed = tmp_path / "deployed"  # hard links to the last output, as a deploy makes them
    for name in last:
        (deployed / name).parent.mkdir(parents=True, exist_ok=True)
        (deployed / name).hardlink_to(output / name)
    kept_before = _stamps(output)

    build_site(content, output, publish=True, now=NOW, settings=warm)

    rebuilt = _files(output)
    shows = sorted(name for name, data in rebuilt.items() if title.encode() in data or slug.encode() in data)
    assert shows == []
    assert not (output / "fi" / "releases" / slug).exists()
    fresh = _files(build_site(content, tmp_path / "fresh", publish=True, now=NOW).output, search=False)
    rebuilt = _files(output, search=False)
    differ = sorted(name for name in fresh if rebuilt.get(name) != fresh[name] and name != "newsroom-manifest.json")
    missing, extra = sorted(set(fresh) - set(rebuilt)), sorted(set(rebuilt) - set(fresh))
    assert missing == [] and extra == [] and differ == []
    kept = [page for page, stamp in _stamps(output).items() if kept_before.get(page) == stamp]
    assert "fi/keyword/kirjastot/index.html" in kept  # a listing without the release: kept from the last build
    assert _files(deployed) == last  # nothing was written into a file the last output shares


def test_a_quick_build_keeps_outdated_more_lists_only_while_all_they_show_is_public(content, tmp_path):
    """The publisher's quick build (DEFER_MORE) after a new release rewrites no other release page: their "more from
    the publisher" is one release behind until the next build, which makes what a fresh build makes. A list that
    shows a release hidden since is rewritten at once."""
    output, cache = tmp_path / "out", tmp_path / ".out-cache"  # the cache beside the output (load_settings)
    warm = {"DELETE_OUTPUT_DIRECTORY": False, "DEFAULT_PAGINATION": 3}  # 12 Finnish releases: 4 pages a listing
    quick = {**warm, pagecache.DEFER_MORE: True}
    build_site(content, output, publish=True, now=NOW, settings=quick)
    (content / "releases" / "new.fi.md").write_text(
        release("Uusin tiedote", "2026-03-09 08:00", release_id="new", Keywords="satama"), encoding="utf-8"
    )
    before = _stamps(output)

    build_site(content, output, publish=True, now=NOW, settings=quick)

    pages, after = _pages(output), _stamps(output)
    assert "Uusin tiedote" in pages["fi/releases/uusin-tiedote/index.html"].decode()
    assert "Uusin tiedote" in pages["fi/index.html"].decode()
    assert "Uusin tiedote" not in pages["fi/releases/tiedote-3/index.html"].decode()
    assert before["fi/releases/tiedote-3/index.html"] == after["fi/releases/tiedote-3/index.html"]  # a link, kept
    # The listings the release joins (front, type, keyword "satama"): the first page and the last two are new, the
    # pages between are kept; "kirjastot" does not list it and is kept whole.
    for listing in ("fi/", "fi/type/press-release/", "fi/keyword/satama/"):
        assert [before.get(f"{listing}{n}index.html") == after[f"{listing}{n}index.html"] for n in PAGES] == [
            False,
            True,
            True,
            False,
            False,
        ], listing
    assert before["fi/keyword/kirjastot/page/2/index.html"] == after["fi/keyword/kirjastot/page/2/index.html"]
    # The other Finnish release pages and 3 listings (the media bank shows no picture: it is up to date as it is).
    assert pagecache.deferred({"CACHE_PATH": str(cache)}) == 12 + 3

    build_site(content, output, publish=True, now=NOW, settings=warm)

    assert pagecache.deferred({"CACHE_PATH": str(cache)}) == 0
    fresh = _pages(build_site(content, tmp_path / "fresh", publish=True, now=NOW, settings=warm).output)
    rebuilt = _pages(output)
    assert [page for page in fresh if rebuilt.get(page) != fresh[page]] == [] and sorted(rebuilt) == sorted(fresh)
    assert "Uusin tiedote" in rebuilt["fi/releases/tiedote-3/index.html"].decode()

    # The newest release, listed on every other Finnish page, goes back to being a draft: a quick build rewrites them.
    path = content / "releases" / "new.fi.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Title:", "Status: draft\nTitle:"), encoding="utf-8")
    build_site(content, output, publish=True, now=NOW, settings=quick)
    shows = sorted(
        name for name, data in _files(output).items() if b"Uusin tiedote" in data or b"uusin-tiedote" in data
    )
    assert shows == []
    assert pagecache.deferred({"CACHE_PATH": str(cache)}) == 0


def test_a_quick_build_keeps_a_listing_page_only_while_every_release_on_it_is_public(content, tmp_path):
    """A new release and an older one back to draft in one quick build: the front listing has as many pages as
    before, and each page that showed the draft is rewritten, however far down the listing it is."""
    output = tmp_path / "out"
    quick = {"DELETE_OUTPUT_DIRECTORY": False, "DEFAULT_PAGINATION": 3, pagecache.DEFER_MORE: True}
    build_site(content, output, publish=True, now=NOW, settings=quick)
    before = _stamps(output)
    (content / "releases" / "new.fi.md").write_text(
        release("Uusin tiedote", "2026-03-09 08:00", release_id="new", Keywords="satama"), encoding="utf-8"
    )
    path = content / "releases" / "r05.fi.md"  # on the front listing's third page (newest first: 11 ... 0)
    path.write_text(path.read_text(encoding="utf-8").replace("Title:", "Status: draft\nTitle:"), encoding="utf-8")

    build_site(content, output, publish=True, now=NOW, settings=quick)

    after = _stamps(output)
    assert [before[f"fi/{n}index.html"] == after[f"fi/{n}index.html"] for n in PAGES[:4]] == [False, True, False, False]
    assert "fi/page/5/index.html" not in after
    shows = sorted(name for name, data in _files(output).items() if b"Tiedote 5<" in data or b"tiedote-5/" in data)
    assert shows == []


def test_a_quick_build_keeps_the_media_bank_only_while_all_it_shows_is_public(tmp_path):
    """The media bank names every release its pictures are in: a quick build after a new release keeps it as it
    was (the next build adds the release), and rewrites it when a release it names is hidden since."""
    pictured = {**RELEASES, "r03.fi.md": RELEASES["r03.fi.md"].replace("Contacts:", "Images: red-square\nContacts:")}
    content = write_content(tmp_path / "content", pictured)
    output, cache = tmp_path / "out", tmp_path / ".out-cache"
    quick = {"DELETE_OUTPUT_DIRECTORY": False, pagecache.DEFER_MORE: True}
    build_site(content, output, publish=True, now=NOW, settings=quick)
    assert "tiedote-3/" in _pages(output)["fi/media/index.html"].decode()
    (content / "releases" / "new.fi.md").write_text(
        release("Uusin tiedote", "2026-03-09 08:00", release_id="new", Images="red-square"), encoding="utf-8"
    )
    before = _stamps(output)

    build_site(content, output, publish=True, now=NOW, settings=quick)

    assert _stamps(output)["fi/media/index.html"] == before["fi/media/index.html"]
    assert "uusin-tiedote/" not in _pages(output)["fi/media/index.html"].decode()
    build_site(content, output, publish=True, now=NOW, settings={"DELETE_OUTPUT_DIRECTORY": False})
    assert "uusin-tiedote/" in _pages(output)["fi/media/index.html"].decode()
    assert pagecache.deferred({"CACHE_PATH": str(cache)}) == 0

    # Both releases with the picture back to drafts: the picture is no longer public, the quick build rewrites it.
    for name in ("new.fi.md", "r03.fi.md"):
        path = content / "releases" / name
        path.write_text(path.read_text(encoding="utf-8").replace("Title:", "Status: draft\nTitle:"), encoding="utf-8")
    build_site(content, output, publish=True, now=NOW, settings=quick)
    media = _pages(output)["fi/media/index.html"].decode()
    assert "red-square" not in media and "tiedote-3/" not in media
