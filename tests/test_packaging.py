"""`pip install` of the newsroom wheel into an empty virtual environment gives a working `newsroom` command.

Offline: the wheel is built from a copy of the checkout, and the runtime dependencies (requirements.txt) are
repacked as wheels from this environment's installed files, so pip resolves the pyproject.toml ranges against
exactly the pinned versions without reaching a package index.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import pytest

from newsroom.cli.main import parser
from sitebuilder import ROOT, SAMPLE_NOW

pytestmark = pytest.mark.slow

# Only the environment's own settings: no index, no local wheel folders of this machine.
PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
SOURCES = ("plugins", "theme", "pyproject.toml", "setup.py", "README.md")


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _repack(name: str, wheelhouse: Path) -> None:
    """A wheel of the installed distribution `name`: its files as its RECORD lists them, scripts left to pip."""
    dist = distribution(name)
    info = next(f for f in dist.files if f.name == "WHEEL" and f.parent.name.endswith(".dist-info"))
    tags = [
        line.split(":", 1)[1].strip().split("-") for line in info.read_text().splitlines() if line.startswith("Tag:")
    ]
    tag = "-".join(".".join(sorted({t[part] for t in tags})) for part in range(3))  # py2-none-any, py3-none-any
    stem = f"{re.sub(r'[-.]+', '_', dist.metadata['Name'])}-{dist.version}"
    skip = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    rows, record = [], f"{info.parent}/RECORD"
    with zipfile.ZipFile(wheelhouse / f"{stem}-{tag}.whl", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as wheel:
        for file in dist.files:
            path = str(file)
            if (
                path.startswith("..")
                or "__pycache__" in file.parts
                or (file.parent == info.parent and file.name in skip)
            ):
                continue
            data = Path(file.locate()).read_bytes()
            wheel.writestr(zipfile.ZipInfo.from_file(file.locate(), path), data)  # keeps the mode (pagefind's +x)
            rows.append((path, _digest(data), str(len(data))))
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([*rows, (record, "", "")])
        wheel.writestr(record, text.getvalue())


def _pins() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("==")[0].strip() for line in lines if "==" in line and not line.startswith("#")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtual environment with the newsroom wheel and nothing else it did not ask for."""
    root = tmp_path_factory.mktemp("packaging")
    source, wheelhouse = root / "source", root / "wheelhouse"
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.mo")} if copy is shutil.copytree else {}))  # fmt: skip
    wheelhouse.mkdir()
    pip = [sys.executable, "-m", "pip"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheelhouse), str(source)],
        capture_output=True,
        text=True,
        env=PIP_ENV,
    )
    assert built.returncode == 0, built.stderr
    for name in _pins():
        _repack(name, wheelhouse)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--find-links", str(wheelhouse), "newsroom"],
        capture_output=True,
        text=True,
        env=PIP_ENV,
    )
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def _run(bin_: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(bin_ / "newsroom"), *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_the_installed_package_is_not_the_checkout(installed):
    where = subprocess.run(
        [str(installed / "python"), "-c", "import newsroom; print(newsroom.__file__)"], capture_output=True, text=True
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.parent) and "site-packages" in where.stdout
    freeze = subprocess.run([str(installed / "pip"), "freeze"], capture_output=True, text=True, env=PIP_ENV).stdout
    assert {line.split("==")[0].lower() for line in freeze.split()} >= {"newsroom", "starlette", "uvicorn"}


def test_every_command_starts_the_subscription_service_included(installed, tmp_path):
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"subscriptions", "publish", "check"} <= set(commands)
    for command in commands:
        helped = _run(installed, command, "--help", cwd=tmp_path)
        assert helped.returncode == 0 and "usage: newsroom" in helped.stdout, (command, helped.stderr)
    serve = _run(installed, "subscriptions", "serve", "--help", cwd=tmp_path)
    assert serve.returncode == 0 and "--port" in serve.stdout, serve.stderr


def test_check_and_build_the_sample_with_the_theme_from_the_package(installed, tmp_path):
    """A newsroom folder with its own settings file and no theme folder: the installed theme and catalogs are used."""
    site = tmp_path / "newsroom"
    site.mkdir()
    shutil.copy(ROOT / "pelicanconf.py", site / "pelicanconf.py")
    shutil.copytree(ROOT / "content", site / "content")
    checked = _run(installed, "check", cwd=site)
    assert checked.returncode == 0 and checked.stdout.startswith("All good:"), checked.stdout + checked.stderr
    built = _run(installed, "build", "--now", SAMPLE_NOW, "--output", str(tmp_path / "out"), cwd=site)
    assert built.returncode == 0, built.stderr
    front = (tmp_path / "out" / "fi" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fi"' in front and "Tiedotteet" in front  # the Finnish catalog, compiled into the wheel
