"""Running git: the one helper of the template's hooks and of a generated
project's scripts (rendered there as scripts/lib/gitutil.py, template-owned).

Every function takes the folder git runs in. A failing command raises
GitError with git's own message on one line, unless check=False.
Standard library only, Python 3.9 or newer: it runs under Copier's Python and
the project's (scripts/check-conflicts.sh runs conflicts() with python3).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

# A conflict marker: seven '<' or '>' at a line start, then a space or the line end
# ('=======' alone is left alone: it is also a Markdown heading underline).
MARKER = re.compile(r"^(?:<{7}|>{7})(?: |$)")
NOT_OURS = {".git", "node_modules", ".venv"}


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


def conflicts(root: Path) -> list[str]:
    """What an update or a merge left unresolved in root: "file:line:text" for each conflict
    marker line of a file git tracks or would add (of any file outside git), then each *.rej
    file, git-ignored or not. Paths relative to root, sorted; binary files are skipped."""
    tree: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(set(dirs) - NOT_OURS)
        tree += sorted(Path(folder, name).relative_to(root).as_posix() for name in names)
    if ok(root, "rev-parse", "--is-inside-work-tree"):
        files = sorted(set(paths(root, "ls-files", "--cached", "--others", "--exclude-standard")))
    else:
        files = sorted(tree)
    found = []
    for rel in (f for f in files if not f.endswith(".rej")):
        try:
            data = (root / rel).read_bytes()
        except OSError:  # listed by git, deleted since
            continue
        if b"\0" not in data:
            lines = data.decode(errors="replace").split("\n")
            found += [f"{rel}:{n}:{line}" for n, line in enumerate(lines, 1) if MARKER.match(line)]
    return found + sorted(f for f in tree if f.endswith(".rej"))
