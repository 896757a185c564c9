"""Migrations that `copier update` runs (copier.yml `_migrations`).

Copier runs each command in the project root, after rendering the command
with Jinja, and puts STAGE (before/after), VERSION_FROM and VERSION_TO (the
`git describe` of the old and the new template version) into the
environment.  ``--template`` is ``{{ _copier_conf.src_path }}``: Copier's
local checkout of the new template version, which holds the old versions
too.

Commands::

    rename OLD NEW   after; one versioned entry per template-owned file the
                     template renamed or moved: the user's edits of OLD are
                     merged (three-way, like Copier) into NEW.
    answer NAME VALUE
                     before; for a new question whose default would change
                     an old project: projects that never answered NAME get
                     VALUE, the answer that keeps their old behaviour.
    check            before, every update: refuse a layout change Copier
                     cannot do (multi -> single), before any file moves.
    switch-import OLD NEW
                     after, every update: where the template replaced the
                     dependency OLD by NEW (the generated pyproject.toml
                     installs NEW, no longer OLD), the user-owned Python
                     files of that project import NEW under the name OLD;
                     projects that still declare OLD are left alone.
    after-update     after, every update, last: switch single -> multi
                     (the service moves into services/<name>/ with git mv),
                     then keep the user-owned files: restore those the update
                     deleted, drop those it re-created although the user had
                     deleted them, and list what remains of removed services.

Why ``rename`` is needed: for a template-owned file that exists only in the
old version, Copier applies the user's diff to nothing and then deletes the
file, so the user's edits would vanish (or leave an orphan ``.rej``).  Why
``after-update`` keeps user-owned files: Copier deletes every file of the
old render that the new render lacks, edited or not (a removed service, a
layout switch), and re-creates ``_skip_if_exists`` files the user deleted.

Needs PyYAML and pathspec (Copier's own dependencies); Copier itself only to
render an old version.  ``python hooks/migrations.py --help`` lists the
options.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from services import ServicesError, parse  # noqa: E402

ANSWERS_FILE = ".copier-answers.yml"
# Labels as Copier's own inline conflicts use them.
LABELS = ("before updating", "last update", "after updating")
# In the single layout these belong to the one service and move with it into
# services/<name>/ on a switch to multi. Template-owned ones are merged.
SERVICE_BUILD_FILES = ("Dockerfile", ".dockerignore", "pyproject.toml", "package.json")
SERVICE_OWN_FILES = ("uv.lock", "package-lock.json", ".python-version", ".nvmrc")
SERVICE_OWN_DIRS = ("src/", "tests/")
# Root files whose single-layout content is the service's and whose
# multi-layout content is the whole project's.
SWITCH_MERGED_AT_ROOT = ("deploy/test/docker-compose.yml",)


class MigrationError(RuntimeError):
    """The update cannot go on; the message says what to do."""


def say(message: str) -> None:
    print(f"migration: {message}", file=sys.stderr)


# ----------------------------------------------------------------------- git
def git(root: Path, *args: str, check: bool = True) -> bytes:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    if check and result.returncode != 0:
        raise MigrationError(
            f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace').strip()}"
        )
    return result.stdout


def git_paths(root: Path, command: str, *args: str) -> list[str]:
    """The paths a git command lists, NUL-separated so any file name survives."""
    return [p for p in git(root, command, "-z", *args).decode().split("\0") if p]


def head_file(root: Path, path: str) -> bytes | None:
    """The file as committed before the update (Copier needs a clean tree)."""
    # ./ : relative to the project, which may be a folder of a larger repository.
    result = subprocess.run(
        ["git", "show", f"HEAD:./{path}"], cwd=root, capture_output=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def tracked(root: Path) -> set[str]:
    """Paths in the index: what the project had before the update, plus git mv's."""
    return set(git_paths(root, "ls-files"))


def created(root: Path) -> list[str]:
    """New, not ignored files: the tree was clean, so the update made them."""
    return sorted(git_paths(root, "ls-files", "--others", "--exclude-standard"))


def settle(root: Path, path: str) -> None:
    """Forget Copier's leftovers for a path this module rewrote: .rej, conflict state."""
    (root / f"{path}.rej").unlink(missing_ok=True)
    if git(root, "ls-files", "--unmerged", "--", path).strip():
        git(root, "reset", "--quiet", "--", path)


def remove_empty_dirs(root: Path, path: Path) -> None:
    """Remove path's parent folders up to root while they are empty."""
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


# ------------------------------------------------------------------- answers
def load_answers(text: bytes | str | None) -> dict:
    data = yaml.safe_load(text) if text else None
    return data if isinstance(data, dict) else {}


def service_names(answers: dict) -> list[str]:
    try:
        return [s.name for s in parse(answers.get("services", ""), answers.get("layout", "multi"))]
    except ServicesError:
        return []


def user_owned(template: Path) -> Callable[[str], bool]:
    """A matcher for the template's _skip_if_exists patterns, as Copier matches them."""
    from pathspec import PathSpec

    config = yaml.safe_load((template / "copier.yml").read_text())
    patterns = [str(p) for p in config.get("_skip_if_exists", [])]
    try:  # pathspec >= 1.0 names git's own semantics "gitignore"
        return PathSpec.from_lines("gitignore", patterns).match_file
    except KeyError:
        return PathSpec.from_lines("gitwildmatch", patterns).match_file


# ---------------------------------------------------------------- rendering
def render(template: Path, ref: str, answers: dict, dst: Path, fallback: str = "") -> Path:
    """The template at ref rendered with answers into dst, as Copier rendered it then."""
    from copier import run_copy

    if not ref:
        raise MigrationError("the project's old template version is unknown (no VERSION_FROM, no _commit)")
    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    errors = []
    for source in dict.fromkeys(s for s in (str(template), fallback) if s):
        try:
            run_copy(
                source, dst, data=data, vcs_ref=ref, defaults=True, overwrite=True,
                quiet=True, unsafe=True, skip_tasks=True,
            )
            return dst
        except Exception as error:  # noqa: BLE001  (any failure: try the next source)
            errors.append(f"{source}@{ref}: {error}")
    raise MigrationError("cannot render the template: " + "; ".join(errors))


def merge(user: bytes, base: bytes, new: bytes) -> tuple[bytes, bool]:
    """Three-way merge: the user's edits (base -> user) applied to new. (text, conflicted)."""
    with tempfile.TemporaryDirectory(prefix="copier-merge-") as tmp:
        files = []
        for name, content in (("user", user), ("base", base), ("new", new)):
            path = Path(tmp, name)
            path.write_bytes(content)
            files.append(str(path))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        result = subprocess.run(
            ["git", "merge-file", "-p", *labels, *files], capture_output=True, check=False
        )
    if result.returncode < 0 or result.returncode > 127:
        raise MigrationError(f"git merge-file failed: {result.stderr.decode(errors='replace')}")
    return result.stdout, result.returncode > 0


def write_keeping_mode(path: Path, content: bytes) -> None:
    """Write content; an existing file keeps its mode (an executable script stays one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


# -------------------------------------------------------------------- rename
def rename(root: Path, template: Path, old: str, new: str, version_from: str) -> str:
    """Carry the user's edits of template-owned `old` (renamed by the template) to `new`."""
    user = head_file(root, old)
    if user is None:
        return f"{old}: not in this project, nothing to carry over"
    settle(root, old)
    target = root / new
    answers = load_answers(head_file(root, ANSWERS_FILE))
    base, problem = None, ""
    with tempfile.TemporaryDirectory(prefix="copier-old-") as tmp:
        try:
            pristine = render(template, version_from or answers.get("_commit", ""), answers, Path(tmp) / "old",
                              fallback=str(answers.get("_src_path", "")))
        except MigrationError as error:
            problem = str(error)
        else:
            if (pristine / old).is_file():
                base = (pristine / old).read_bytes()
            else:
                problem = f"the old template version has no {old}"
    if base is not None and user == base:
        (root / old).unlink(missing_ok=True)
        return f"{old} -> {new}: renamed by the template (you had not edited it)"
    if base is None or not target.is_file():
        # Never lose the edits: keep the old file for the user to merge by hand.
        (root / old).write_bytes(user)
        problem = problem or f"this project has no {new}"
        say(f"kept your edited {old} ({problem}): merge it into {new} by hand, then delete it")
        return f"{old}: kept"
    merged, conflicted = merge(user, base, target.read_bytes())
    write_keeping_mode(target, merged)
    (root / old).unlink(missing_ok=True)
    if conflicted:
        say(f"CONFLICT in {new}: your edits of {old} meet template changes; resolve the markers")
    return f"{old} -> {new}: renamed by the template, your edits merged in"


# ------------------------------------------------------------ layout switch
@dataclass
class Switch:
    name: str
    moved: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    fresh: set[str] = field(default_factory=set)


def check_layouts(old: dict, new: dict) -> None:
    """Raise when the answers ask for a layout change the template cannot do."""
    before, after = old.get("layout", "multi"), new.get("layout") or old.get("layout", "multi")
    if before == "multi" and after == "single":
        raise MigrationError(
            "switching a project from the multi to the single layout is not supported; "
            "keep layout=multi (a multi project may have a single service)"
        )
    if before == "single" and after == "multi" and new.get("services"):
        name = service_names(old)[:1]
        names = service_names({"services": new["services"], "layout": "multi"})
        if name and names and name[0] not in names:
            raise MigrationError(
                f"switching to the multi layout moves your service into services/{name[0]}/: "
                f"keep '{name[0]}' in services (got '{new['services']}')"
            )


def switch_layout(root: Path, template: Path, old: dict, new: dict, version_from: str,
                  owned: Callable[[str], bool]) -> Switch:
    """single -> multi: move the one service's files into services/<name>/.

    User-owned files (src/, tests/) and the service's own files (lock files)
    move with git mv, so git shows them as renames; the service's
    template-owned build files get the user's edits merged into the new
    services/<name>/ copies; root files whose meaning changes (the test
    stack) get the user's edits merged into the multi version.
    """
    check_layouts(old, new)
    name = service_names(old)[0]
    dest = f"services/{name}"
    switch = Switch(name)
    head = git_paths(root, "ls-tree", "-r", "--name-only", "HEAD")
    with tempfile.TemporaryDirectory(prefix="copier-switch-") as tmp:
        p0 = render(template, version_from or old.get("_commit", ""), old, Path(tmp) / "old",
                    fallback=str(old.get("_src_path", "")))
        # Copier's checkout of the template is at the new version: its HEAD.
        p1 = render(template, "HEAD", new, Path(tmp) / "new")
        for path in head:
            if path.startswith(SERVICE_OWN_DIRS) or path in SERVICE_OWN_FILES:
                _git_move(root, path, f"{dest}/{path}")
                switch.moved.append(path)
        for path in SERVICE_BUILD_FILES:
            user = head_file(root, path)
            target = f"{dest}/{path}"
            if user is None or not (p1 / target).is_file():
                continue
            base = (p0 / path).read_bytes() if (p0 / path).is_file() else b""
            new_content = (p1 / target).read_bytes()
            content, conflicted = merge(user, base, new_content) if user != base else (new_content, False)
            write_keeping_mode(root / target, content)
            switch.merged += [f"{path} -> {target}"] if user != base else []
            switch.conflicts += [target] if conflicted else []
            root_version = p1 / path
            if root_version.is_file():  # pyproject.toml: the root project of the multi layout
                write_keeping_mode(root / path, root_version.read_bytes())
            else:
                (root / path).unlink(missing_ok=True)
            settle(root, path)
        for path in SWITCH_MERGED_AT_ROOT:
            user, base_path, new_path = head_file(root, path), p0 / path, p1 / path
            if user is None or not new_path.is_file():
                continue
            base = base_path.read_bytes() if base_path.is_file() else b""
            new_content = new_path.read_bytes()
            content, conflicted = merge(user, base, new_content) if user != base else (new_content, False)
            write_keeping_mode(root / path, content)
            switch.merged += [path] if user != base else []
            switch.conflicts += [path] if conflicted else []
            settle(root, path)
        # The multi layout's own user-owned root files (cross-service tests):
        # the user's single-layout files just left these paths.
        for file in sorted(p for p in p1.rglob("*") if p.is_file()):
            path = file.relative_to(p1).as_posix()
            if not path.startswith("services/") and owned(path) and not (root / path).exists():
                write_keeping_mode(root / path, file.read_bytes())
                switch.fresh.add(path)
    return switch


def _git_move(root: Path, src: str, dst: str) -> None:
    """git mv src dst, with src as committed and over whatever the update put at dst."""
    if not (root / src).is_file() or (root / src).read_bytes() != head_file(root, src):
        git(root, "checkout", "HEAD", "--", src)
    target = root / dst
    if target.exists() or target.is_symlink():
        if dst in tracked(root):
            git(root, "rm", "--quiet", "--force", "--", dst)
        else:
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    git(root, "mv", "--", src, dst)
    remove_empty_dirs(root, root / src)


# ------------------------------------------------------------- user files
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


def keep_user_files(root: Path, owned: Callable[[str], bool], layout: str,
                    fresh: Iterable[str] = ()) -> Kept:
    """User-owned files are created once: never deleted, never re-created by an update.

    Restores user-owned files that are in the index but gone from the tree
    (Copier deleted them because the new render lacks them), and removes
    user-owned files the update created inside a part of the project that
    existed before (the user had deleted them). New services, and `fresh`
    paths, get their files.
    """
    kept = Kept()
    index = tracked(root)
    kept.restored = sorted(
        p for p in index if owned(p) and not (root / p).exists() and not (root / p).is_symlink()
    )
    for chunk in range(0, len(kept.restored), 200):
        git(root, "checkout", "--", *kept.restored[chunk:chunk + 200])
    units = {unit_of(p, layout) for p in index} | ({"."} if index else set())
    fresh = set(fresh)
    for path in created(root):
        if path in fresh or path.endswith((".rej", ".orig")) or not owned(path):
            continue
        if unit_of(path, layout) in units:
            (root / path).unlink()
            remove_empty_dirs(root, root / path)
            kept.dropped.append(path)
    return kept


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


def after_update(root: Path, template: Path, version_from: str) -> None:
    old = load_answers(head_file(root, ANSWERS_FILE))
    new = load_answers((root / ANSWERS_FILE).read_text())
    try:
        check_layouts(old, new)
    except MigrationError as error:
        raise MigrationError(
            f"{error}. Undo this update with: git reset --hard && git clean -fd"
        ) from error
    owned = user_owned(template)
    fresh: set[str] = set()
    layout = new.get("layout", "multi")
    if old.get("layout") == "single" and layout == "multi":
        switch = switch_layout(root, template, old, new, version_from, owned)
        fresh = switch.fresh
        say(f"single -> multi: moved {len(switch.moved)} files of '{switch.name}' into "
            f"services/{switch.name}/ with git mv (staged, so git shows the renames)")
        for line in switch.merged:
            say(f"  your edits merged: {line}")
        for path in switch.conflicts:
            say(f"  CONFLICT in {path}: resolve the markers")
        leftovers = [p for p in ("src", "tests", ".venv", "node_modules") if (root / p).exists()
                     and not git_paths(root, "ls-files", "--cached", "--others",
                                       "--exclude-standard", "--", p)]
        if leftovers:
            say(f"  left at the root, ignored by git (delete them): {', '.join(leftovers)}")
    kept = keep_user_files(root, owned, layout, fresh)
    gone = removed_services(root, old, new)
    in_removed = {p for files in gone.values() for p in files}
    for path in kept.restored:
        if path not in in_removed:
            say(f"kept {path}: yours, although the template no longer creates it")
    if kept.dropped:
        say("not re-created (you had deleted them): " + ", ".join(kept.dropped))
    for name, files in gone.items():
        if files:
            say(f"service '{name}' removed: its template files are gone; yours remain:")
            for path in files:
                say(f"  {path}")
            say(f"  delete them when you no longer need them: git rm -r services/{name}")
        else:
            say(f"service '{name}' removed")


def set_answer(root: Path, name: str, value: str) -> str:
    """Answer a new question for a project that predates it (a before migration).

    Copier re-reads the answers file after the before migrations, unless it
    runs with --skip-answered (scripts/update.py never combines that with
    --defaults), so the new version renders with this answer.
    """
    path = root / ANSWERS_FILE
    text = path.read_text()
    answers = load_answers(text)
    if name in answers:
        return f"{name}: already answered ({answers[name]!r}), left alone"
    parsed = yaml.safe_load(value) if value else ""
    path.write_text(text.rstrip("\n") + "\n" + yaml.safe_dump({name: parsed}, default_flow_style=False))
    return f"{name}: {parsed!r}, the behaviour this project had before the question existed"


def check(root: Path, layout: str, services: str) -> None:
    """Before the update: refuse what after_update cannot do, while nothing has moved."""
    old = load_answers((root / ANSWERS_FILE).read_text() if (root / ANSWERS_FILE).is_file() else "")
    new = {k: v for k, v in (("layout", layout), ("services", services)) if v}
    check_layouts(old, new)


# ------------------------------------------------------------ switch-import
IMPORT_STATEMENT = re.compile(r"^(?P<indent>[ \t]*)import[ \t]+(?P<names>[\w. \t,]+?)(?P<rest>[ \t]*(?:#.*)?)$")
FROM_STATEMENT = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+(?P<module>[\w.]+)(?P<rest>[ \t]+import\b.*)$")


def distribution(requirement: str) -> str:
    """The normalised distribution name of a PEP 508 requirement ("httpx>=0.27" -> "httpx")."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


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


def switch_import(root: Path, template: Path, old: str, new: str) -> list[str]:
    """Rewrite `import old` in user-owned Python files whose project now installs new instead.

    A file's project is its nearest pyproject.toml (a service, or the root
    in the single layout and for the cross-service tests). Idempotent:
    `import new as old` is left as it is. Returns the files changed.
    """
    owned = user_owned(template)
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


# ----------------------------------------------------------------------- cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the template checkout ({{ _copier_conf.src_path }})")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="the project root")
    commands = parser.add_subparsers(dest="command", required=True)
    rename_cmd = commands.add_parser("rename", help="merge edits of a renamed template file")
    rename_cmd.add_argument("old")
    rename_cmd.add_argument("new")
    answer_cmd = commands.add_parser("answer", help="answer a new question for an old project")
    answer_cmd.add_argument("name")
    answer_cmd.add_argument("value", help="a YAML scalar")
    check_cmd = commands.add_parser("check", help="refuse an unsupported layout change")
    check_cmd.add_argument("--layout", default="")
    check_cmd.add_argument("--services", default="")
    switch_cmd = commands.add_parser("switch-import", help="import NEW as OLD where NEW replaced OLD")
    switch_cmd.add_argument("old", help="the distribution and module the template dropped (httpx)")
    switch_cmd.add_argument("new", help="the distribution and module that replaced it (httpx2)")
    commands.add_parser("after-update", help="layout switch, keep user files, report")
    args = parser.parse_args(argv)
    root = args.project.resolve()
    version_from = os.environ.get("VERSION_FROM", "")
    try:
        if args.command == "rename":
            say(rename(root, args.template, args.old, args.new, version_from))
        elif args.command == "answer":
            say(set_answer(root, args.name, args.value))
        elif args.command == "check":
            check(root, args.layout, args.services)
        elif args.command == "switch-import":
            for path in switch_import(root, args.template, args.old, args.new):
                say(f"{path}: imports {args.new} in place of {args.old}, which the project no longer installs")
        else:
            after_update(root, args.template, version_from)
    except MigrationError as error:
        print(f"migration failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
