"""Runs the `newsroom` command in the test's own process through `main(argv)`, as a shell would run it."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from newsroom.cli import main
from sitebuilder import ROOT


@dataclass(frozen=True)
class Result:
    """What the command printed and its exit code, shaped like subprocess.CompletedProcess."""

    returncode: int
    stdout: str
    stderr: str


def newsroom(
    capsys: pytest.CaptureFixture[str], *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Result:
    """`newsroom ARGS` in folder `cwd` with `env` added to the environment; argparse's exits become exit codes."""
    capsys.readouterr()
    root = logging.getLogger()
    level, before = root.level, Path.cwd()
    os.chdir(cwd)
    try:
        with mock.patch.dict(os.environ, env or {}):
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = 0 if exit_.code is None else exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(before)
        root.setLevel(level)
    out, err = capsys.readouterr()
    return Result(code, out, err)
