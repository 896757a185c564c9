"""The template's old [tool.ruff] tables leave the python folders' pyproject.toml.

Template versions before 2e30927 wrote them there; ruff reads the
configuration file nearest to a file, so in a service folder they shadow the
root ruff.toml (its `src`, which makes testkit first-party for the import
order, among others). Only tables exactly as the template wrote them go;
the team's own ruff settings stay, with one line.
"""

from __future__ import annotations

import re
from pathlib import Path

from gitutil import paths as git_paths

from update.core import Context, tell

# The change: 2e30927; this repair since 8c4daf6 (projects updated in between lack it).
COMMIT = "8c4daf6"
STAGE = "after"
# Template versions before ruff.toml (up to 431d665) wrote these tables into the
# python folders' pyproject.toml. Ruff reads the configuration file nearest to a
# file, so in a service folder they shadow the root ruff.toml: its `src`, which
# makes testkit first-party for the import order, among others.
OLD_RUFF_TABLES = (
    '[tool.ruff]\nline-length = 100\ntarget-version = "py311"\n',
    '[tool.ruff.lint]\nselect = ["E", "F", "W", "I", "B", "UP"]\n',
)
TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]\s]+)\s*\]\]?\s*(?:#.*)?$")


class OwnRuffSettings(Exception):
    """A [tool.ruff*] table that is not as the template wrote it: the team's settings."""


def without_old_ruff_tables(text: str) -> str | None:
    """pyproject.toml text without the template's old [tool.ruff*] tables, None when it has none.

    Only tables exactly as the template wrote them go (blank lines after them
    too, and before them at the end of the file); every other byte stays.
    Raises OwnRuffSettings when a ruff table differs (the team's own settings).
    """
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if TOML_HEADER.match(line)]
    spans = [(start, end) for start, end in zip(starts, [*starts[1:], len(lines)], strict=True)
             if TOML_HEADER.match(lines[start]).group(1).split(".")[:2] == ["tool", "ruff"]]
    if not spans:
        return None
    for start, end in spans:
        table = "".join(lines[start:end]).rstrip("\n") + "\n"
        if table not in OLD_RUFF_TABLES or not lines[end - 1].endswith("\n"):
            raise OwnRuffSettings(table)
    drop = {i for start, end in spans for i in range(start, end)}
    kept = [line for i, line in enumerate(lines) if i not in drop]
    if max(end for _, end in spans) == len(lines):  # they ended the file: so does what was before them
        while kept and not kept[-1].strip():
            kept.pop()
    return "".join(kept)


def drop_old_ruff_tables(root: Path) -> list[str]:
    """The template's old ruff tables out of every pyproject.toml, once ruff.toml holds the settings."""
    if not (root / "ruff.toml").is_file():
        return []
    report = []
    for rel in git_paths(root, "ls-files", "--cached", "--others", "--exclude-standard", "--",
                         "pyproject.toml", "*/pyproject.toml"):
        path = root / rel
        try:
            new = without_old_ruff_tables(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        except OwnRuffSettings:
            report.append(f"{rel}: its [tool.ruff] settings, not ruff.toml's, apply to the files below it "
                          "(ruff reads the nearest): move what you need into ruff.toml and delete them")
            continue
        if new is not None:
            path.write_bytes(new.encode("utf-8"))
            report.append(f"{rel}: the template's old [tool.ruff] settings removed (ruff.toml holds them; "
                          "they shadowed it)")
    return report


def apply(ctx: Context) -> list[str]:
    return tell(drop_old_ruff_tables(ctx.root), lambda line: "removed" in line)
