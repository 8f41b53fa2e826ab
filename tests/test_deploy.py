"""Deploying a finished build: killed deploys leave the live site whole and only whole copies are kept."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsroom.core.settings import DEFAULTS
from newsroom.publishing.deploy import KEEP_RELEASES, deploy
from sitebuilder import ROOT, release, removals_done, write_content
from smtpsink import free_port

FILES = 3000


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _big_build(folder: Path) -> Path:
    """A stand-in for a large public build: thousands of pages, so a deploy takes long enough to be killed."""
    for n in range(FILES):
        page = folder / f"p{n // 100:02d}" / f"{n:04d}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<!doctype html><title>{n}</title>" + "x" * 4000 + "</html>\n", encoding="utf-8")
    return folder


def _deploy_command(output: Path, target: Path) -> list[str]:
    return [sys.executable, "-m", "newsroom.cli", "deploy", "--output", str(output), "--target", str(target)]


def _kill_mid_copy(output: Path, target: Path) -> None:
    """Start a deploy and SIGKILL it once its copy holds some, but not all, of the files."""
    releases = target.parent / f".{target.name}.releases"
    before = set(releases.iterdir())
    process = subprocess.Popen(_deploy_command(output, target), cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fresh = [p for p in releases.iterdir() if p not in before]
            if fresh and 50 < sum(1 for _ in fresh[0].rglob("*.html")) < FILES // 2:
                break
            time.sleep(0.002)
        else:
            raise AssertionError("the deploy never started copying")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def test_killed_deploys_leave_the_site_whole_and_only_whole_copies_are_kept(tmp_path):
    output = _big_build(tmp_path / "build")
    target = tmp_path / "site"
    expected = _files(output)
    for _ in range(KEEP_RELEASES + 1):
        deploy(output, str(target))
    removals_done()  # a deploy removes the copies it no longer keeps in a thread
    releases = tmp_path / ".site.releases"
    whole_before = sorted(releases.iterdir())
    for _ in range(3):
        _kill_mid_copy(output, target)
        assert _files(target) == expected  # the live site is the last whole copy throughout
    finished = subprocess.run(_deploy_command(output, target), cwd=ROOT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    kept = sorted(releases.iterdir())
    assert len(kept) == KEEP_RELEASES + 1
    assert all(_files(copy) == expected for copy in kept), [p.name for p in kept]
    assert kept[:-1] == whole_before[-KEEP_RELEASES:]  # the earlier whole copies were not pushed out
    assert os.path.realpath(target) == str(kept[-1])


def test_the_nginx_root_in_the_docs_is_the_deploy_target():
    """The web server must serve the symlink publish swaps (NEWSROOM_DEPLOY), not a folder inside it."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    roots = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        targets = set(re.findall(r"NEWSROOM_DEPLOY=(/[^\s`]+)", text))  # a page that names its own target
        roots += [(page.name, m.group(1), targets) for m in re.finditer(r"^\s*root\s+(\S+?);", text, re.MULTILINE)]
    assert roots
    for page, root, targets in roots:
        assert root in targets or root.endswith("/" + str(DEFAULTS["NEWSROOM_DEPLOY"])), f"{page}: root {root}"


NOW = "2026-02-15T12:00+02:00"


def _publish(content: Path, target: Path, state: Path, *extra: str, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "newsroom.cli", *extra, "publish", "--content", str(content), "--now", NOW]
        + ["--target", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NEWSROOM_STATE_DIR": str(state), **(env or {})},
        timeout=300,
    )


def test_publish_builds_again_when_a_setting_a_settings_file_or_the_theme_changes(tmp_path):
    content = write_content(tmp_path / "content", {"a.fi.md": release("Kevään avoimet ovet", "2026-02-01 09:00")})
    target, state = tmp_path / "site", tmp_path / "state"
    subscribe_page = target / "fi" / "subscribe" / "index.html"

    def published(*extra: str, env: dict | None = None) -> bool:
        result = _publish(content, target, state, *extra, env=env)
        assert result.returncode == 0, result.stderr
        return "Published to" in result.stdout

    assert published()
    assert not published()  # nothing changed: nothing is built
    other = {"NEWSROOM_SUBSCRIBE_URL": "https://tilaus.testila.example/s"}
    assert published(env=other)
    assert "https://tilaus.testila.example/s/subscribe" in subscribe_page.read_text(encoding="utf-8")
    assert not published(env=other)
    settings = tmp_path / "conf.py"
    settings.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom publishconf import *  # noqa\n"
        f"THEME = {str(ROOT / 'theme')!r}\nNEWSROOM_FEED_MAX_ITEMS = 7\n",
        encoding="utf-8",
    )
    assert published("--settings", str(settings), env=other)
    assert not published("--settings", str(settings), env=other)
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    settings.write_text(settings.read_text(encoding="utf-8").replace(repr(str(ROOT / "theme")), repr(str(theme))))
    assert published("--settings", str(settings), env=other)  # another theme folder
    assert not published("--settings", str(settings), env=other)
    footer = theme / "templates" / "base.html"
    footer.write_text(footer.read_text(encoding="utf-8").replace("</body>", "<!-- muutettu --></body>"))
    assert published("--settings", str(settings), env=other)
    assert "<!-- muutettu -->" in subscribe_page.read_text(encoding="utf-8")


# --- rsync over SSH, against a real OpenSSH server on loopback ------------------------------------------------


@dataclass
class Sshd:
    port: int
    ssh: str  # the ssh command deploy is told to use (NEWSROOM_DEPLOY_SSH)
    user: str


@pytest.fixture
def sshd(tmp_path):
    """Debian's sshd on a free port, as the current user, with its own host key and authorized key in tmp_path."""
    if not Path("/usr/sbin/sshd").exists() or not shutil.which("rsync"):
        pytest.fail("openssh-server and rsync are needed: run 'make test' once, it installs them")
    keys = tmp_path / "ssh"
    keys.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
    (keys / "authorized_keys").write_text((keys / "client_key.pub").read_text())
    port = free_port()
    (keys / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host_key'}\nPidFile {keys / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder, as Debian makes it
    daemon = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(keys / "sshd_config")], stderr=open(keys / "log", "w")
    )
    ssh = (
        f"ssh -F /dev/null -i {keys / 'client_key'} -o BatchMode=yes -o IdentitiesOnly=yes "
        f"-o UserKnownHostsFile={keys / 'known_hosts'} -o StrictHostKeyChecking=accept-new"
    )
    user = pwd.getpwuid(os.geteuid()).pw_name
    deadline = time.monotonic() + 30
    while subprocess.run([*ssh.split(), "-p", str(port), f"{user}@127.0.0.1", "true"]).returncode != 0:
        assert daemon.poll() is None and time.monotonic() < deadline, (keys / "log").read_text()
        time.sleep(0.2)
    yield Sshd(port, ssh, user)
    daemon.terminate()
    daemon.wait(10)


def _page_text(folder: Path) -> set[str]:
    return {p.read_text(encoding="utf-8")[:40] for p in folder.rglob("*.html")}


def test_publish_builds_among_the_deploy_copies_and_the_deploy_copies_nothing(tmp_path):
    """The build of a local publish is made in the target's folder of copies: the deploy links it as it is, and the
    next build keeps its unchanged files from it (hard links); a build that fails leaves every link as it was."""
    content = write_content(tmp_path / "content", {"a.fi.md": release("Kevään avoimet ovet", "2026-02-01 09:00")})
    target, state = tmp_path / "site", tmp_path / "state"
    releases = tmp_path / ".site.releases"

    def copies() -> set[str]:
        return {p.name for p in releases.iterdir() if not p.name.startswith(".")}

    assert _publish(content, target, state).returncode == 0
    first = target.resolve()
    assert (state / "build").resolve() == first and copies() == {first.name}  # one copy: the build itself
    (content / "releases" / "b.fi.md").write_text(
        release("Syksyn kirjastopäivä", "2026-02-10 09:00", release_id="r2"), encoding="utf-8"
    )
    result = _publish(content, target, state)
    assert result.returncode == 0, result.stderr
    second = target.resolve()
    assert second != first and (state / "build").resolve() == second and copies() == {first.name, second.name}
    assert "Syksyn kirjastopäivä" in (second / "fi" / "index.html").read_text(encoding="utf-8")
    assert "Syksyn kirjastopäivä" not in (first / "fi" / "index.html").read_text(encoding="utf-8")  # never written to
    shared = [p for p in second.rglob("*") if p.is_file() and (first / p.relative_to(second)).is_file()]
    assert shared and any((first / p.relative_to(second)).stat().st_ino == p.stat().st_ino for p in shared)
    (content / "releases" / "c.fi.md").write_text("Title: Rikki\n\nNo date, no type.\n", encoding="utf-8")
    failed = _publish(content, target, state)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert (
        target.resolve() == second and (state / "build").resolve() == second and copies() == {first.name, second.name}
    )
    assert not any(p.name.endswith(".building") for p in releases.iterdir())


def test_rsync_deploy_over_ssh_survives_a_kill_mid_transfer(sshd, tmp_path):
    first = _big_build(tmp_path / "first")
    second = _big_build(tmp_path / "second")
    for page in second.rglob("*.html"):
        page.write_text(page.read_text(encoding="utf-8").replace("<title>", "<title>new "), encoding="utf-8")
    (second / "only-new.html").write_text("<!doctype html><title>new</title></html>\n", encoding="utf-8")
    live = tmp_path / "srv" / "site"
    target = f"rsync://{sshd.user}@127.0.0.1:{sshd.port}{live}"
    env = {**os.environ, "NEWSROOM_DEPLOY_SSH": sshd.ssh}
    command = [sys.executable, "-m", "newsroom.cli", "deploy", "--target", target, "--output"]
    done = subprocess.run([*command, str(first)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert live.is_symlink() and _files(live) == _files(first)
    releases = live.parent / ".site.releases"
    for _ in range(2):
        process = subprocess.Popen([*command, str(second)], cwd=ROOT, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not any(sum(1 for _ in p.rglob("*.html")) > 50 for p in releases.glob("*.partial") if p.is_dir()):
                assert time.monotonic() < deadline and process.poll() is None, "the transfer never started"
                time.sleep(0.005)
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # newsroom, rsync and ssh together
            process.wait()
        assert _files(live) == _files(first) and _page_text(live) == _page_text(first)  # the old site, whole
    done = subprocess.run([*command, str(second)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _files(live) == _files(second) and _page_text(live) == _page_text(second)
    kept = sorted(releases.iterdir())
    assert not [p for p in kept if p.name.endswith(".partial")]
    assert all(_files(p) in (_files(first), _files(second)) for p in kept)
