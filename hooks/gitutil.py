"""Running git: the one helper of the template's hooks and of a generated
project's scripts (rendered there as scripts/lib/gitutil.py, template-owned).

Every function takes the folder git runs in. A failing command raises
GitError with git's own message on one line, unless check=False.
Standard library only: it runs under Copier's Python and the project's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitError(RuntimeError):
    """A git command failed; the message names the command and says why."""


def run(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """git ARGS in root, output captured as bytes."""
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except OSError as error:  # no git, or root is not a folder
        raise GitError(f"git {' '.join(args)}: {error}") from error
    if check and result.returncode != 0:
        why = " ".join(result.stderr.decode(errors="replace").split())
        raise GitError(f"git {' '.join(args)} failed: {why or f'exit code {result.returncode}'}")
    return result


def git(root: Path, *args: str, check: bool = True) -> bytes:
    """The standard output of git ARGS in root."""
    return run(root, *args, check=check).stdout


def text(root: Path, *args: str, check: bool = True) -> str:
    """The standard output of git ARGS in root, decoded."""
    return git(root, *args, check=check).decode(errors="replace")


def ok(root: Path, *args: str) -> bool:
    """Whether git ARGS succeeds in root (a question such as check-ignore or rev-parse)."""
    try:
        return run(root, *args, check=False).returncode == 0
    except GitError:
        return False


def paths(root: Path, command: str, *args: str) -> list[str]:
    """The paths a git command lists, NUL-separated so any file name survives."""
    return [p for p in git(root, command, "-z", *args).decode().split("\0") if p]


def show(root: Path, path: str, rev: str = "HEAD") -> bytes | None:
    """The file at rev, None where it did not exist; path is relative to root,
    which may be a folder of a larger repository."""
    result = run(root, "show", f"{rev}:./{path}", check=False)
    return result.stdout if result.returncode == 0 else None
