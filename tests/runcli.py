"""Runs the `newsroom` command in the test's own process through `main(argv)`, as a shell would run it."""

from __future__ import annotations

import io
import logging
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from newsroom.cli import main
from sitebuilder import ROOT


@dataclass(frozen=True)
class Result:
    """What the command printed and its exit code, shaped like subprocess.CompletedProcess."""

    returncode: int
    stdout: str
    stderr: str


def newsroom(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Result:
    """`newsroom ARGS` in folder `cwd` with `env` added to the environment; argparse's exits become exit codes.

    Output is captured here rather than with capsys so that module-scoped fixtures can run commands too.
    """
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    level, before = root.level, Path.cwd()
    os.chdir(cwd)
    try:
        with mock.patch.dict(os.environ, env or {}), redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = 0 if exit_.code is None else exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(before)
        root.setLevel(level)
    return Result(code, out.getvalue(), err.getvalue())
