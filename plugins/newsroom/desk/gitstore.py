"""Git as the desk's record: every save a commit with the writer as author, history and earlier versions of a file.

Git itself is run (subprocess), not a library's idea of it, so the history is exactly what `git log` shows a
developer working on the same repository.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

COMMITTER = ("Newsroom desk", "desk@newsroom.invalid")
_lock = threading.Lock()  # one save at a time: the check for a changed file and the commit happen together


class GitError(Exception):
    """Git refused or failed; the message is git's own, so it can be shown to the user and not swallowed."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str
    subject: str


def _git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C", **(env or {})},
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git could not be run: {exc}") from None
    if check and done.returncode != 0:
        raise GitError((done.stderr or done.stdout).strip() or f"git {args[0]} failed")
    return done.stdout


def toplevel(folder: Path) -> Path:
    """The repository holding the content folder; the desk will not run where nothing would be recorded."""
    try:
        return Path(_git(folder, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise GitError(
            f"{folder} is not in a git repository; run 'git init' there (the desk records every save as a commit)"
        ) from None


def save(repo: Path, files: dict[Path, str], message: str, author: tuple[str, str], also: tuple[Path, ...] = ()) -> str:
    """Write the files and commit exactly them and `also` (already written, such as a picture); other changes in
    the work tree stay out. The new commit's id."""
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return commit(repo, [*files, *also], message, author)


def save_upload(
    repo: Path, path: Path, data: bytes, sidecar: Path, text: str, message: str, author: tuple[str, str]
) -> str:
    """An uploaded file and its sidecar as one commit (see save); when git fails neither is left behind, so the
    name is free for the next try. Raises GitError."""
    path.write_bytes(data)
    try:
        return save(repo, {sidecar: text}, message, author, also=(path,))
    except GitError:
        path.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)
        raise


def commit(repo: Path, paths: list[Path], message: str, author: tuple[str, str]) -> str:
    names = [str(p.resolve().relative_to(repo.resolve())) for p in paths]
    env = {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": COMMITTER[0],
        "GIT_COMMITTER_EMAIL": COMMITTER[1],
    }
    _git(repo, "add", "--", *names)
    if not _git(repo, "diff", "--cached", "--name-only", "--", *names).strip():
        return _git(repo, "rev-parse", "HEAD").strip()
    _git(repo, "commit", "--quiet", "--no-verify", "-m", message, "--", *names, env=env)
    return _git(repo, "rev-parse", "HEAD").strip()


def locked():
    return _lock


def history(repo: Path, path: Path, limit: int = 100) -> list[Commit]:
    name = str(path.resolve().relative_to(repo.resolve()))
    out = _git(repo, "log", f"-{limit}", "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s", "--", name, check=False)
    return [Commit(*line.split("\x1f")) for line in out.splitlines() if line.count("\x1f") == 4]


def show(repo: Path, sha: str, path: Path) -> str:
    """The file as it was in one commit."""
    if not all(c in "0123456789abcdef" for c in sha) or not 7 <= len(sha) <= 40:
        raise GitError(f"'{sha}' is not a commit id")
    name = str(path.resolve().relative_to(repo.resolve()))
    return _git(repo, "show", f"{sha}:{name}")


def last_commit(repo: Path, paths: list[Path]) -> str:
    """The last commit that changed any of these files."""
    names = [str(p.resolve().relative_to(repo.resolve())) for p in paths]
    sha = _git(repo, "log", "-1", "--format=%H", "--", *names).strip()
    if not sha:
        raise GitError("these files are not committed yet; save the release in the desk first")
    return sha
