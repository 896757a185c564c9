"""What an update did to a project, and its summary, for the end of `make update`.

build() reads the project after Copier's update and the engine's steps (a
git repository whose HEAD is the project before the update) and the two
renders of the template with the project's answers (the old version and the
new one), and composes the summary from that (hooks/update/summary.py: the
terminal's lines and the template-sync pull request's body); write() keeps
the result as JSON in the git directory, where the project's
scripts/update.py finds it: it prints the summary, posts the pull request
and its `template-diff` command reads the diffs. The file stays there until
the next update, so the diffs can be read after the update is committed.

Pure apart from reading those folders and running git; never raises on odd
files (binary, unreadable, huge ones are listed without a diff).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from gitutil import conflicts, git, show

from update import summary
from update.core import git_dir, unified_diff

REPORT = "copier-update-report.json"
# A user-owned file's template diff is skipped past this size (difflib is slow on huge files).
MAX_DIFF_INPUT = 1_000_000


def build(root: Path, owned: Callable[[str], bool], old_render: Path | None, new_render: Path | None,
          version_from: str, version_to: str) -> dict:
    """The update of root, as lists of relative posix paths (sorted) and diffs.

    merged: template-owned files the update changed; edited: user-owned files
    the update's steps changed; created and deleted: any file. user_owned_changed:
    the user-owned files present in the project whose template version changed
    between old_render and new_render, each with the template's unified diff
    (None for a binary or huge file); [] when a render is missing (a no-op update).
    conflicts: the conflict markers' line numbers by file ([] for a .rej file);
    changes: the lines the update adds to the template's changelog, actions: their
    `- **Action:**` bullets; summary: {"text": [...], "markdown": [...]} from all that.
    """
    modified, created, deleted = changes(root)
    merged = [p for p in modified if not is_owned(owned, p)]
    edited = [p for p in modified if is_owned(owned, p)]
    user_owned: list[dict] = []
    if old_render is not None and new_render is not None:
        user_owned = template_changes(root, owned, old_render, new_render)
    added = changelog_additions(root)
    report = {
        "from": version_from,
        "to": version_to,
        "merged": merged,
        "edited": edited,
        "created": created,
        "deleted": deleted,
        "user_owned_changed": user_owned,
        "conflicts": summary.by_file(conflicts(root)),
        "changes": added,
        "actions": summary.actions(added),
    }
    return {**report, "summary": {"text": summary.text(report), "markdown": summary.markdown(report)}}


def write(root: Path, report: dict) -> Path:
    """report as JSON in root's git directory (replacing the last update's); its path."""
    folder = git_dir(root)
    target = folder / REPORT
    # Written whole or not at all: a reader never sees half a report.
    handle, temporary = tempfile.mkstemp(prefix=f".{REPORT}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1)
            out.write("\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


# ------------------------------------------------------------------ the project
def changes(root: Path) -> tuple[list[str], list[str], list[str]]:
    """(modified, created, deleted) in root against HEAD: staged or not, untracked not ignored."""
    modified: set[str] = set()
    created: set[str] = set()
    deleted: set[str] = set()
    # --relative: paths relative to root, and only below it, when root is a folder of a larger repository.
    listed = git(root, "diff", "HEAD", "--relative", "--no-renames", "--no-ext-diff", "--name-status",
                 "-z", "--", ".")
    fields = listed.decode(errors="surrogateescape").split("\0")
    for status, path in zip(fields[0::2], fields[1::2], strict=False):  # a trailing NUL: one field more
        kind = status[:1]
        if kind == "A":
            created.add(path)
        elif kind == "D":
            deleted.add(path)
        elif kind in ("M", "T", "U"):
            modified.add(path)
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    created.update(p for p in untracked.decode(errors="surrogateescape").split("\0") if p)
    return sorted(modified), sorted(created), sorted(deleted)


def changelog_additions(root: Path) -> list[str]:
    """The lines the uncommitted update adds to the template's changelog, as written there."""
    if not (root / summary.CHANGES).is_file():
        return []
    if show(root, summary.CHANGES) is None:  # new with this update: every line is
        return (root / summary.CHANGES).read_text(encoding="utf-8", errors="replace").splitlines()
    diff = git(root, "diff", "HEAD", "--no-color", "--no-ext-diff", "--unified=0", "--", summary.CHANGES,
               check=False).decode(errors="replace")
    return [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]


def is_owned(owned: Callable[[str], bool], path: str) -> bool:
    try:
        return bool(owned(path))
    except Exception:  # noqa: BLE001 - an odd path is template-owned rather than the report lost
        return False


# ------------------------------------------------------------------- the renders
def template_changes(root: Path, owned: Callable[[str], bool], old: Path, new: Path) -> list[dict]:
    """The user-owned files of root whose content differs between the two renders."""
    found = []
    for path in sorted(set(files(old)) | set(files(new))):
        if not is_owned(owned, path) or not present(root / path):
            continue
        before, after = read(old / path), read(new / path)
        if before == after:
            continue
        found.append({"path": path, "diff": unified(path, before, after)})
    return found


def files(render: Path) -> Iterator[str]:
    """Every file of a render (symlinks included), as relative posix paths; nothing for a missing folder."""
    for folder, dirs, names in os.walk(render, onerror=lambda error: None):
        dirs[:] = [d for d in dirs if d != ".git"]
        here = Path(folder)
        for name in names:
            yield (here / name).relative_to(render).as_posix()
        # A symlink to a folder is listed by walk as a folder; it is one entry of the render.
        for name in list(dirs):
            if (here / name).is_symlink():
                dirs.remove(name)
                yield (here / name).relative_to(render).as_posix()


def present(path: Path) -> bool:
    return path.is_symlink() or path.exists()


def read(path: Path) -> bytes | None:
    """The file's bytes (a symlink: its target's name), None where it is missing or unreadable."""
    try:
        if path.is_symlink():
            return os.readlink(path).encode(errors="surrogateescape")
        if not path.is_file():
            return None
        return path.read_bytes()
    except OSError:
        return None


def unified(path: str, before: bytes | None, after: bytes | None) -> str | None:
    """The diff old template -> new template as text, None for a binary or huge file."""
    texts = []
    for content in (before, after):
        if content is None:
            texts.append("")
            continue
        if len(content) > MAX_DIFF_INPUT or b"\0" in content:
            return None
        try:
            texts.append(content.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return unified_diff(path, *texts)
