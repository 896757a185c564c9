"""Which user-owned files an update created, kept or removed.

User-owned files (copier.yml `_skip_if_exists`) are created once: an update
never deletes them and never re-creates one the user deleted. Copier does
both: it deletes every file of the old render that the new render lacks
(a removed service, a layout switch), edited or not, and re-creates
`_skip_if_exists` files the user deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from files import WHOLE_SAMPLE_FILES
from gitutil import git
from gitutil import paths as git_paths

from update.core import MigrationError, created, remove_empty_dirs, say, service_names, tracked


def unit_of(path: str, layout: str) -> str:
    """The part of the project a file belongs to: services/<name>, a root folder, or '.'."""
    parts = path.split("/")
    if parts[0] == "services" and len(parts) >= 3:
        return "/".join(parts[:2])
    if layout == "single" or len(parts) == 1:
        return "."  # the single layout's service is the project root
    return parts[0]


@dataclass
class Kept:
    restored: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    layout: str = "multi"


def keep_user_files(root: Path, owned: Callable[[str], bool], layout: str,
                    fresh: Iterable[str] = ()) -> Kept:
    """User-owned files are created once: never deleted, never re-created by an update.

    Restores user-owned files that are in the index but gone from the tree
    (Copier deleted them because the new render lacks them), and removes
    user-owned files the update created inside a part of the project that
    existed before (the user had deleted them). New services, and `fresh`
    paths, get their files.
    """
    kept = Kept(layout=layout)
    kept.restored = sorted(
        p for p in tracked(root) if owned(p) and not (root / p).exists() and not (root / p).is_symlink()
    )
    for chunk in range(0, len(kept.restored), 200):
        git(root, "checkout", "--", *kept.restored[chunk:chunk + 200])
    fresh = set(fresh)
    for path in sorted(created_in_known_parts(root, owned, layout) - fresh):
        (root / path).unlink()
        remove_empty_dirs(root, root / path)
        kept.dropped.append(path)
    return kept


def created_in_known_parts(root: Path, owned: Callable[[str], bool], layout: str) -> set[str]:
    """User-owned files the update created in a part of the project (a service, the root)
    that existed before: new to the template, or deleted by the user (new_user_files)."""
    index = tracked(root)
    units = {unit_of(p, layout) for p in index} | ({"."} if index else set())
    return {p for p in created(root) if owned(p) and not p.endswith((".rej", ".orig"))
            and unit_of(p, layout) in units}


def whole_sample_file(path: str, layout: str) -> bool:
    """A file of files.WHOLE_SAMPLE_FILES (its path in its service's folder)."""
    unit = unit_of(path, layout)
    inside = path[len(unit) + 1:] if unit != "." else path
    return any(fnmatchcase(inside, pattern) for pattern in WHOLE_SAMPLE_FILES)


def new_user_files(root: Path, owned: Callable[[str], bool], layout: str, old: dict,
                   old_files: Callable[[], set[str]], moved: Callable[[str], bool] | None = None) -> set[str]:
    """User-owned files this update created that the project never had: new files of the
    template, not files the user deleted.

    keep_user_files removes a user-owned file the update created in a part of the
    project that existed (the user deleted it, or it is one of files.WHOLE_SAMPLE_FILES,
    which an existing service's older code does not work with), unless it is in this set: the files
    the old template version, with the project's answers then, did not render
    (old_files(), called only when there is such a file). A single project that
    became multi had its service's files at the root (moved(path): those the switch
    moves): services/<name>/<path> is the same file.
    If the old version cannot be rendered, every such file is kept, with one line.
    """
    found = created_in_known_parts(root, owned, layout)
    # Not beside an existing service's older code: they would not work with it.
    candidates = {p for p in found if not whole_sample_file(p, layout)}
    if not candidates:
        return set()
    try:
        had = old_files()
    except MigrationError as error:
        say(f"kept the files of yours this update created ({error}): delete any you had deleted: "
            + ", ".join(sorted(candidates)))
        return candidates
    if old.get("layout") == "single" and layout == "multi" and moved is not None:
        name = service_names(old)[0]
        had |= {f"services/{name}/{path}" for path in had if moved(path)}
    return candidates - had


def removed_services(root: Path, old: dict, new: dict) -> dict[str, list[str]]:
    """Services the update removed, with the files that remain in their folders."""
    if old.get("layout") != "multi":
        return {}
    gone = [n for n in service_names(old) if n not in service_names(new)]
    result = {}
    for name in gone:
        folder = f"services/{name}"
        remaining = sorted(set(git_paths(root, "ls-files", "--", folder))
                           | set(git_paths(root, "ls-files", "--others", "--exclude-standard", "--", folder)))
        result[name] = [p for p in remaining if (root / p).exists()]
    return result


def report(kept: Kept, gone: dict[str, list[str]]) -> None:
    """What the update did with the user's files, and what remains of removed services."""
    in_removed = {p for files in gone.values() for p in files}
    for path in kept.restored:
        if path not in in_removed:
            say(f"kept {path}: yours, although the template no longer creates it")
    sample = [p for p in kept.dropped if whole_sample_file(p, kept.layout)]
    if deleted := [p for p in kept.dropped if p not in sample]:
        say("not re-created (you had deleted them): " + ", ".join(deleted))
    if sample:
        say("not added beside your own code (the new sample's; docs/template-changes.md says "
            "what to copy): " + ", ".join(sample))
    for name, files in gone.items():
        if files:
            say(f"service '{name}' removed: its template files are gone; yours remain:")
            for path in files:
                say(f"  {path}")
            say(f"  delete them when you no longer need them: git rm -r services/{name}")
        else:
            say(f"service '{name}' removed")
