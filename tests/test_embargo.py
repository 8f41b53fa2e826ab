"""Embargo and drafts: nothing unpublished in any output file, preview marked, publish audited and atomic."""

from __future__ import annotations

import gzip
import hashlib
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from newsroom.publishing.deploy import DeployError, deploy
from runcli import newsroom
from sitebuilder import ROOT, Site, build_site, release, removals_done, write_content

BEFORE = "2026-02-15T12:00+02:00"
AFTER = "2026-03-30T12:00+03:00"
SECRETS = {"kuukivi": "draft", "tähtisumu": "embargoed", "norrsken": "embargoed sv", "kevätyö": "dst"}

FILES = {
    "public.fi.md": release(
        "Julkinen aurinkokukka",
        "2026-02-01 09:00",
        release_id="shared",
        Images="red-square",
        Keywords="yhteinen",
        body="Tässä tekstissä kerrotaan aurinkokukka asiasta kaikille lukijoille.",
    ),
    "public.sv.md": release(
        "Hemlig norrsken",
        "2026-03-01 09:00",
        lang="sv",
        release_id="shared",
        Images="red-square",
        Keywords="gemensam",
        body="Denna text berättar om norrsken för alla läsare i staden.",
    ),
    "draft.fi.md": release(
        "Luonnos kuukivi",
        "2026-01-05 09:00",
        release_id="draft",
        Status="draft",
        Images="draft-photo",
        Keywords="yhteinen",
        body="Luonnoksen teksti kertoo kuukivi hankkeesta hyvin tarkasti.",
    ),
    "embargo.fi.md": release(
        "Embargo tähtisumu",
        "2026-03-01 09:00",
        release_id="embargo",
        Images="embargo-photo",
        Attachments="embargo.pdf",
        Keywords="yhteinen",
        body="Salainen teksti kertoo tähtisumu suunnitelmasta ennen julkaisua.",
    ),
    "dst.fi.md": release(
        "Kevätyö julkaisu",
        "2026-03-29T04:30+03:00",
        release_id="dst",
        body="Yöllinen teksti kevätyö kertoo kellojen siirrosta kaikille.",
    ),
}
EXTRA = {"attachments/embargo.pdf": "%PDF-1.4 tähtisumu liite\n", "attachments/embargo.yaml": "title: Tähtisumu\n"}


def _image(content: Path, name: str, colour: str) -> None:
    Image.new("RGB", (40, 30), colour).save(content / "images" / f"{name}.png")
    (content / "images" / f"{name}.yaml").write_text(
        "alt:\n  fi: Kuva\n  sv: Bild\n  en: Picture\nphotographer: X\nlicence: CC0\n", encoding="utf-8"
    )


@pytest.fixture(scope="module")
def content(tmp_path_factory) -> Path:
    root = write_content(tmp_path_factory.mktemp("embargo") / "content", FILES, EXTRA)
    _image(root, "draft-photo", "blue")
    _image(root, "embargo-photo", "green")
    return root


@pytest.fixture(scope="module")
def before(content, tmp_path_factory) -> Site:
    return build_site(content, tmp_path_factory.mktemp("before") / "out", publish=True, now=BEFORE)


@pytest.fixture(scope="module")
def after(content, tmp_path_factory) -> Site:
    return build_site(content, tmp_path_factory.mktemp("after") / "out", publish=True, now=AFTER)


def _found(site: Site, needle: bytes) -> list[Path]:
    hits = []
    for path in site.files():
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if needle in data.lower():
            hits.append(path)
    return hits


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("word", SECRETS)
def test_nothing_unpublished_appears_in_any_file_before_the_embargo(before, word):
    assert _found(before, word.encode()) == []


def test_public_version_is_there_while_its_translation_is_embargoed(before):
    page = before.html("fi/releases/julkinen-aurinkokukka/")
    assert [link["hreflang"] for link in page.select("link[rel=alternate][hreflang]")] == ["fi"]
    assert _found(before, b"aurinkokukka")


def test_unpublished_images_attachments_and_sources_are_not_copied(before, content):
    names = {p.name for p in before.files()}
    assert "red-square.png" in names
    assert not {"draft-photo.png", "embargo-photo.png", "embargo.pdf"} & names
    secret_digests = {
        _digest(content / "images" / "embargo-photo.png"),
        _digest(content / "images" / "draft-photo.png"),
    }
    assert not secret_digests & {_digest(p) for p in before.files()}
    assert not [p for p in before.files() if p.suffix == ".md"]


def test_everything_public_appears_after_the_embargo_but_not_the_draft(after):
    assert after.html("fi/releases/embargo-tahtisumu/").h1.get_text() == "Embargo tähtisumu"
    assert (after.output / "images/embargo-photo.png").exists() and (after.output / "attachments/embargo.pdf").exists()
    assert after.html("sv/releases/hemlig-norrsken/").h1.get_text() == "Hemlig norrsken"
    keyword = [a.get_text() for a in after.html("fi/keyword/yhteinen/").select(".release-card__title a")]
    assert keyword == ["Embargo tähtisumu", "Julkinen aurinkokukka"]
    assert _found(after, "kevätyö".encode())
    assert _found(after, b"kuukivi") == []


@pytest.mark.parametrize(
    "now, public",
    [
        ("2026-03-29T04:29+03:00", False),
        ("2026-03-29T04:30+03:00", True),
        ("2026-03-29T01:30:00+00:00", True),
        ("2026-03-29T03:29+02:00", False),
    ],
)
def test_embargo_on_the_night_clocks_change(content, tmp_path, now, public):
    site = build_site(content, tmp_path / "out", publish=True, now=now)
    assert (site.output / "fi/releases/kevatyo-julkaisu/index.html").exists() is public


def test_stale_files_of_an_earlier_build_are_removed(content, tmp_path):
    build_site(content, tmp_path / "out", publish=True, now=AFTER)
    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    assert _found(site, "tähtisumu".encode()) == []


def test_audit_fails_on_a_planted_leak_naming_file_and_release(content, tmp_path):
    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    clean = newsroom("audit", "--content", str(content), "--output", str(site.output), "--now", BEFORE)
    assert clean.returncode == 0, clean.stdout
    (site.output / "fi" / "leak.html").write_text("<p>Embargo t&auml;htisumu Embargo tähtisumu</p>", encoding="utf-8")
    (site.output / "index.pf_fragment").write_bytes(
        gzip.compress("x Salainen teksti kertoo tähtisumu suunnitelmasta ennen y".encode())
    )
    with zipfile.ZipFile(site.output / "fi" / "images.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("credits.txt", "Luonnos kuukivi: kuva X")
    (site.output / "images" / "draft-photo").mkdir(parents=True)
    (site.output / "images" / "draft-photo" / "draft-photo-w480.webp").write_bytes(b"RIFF")
    leaked = newsroom("audit", "--content", str(content), "--output", str(site.output), "--now", BEFORE)
    assert leaked.returncode == 1
    assert f"{site.output / 'fi' / 'images.zip'}: contains 'Luonnos kuukivi'" in leaked.stdout
    assert (
        f"{site.output / 'images' / 'draft-photo' / 'draft-photo-w480.webp'}: is image 'draft-photo'" in leaked.stdout
    )
    lines = [line for line in leaked.stdout.splitlines() if "not public yet" in line]
    assert any(line.startswith(str(site.output / "fi" / "leak.html")) and "embargo.fi.md" in line for line in lines)
    assert any(line.startswith(str(site.output / "index.pf_fragment")) for line in lines)


def test_preview_shows_everything_marked_noindex_and_cannot_be_deployed(content, tmp_path):
    result = newsroom("preview", "--content", str(content), "--output", str(tmp_path / "preview"), "--now", BEFORE)
    assert result.returncode == 0, result.stderr
    site = Site(content, tmp_path / "preview")
    banner = site.html("fi/releases/embargo-tahtisumu/").select_one(".embargo-banner").get_text(strip=True)
    assert banner == "Embargo päättyy 01.03.2026 09:00 EET"
    assert (
        site.html("sv/releases/hemlig-norrsken/").select_one(".embargo-banner").get_text(strip=True)
        == "Embargo till 01.03.2026 09:00 EET"
    )
    assert site.html("fi/releases/luonnos-kuukivi/").select_one(".embargo-banner").get_text(strip=True) == (
        "Luonnos: ei julkaistu"
    )
    assert site.html("fi/releases/julkinen-aurinkokukka/").select_one(".embargo-banner") is None
    for page in site.output.rglob("*.html"):
        soup = site.html(str(page.relative_to(site.output)))
        assert soup.select_one("meta[name=robots]")["content"].startswith("noindex"), page
    with pytest.raises(DeployError, match="preview"):
        deploy(site.output, str(tmp_path / "public"))
    refused = newsroom("deploy", "--output", str(site.output), "--target", str(tmp_path / "public"))
    assert refused.returncode == 1 and "preview" in refused.stderr
    assert not (tmp_path / "public").exists()


def test_publish_deploys_reports_news_and_is_cheap_when_nothing_changed(content, tmp_path):
    env = {"NEWSROOM_STATE_DIR": str(tmp_path / "state")}
    target = str(tmp_path / "site")
    first = newsroom("publish", "--content", str(content), "--now", BEFORE, "--target", target, env=env)
    assert first.returncode == 0, first.stderr
    assert "now public: Julkinen aurinkokukka (fi)" in first.stdout
    assert (
        "Next embargo lifts 01.03.2026 09:00:00 EET: Embargo tähtisumu" in first.stdout
        or "Next embargo lifts 01.03.2026 09:00:00 EET: Hemlig norrsken" in first.stdout
    )
    assert Path(target).is_symlink() and (Path(target) / "fi/releases/julkinen-aurinkokukka/index.html").exists()
    again = newsroom("publish", "--content", str(content), "--now", BEFORE, "--target", target, env=env)
    assert again.returncode == 0 and "Nothing new to publish" in again.stdout
    later = newsroom("publish", "--content", str(content), "--now", AFTER, "--target", target, env=env)
    assert "now public: Embargo tähtisumu (fi)" in later.stdout and "now public: Hemlig norrsken (sv)" in later.stdout
    assert "Julkinen aurinkokukka" not in later.stdout
    assert (Path(target) / "fi/releases/embargo-tahtisumu/index.html").exists()
    nxt = newsroom("next-embargo", "--content", str(content), "--now", BEFORE)
    assert nxt.stdout.strip() == "2026-03-01T09:00:00+02:00"


# Every call that could remove, replace or create a name on the deploy path.
_MUTATIONS = ("rename", "replace", "symlink", "link", "unlink", "remove", "rmdir", "removedirs", "renames")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_deploy_swaps_the_live_site_in_one_rename_and_the_live_path_is_never_absent(
    tmp_path, monkeypatch, before, after
):
    target = tmp_path / "site"
    deploy(before.output, str(target))
    real = {name: getattr(os, name) for name in _MUTATIONS}
    calls: list[tuple[str, tuple]] = []
    seen: set[str] = set()  # the folders the live link pointed to

    def live_site() -> str:
        assert os.path.islink(target), f"{target} is absent or not a link after {calls}"
        points = os.readlink(target)
        assert (Path(points) / "fi" / "index.html").is_file(), f"{target} points at an incomplete folder"
        return points

    def traced(name: str):
        def call(*args, **kwargs):
            seen.add(live_site())
            calls.append((name, args))
            if name in ("rename", "replace") and Path(args[1]) == target:
                # The one step readers see: the new folder is complete before the link moves onto it.
                assert _files(Path(os.readlink(args[0]))) == _files(after.output)
            result = real[name](*args, **kwargs)
            seen.add(live_site())
            return result

        return call

    for name in _MUTATIONS:
        monkeypatch.setattr(os, name, traced(name))
    old = os.readlink(target)
    deploy(after.output, str(target))
    monkeypatch.undo()

    # One call touched the live path itself (none removed it first): the replace of the new link onto it.
    assert [name for name, args in calls if Path(str(args[-1])) == target] == ["replace"], calls
    new = os.readlink(target)
    assert seen == {old, new} and old != new  # readers saw the old site, then the new one, and nothing else
    assert _files(target) == _files(after.output)


def test_deploy_keeps_the_last_releases_beside_the_live_one(tmp_path, before, after):
    target = tmp_path / "site"
    for _ in range(4):
        deploy(after.output, str(target))
        deploy(before.output, str(target))
    removals_done()
    kept = sorted((tmp_path / ".site.releases").iterdir())
    assert len(kept) == 4 and Path(os.readlink(target)) == kept[-1]
    assert _files(target) == _files(before.output)


def test_a_second_publish_while_one_runs_does_nothing(content, tmp_path):
    import fcntl

    state = tmp_path / "state"
    state.mkdir()
    with (state / "publish.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = newsroom(
            "publish",
            "--content",
            str(content),
            "--now",
            BEFORE,
            "--target",
            str(tmp_path / "site"),
            env={"NEWSROOM_STATE_DIR": str(state)},
        )
    assert busy.returncode == 1 and "another 'newsroom publish' is running" in busy.stderr
    assert not (tmp_path / "site").exists() and not (state / "build").exists()


def test_a_builds_audit_reads_again_only_files_changed_since_it_found_them_clean(content, tmp_path):
    from newsroom.build.audit import audit
    from newsroom.build.run import AUDITED, BuildOptions, load_settings
    from newsroom.content.catalog import catalog_for
    from newsroom.core.embargo import hidden_images, unpublished

    site = build_site(content, tmp_path / "out", publish=True, now=BEFORE)
    settings = load_settings(BuildOptions(ROOT / "publishconf.py", content, site.output, BEFORE))
    record = Path(settings["CACHE_PATH"]) / AUDITED
    catalog, now = catalog_for(settings), settings["NEWSROOM_NOW"]
    hidden = unpublished(catalog, now)
    assert record.is_file()  # the build's audit found the output clean and noted its files
    page = site.output / "fi" / "index.html"
    text = page.read_text(encoding="utf-8")
    leak = "Embargo tähtisumu"  # the embargoed release's title
    # A new file, and a page whose size changed, are read again: the leak is found.
    (site.output / "fi" / "planted.html").write_text(f"<p>{leak}</p>", encoding="utf-8")
    found = audit(site.output, settings, hidden, hidden_images(catalog, now), record)
    assert {leak_.file.name for leak_ in found} == {"planted.html"}
    (site.output / "fi" / "planted.html").unlink()
    stamp = page.stat()
    # Same size, same time: taken as the clean file it was (a build never writes a file that way);
    # an audit without the record, or for other secrets, reads it.
    planted = text.replace(text[100 : 100 + len(leak.encode())], leak, 1)
    assert len(planted.encode()) == len(text.encode())
    page.write_text(planted, encoding="utf-8")
    os.utime(page, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert audit(site.output, settings, hidden, hidden_images(catalog, now), record) == []
    assert [leak_.file for leak_ in audit(site.output, settings, hidden, hidden_images(catalog, now))] == [page]
    other_secrets = hidden_images(catalog, now) | {"another-image"}
    assert [leak_.file for leak_ in audit(site.output, settings, hidden, other_secrets, record)] == [page]
