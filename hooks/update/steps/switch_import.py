"""Commit 7eb7132 replaced httpx by httpx2 in the generated pyproject.toml files.

The user-owned Python files (tests) of older projects still import httpx,
which their project no longer installs once sync-dependencies applied the
template's change: they import httpx2 under the name httpx. A file's
project is its nearest pyproject.toml (a service, or the root in the single
layout and for the cross-service tests); projects that still declare httpx
(the team added it back) are left alone, and so are files that already
import httpx2.
"""

from __future__ import annotations

import re
from pathlib import Path

from dependencies import distribution
from gitutil import paths as git_paths

from update.core import Context, MigrationError, say, write_keeping_mode

# The change: 7eb7132; this repair since b92b802 (projects updated in between lack it).
COMMIT = "b92b802"
STAGE = "after"
# (the distribution and module the template dropped, the one that replaced it)
SWITCHES = (("httpx", "httpx2"),)
IMPORT_STATEMENT = re.compile(r"^(?P<indent>[ \t]*)import[ \t]+(?P<names>[\w. \t,]+?)(?P<rest>[ \t]*(?:#.*)?)$")
FROM_STATEMENT = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+(?P<module>[\w.]+)(?P<rest>[ \t]+import\b.*)$")


def declared_loosely(text: str) -> set[str]:
    """Distributions named by quoted requirement strings, for Pythons without tomllib (< 3.11).

    May also return other quoted words (a superset): only membership is asked.
    """
    return {distribution(m) for m in re.findall(r"""["']([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?=[<>=!~;\[@"'])""", text)}


def declared(pyproject: Path) -> set[str] | None:
    """Every distribution a pyproject.toml asks for (all groups and extras); None if unreadable."""
    try:
        text = pyproject.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        import tomllib
    except ImportError:  # Copier may run on Python 3.10
        return None if re.search(r"^(<{7}|>{7})( |$)", text, re.MULTILINE) else declared_loosely(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    project = data.get("project", {})
    lists = [project.get("dependencies", []), *project.get("optional-dependencies", {}).values(),
             *data.get("dependency-groups", {}).values(),
             data.get("tool", {}).get("uv", {}).get("dev-dependencies", [])]
    return {distribution(r) for group in lists for r in group if isinstance(r, str)}


def switch_import_line(line: str, old: str, new: str) -> str:
    """One source line with `old` imported from `new` under the same name; other lines unchanged."""
    found = IMPORT_STATEMENT.match(line)
    if found:
        names = []
        for part in found["names"].split(","):
            words = part.split()
            if words and words[0] == old and len(words) == 1:
                words = [new, "as", old]
            elif words and words[0] == old and len(words) == 3 and words[1] == "as":
                words = [new, "as", words[2]]
            names.append(" ".join(words))
        return f"{found['indent']}import {', '.join(names)}{found['rest']}"
    found = FROM_STATEMENT.match(line)
    if found and (found["module"] == old or found["module"].startswith(f"{old}.")):
        return f"{found['indent']}from {new}{found['module'][len(old):]}{found['rest']}"
    return line


def switch_import_text(text: str, old: str, new: str) -> str:
    return "".join(switch_import_line(line.rstrip("\r\n"), old, new) + line[len(line.rstrip("\r\n")):]
                   for line in text.splitlines(keepends=True))


def switch_import(ctx: Context, old: str, new: str) -> list[str]:
    """Rewrite `import old` in user-owned Python files whose project now installs new instead.

    A file's project is its nearest pyproject.toml (a service, or the root
    in the single layout and for the cross-service tests). Idempotent:
    `import new as old` is left as it is. Returns the files changed.
    """
    root, owned = ctx.root, ctx.owned
    names = {distribution(old), distribution(new)}
    if "" in names or len(names) != 2:
        raise MigrationError(f"switch-import needs two different distribution names, got {old!r} and {new!r}")
    paths = set(git_paths(root, "ls-files", "--cached", "--others", "--exclude-standard"))
    verdicts: dict[Path, bool] = {}
    changed = []
    for path in sorted(p for p in paths if p.endswith(".py") and owned(p) and (root / p).is_file()):
        project = next((d for d in (root / path).parents
                        if (d / "pyproject.toml").is_file() and (d == root or root in d.parents)), None)
        if project is None:
            continue
        if project not in verdicts:
            wanted = declared(project / "pyproject.toml")
            if wanted is None:
                say(f"{project.relative_to(root).as_posix()}/pyproject.toml does not parse: "
                    f"left its imports of {old} alone")
            verdicts[project] = wanted is not None and distribution(new) in wanted \
                and distribution(old) not in wanted
        if not verdicts[project]:
            continue
        try:  # bytes, not read_text(): CRLF line ends stay as they are
            text = (root / path).read_bytes().decode()
        except UnicodeDecodeError:
            continue
        rewritten = switch_import_text(text, old, new)
        if rewritten != text:
            write_keeping_mode(root / path, rewritten.encode())
            changed.append(path)
    return changed


def apply(ctx: Context) -> list[str]:
    changed = []
    for old, new in SWITCHES:
        for path in switch_import(ctx, old, new):
            say(f"{path}: imports {new} in place of {old}, which the project no longer installs")
            changed.append(path)
    return changed
