#!/usr/bin/env python3
"""Render every named combination (tests/support.py COMBOS) at a git ref and
from the working tree, and print the files that differ: a refactoring of the
template must leave its output byte-identical.

usage: python bench/compare_render.py [--ref REF] [--glob PATTERN ...]

Exit status 1 when a compared file differs, is missing or is new; --glob
limits the comparison to matching paths (fnmatch, e.g. '*docker-compose*.yml').
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE / "tests"))

from support import BASE_ANSWERS, COMBOS  # noqa: E402


def export(ref: str, dst: Path) -> Path:
    """The template's files at ref, without git metadata."""
    dst.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(TEMPLATE), "archive", ref],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dst)], input=archive, check=True)
    return dst


def working_tree(dst: Path) -> Path:
    """The template's files as they are now (uncommitted changes included)."""
    listed = subprocess.run(["git", "-C", str(TEMPLATE), "ls-files", "-z", "-c", "-o",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = TEMPLATE / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    return dst


def render(src: Path, data: dict, dst: Path) -> Path:
    from copier import run_copy

    run_copy(str(src), str(dst), data={**BASE_ANSWERS, **data}, defaults=True,
             unsafe=True, quiet=True)
    return dst


def files(root: Path, globs: list[str]) -> dict[str, bytes]:
    """The rendered files by relative path; the answers file names its source folder."""
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and ".git" not in path.relative_to(root).parts and (
                not globs or any(fnmatch.fnmatch(rel, g) for g in globs)):
            found[rel] = (path.read_bytes().replace(b"/template-before", b"/template")
                          .replace(b"/template-after", b"/template"))
    return found


def compare(name: str, before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    problems = []
    for rel in sorted(before.keys() | after.keys()):
        old, new = before.get(rel), after.get(rel)
        if old == new:
            continue
        if old is None:
            problems.append(f"{name}: new file {rel}")
        elif new is None:
            problems.append(f"{name}: missing file {rel}")
        else:
            diff = difflib.unified_diff(old.decode(errors="replace").splitlines(),
                                        new.decode(errors="replace").splitlines(),
                                        f"before/{rel}", f"after/{rel}", lineterm="")
            problems.append(f"{name}: {rel} differs\n" + "\n".join(diff))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="dc8e4ab", help="git ref to compare against")
    parser.add_argument("--glob", action="append", default=[], help="only paths matching this")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="compare-render-") as tmp:
        old_src = export(args.ref, Path(tmp) / "template-before")
        new_src = working_tree(Path(tmp) / "template-after")
        for name, data in COMBOS.items():
            before = render(old_src, data, Path(tmp) / name / "before")
            after = render(new_src, data, Path(tmp) / name / "after")
            compared = compare(name, files(before, args.glob), files(after, args.glob))
            print(f"{name}: {'identical' if not compared else f'{len(compared)} difference(s)'}")
            problems += compared
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
