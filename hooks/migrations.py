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
                     cannot do (multi -> single), before any file moves, and
                     an answers file whose layout the files contradict or
                     whose services answer is refused (hand edits).
    keep-ports       before, every update: host ports this project has that
                     the template's rule (a checksum of the service's name)
                     would change become ``port=N`` options of its services
                     answer; a node api whose UPSTREAM_URL the new rule
                     changes is reported.
    extension-points before, every update; acts once, on a project from
                     before local.mk (its Makefile has no `-include
                     local.mk`): the user's additions to the Makefile move
                     to local.mk, so the Makefile merges without conflict;
                     edits inside template recipes stay, with what to move.
    switch-import OLD NEW
                     after, every update: where the template replaced the
                     dependency OLD by NEW (the generated pyproject.toml
                     installs NEW, no longer OLD), the user-owned Python
                     files of that project import NEW under the name OLD;
                     projects that still declare OLD are left alone.
    adopt-testkit    after, every update: a user-owned conftest.py or Node
                     test that still has the template's old inline
                     wait_for/waitFor (unchanged) imports testkit's instead;
                     a changed copy is left alone and reported.
    lint-clean-tests after, every update: the Node live tests as templates
                     before `make lint` rendered them (user-owned) pass
                     eslint: an api's unused execFileSync import goes, a
                     worker's test uses the expect and requiredEnv it has;
                     a test changed there is left for `make lint` to show.
    one-shot-steps   after, every update: the user-owned
                     tests/integration/test_stack.py of older projects
                     expects every compose service running; the one-shot
                     <name>-migrate steps have exited, so its unchanged
                     `expected = ...` line skips them (a no-op otherwise).
    after-update     after, every update, last: switch single -> multi
                     (the service moves into services/<name>/ with git mv),
                     then keep the user-owned files: restore those the update
                     deleted, drop those it re-created although the user had
                     deleted them (the old template version, rendered with
                     the project's answers then, had them; files it did not
                     render are new and kept: see new_user_files), and list
                     what remains of removed services. Settings written
                     before the services read secret files get the
                     template's with_secrets merged in (merge_secret_settings);
                     settings whose with_secrets reads every NAME_FILE as a
                     secret (dbd23d3..12d2f24) read the names in SECRETS
                     (secrets_by_name); the template's old [tool.ruff]
                     tables leave pyproject.toml (drop_old_ruff_tables).
                     When the update adds llm: merge its sample lines into the
                     user's settings, main, worker, scheduler and models
                     three-way (see merge_llm_samples), and put its revision
                     llm_0001 on top of the team's own revisions after 0001,
                     so Alembic keeps one head (see stack_llm_revision).
                     When the services answer changed: merge the stack files
                     three-way (see keep_service_edits) and keep the user's
                     edits of removed services' template files in
                     .template-removed/<name>.patch. Last, the locks of
                     the manifests the update changed are refreshed and
                     missing locks written (hooks/dependencies.py).
    sync-dependencies
                     after, every update, before switch-import: the
                     template's dependency changes reach the user-owned
                     manifests through uv / npm (hooks/dependencies.py).

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
import ast
import difflib
import fnmatch
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Run as a script, this module is __main__: hooks/layout_switch.py imports it by
# name and must get this module (one MigrationError class), not a second copy.
sys.modules.setdefault("migrations", sys.modules[__name__])
from answers import ANSWER_CHECKS  # noqa: E402
from dependencies import distribution  # noqa: E402
from gitutil import GitError, git  # noqa: E402
from gitutil import paths as git_paths  # noqa: E402
from gitutil import run as run_git  # noqa: E402
from gitutil import show as head_file  # noqa: E402
from services import ServicesError, default_port, parse, parse_services, upstream_of  # noqa: E402

ANSWERS_FILE = ".copier-answers.yml"
# Labels as Copier's own inline conflicts use them.
LABELS = ("before updating", "last update", "after updating")


# libyaml's parser where PyYAML has it: the pure-Python one takes ~60 ms for
# copier.yml, in a process that runs on every update.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MigrationError(RuntimeError):
    """The update cannot go on; the message says what to do."""


def say(message: str) -> None:
    print(f"migration: {message}", file=sys.stderr)


# ----------------------------------------------------------------------- git
# hooks/gitutil.py: git(), git_paths() and head_file() (the file as committed
# before the update: Copier needs a clean tree) raise GitError on failure.


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
    data = yaml.load(text, Loader=SAFE_LOADER) if text else None  # noqa: S506 (a safe loader)
    return data if isinstance(data, dict) else {}


def service_names(answers: dict) -> list[str]:
    try:
        return [s.name for s in parse(answers.get("services", ""), answers.get("layout", "multi"))]
    except ServicesError:
        return []


def user_owned(template: Path) -> Callable[[str], bool]:
    """A matcher for the template's _skip_if_exists patterns, as Copier matches them."""
    from pathspec import PathSpec

    config = yaml.load((template / "copier.yml").read_text(), Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
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


# Renders of this process (one update): {(ref, answers): folder}, in one temporary
# folder removed when the process ends.
_RENDERS: dict[tuple[str, str], Path] = {}
_RENDER_DIR: list[tempfile.TemporaryDirectory] = []


def old_render(template: Path, old: dict, version_from: str) -> Path:
    """The project as the template version it was made with rendered it (its answers then):
    rendered once per update, for every step that compares with it."""
    ref = version_from or str(old.get("_commit", ""))
    key = (ref, json.dumps(old, sort_keys=True, default=str))
    if key not in _RENDERS:
        if not _RENDER_DIR:
            _RENDER_DIR.append(tempfile.TemporaryDirectory(prefix="copier-old-"))
        dst = Path(_RENDER_DIR[0].name, str(len(_RENDERS)))
        _RENDERS[key] = render(template, ref, old, dst, fallback=str(old.get("_src_path", "")))
    return _RENDERS[key]


def merge(user: bytes, base: bytes, new: bytes) -> tuple[bytes, bool]:
    """Three-way merge: the user's edits (base -> user) applied to new. (text, conflicted)."""
    with tempfile.TemporaryDirectory(prefix="copier-merge-") as tmp:
        files = []
        for name, content in (("user", user), ("base", base), ("new", new)):
            path = Path(tmp, name)
            path.write_bytes(content)
            files.append(str(path))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        result = run_git(Path(tmp), "merge-file", "-p", *labels, *files, check=False)
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
        except (MigrationError, GitError) as error:
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


def new_user_files(root: Path, owned: Callable[[str], bool], layout: str, old: dict,
                   old_files: Callable[[], set[str]], moved: Callable[[str], bool] | None = None) -> set[str]:
    """User-owned files this update created that the project never had: new files of the
    template, not files the user deleted.

    keep_user_files removes a user-owned file the update created in a part of the
    project that existed (the user deleted it), unless it is in this set: the files
    the old template version, with the project's answers then, did not render
    (old_files(), called only when there is such a file). A single project that
    became multi had its service's files at the root (moved(path): those the switch
    moves): services/<name>/<path> is the same file.
    If the old version cannot be rendered, every such file is kept, with one line.
    """
    candidates = created_in_known_parts(root, owned, layout)
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


def project_files(root: Path) -> set[str]:
    """Every file below root (a render), as posix paths relative to it."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts}


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


# ---------------------------------------------------------- service identity
# Template-owned stack files: each service's block lies between `# begin NAME`
# and `# end NAME` lines (partials/compose/).
STACK_FILES = ("deploy/dev/docker-compose.yml", "deploy/test/docker-compose.yml",
               "deploy/prod/docker-compose.yml")
REMOVED_DIR = ".template-removed"
# `${API_PORT:-8359}`: a service's host port in the dev and prod stacks.
PORT_DEFAULT = re.compile(r"\$\{([A-Z][A-Z0-9_]*)_PORT:-([0-9]+)\}")
SERVICE_KEY = re.compile(r"^  ([a-z][a-z0-9-]*):\s*$")
UPSTREAM_URL = re.compile(r"^\s+UPSTREAM_URL: http://([a-z][a-z0-9-]*):")


def block_span(lines: list[str], name: str) -> tuple[int, int] | None:
    """Service `name`'s block in a stack file: (its begin line, after its end line)."""
    begin, end = f"  # begin {name}", f"  # end {name}"
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == begin]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        return None
    return starts[0], ends[0] + 1


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff, a/ and b/ paths as git writes them."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


@dataclass
class Identity:
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # Removed service -> its template-owned files the user had edited, and the patch.
    edited: dict[str, list[str]] = field(default_factory=dict)
    patches: dict[str, str] = field(default_factory=dict)


def keep_service_edits(root: Path, template: Path, old: dict, new: dict, version_from: str,
                       owned: Callable[[str], bool]) -> Identity:
    """After a change of the services answer: stack files merged by block, removed edits kept.

    Copier applies the user's edits as a patch with three lines of context,
    and the blocks of two services look alike: an edit in a removed (or
    changed) block lands in another service's block. So each stack file is
    merged again, three-way from the user's committed file and pristine
    renders of the old and the new answers, with the removed services'
    blocks cut from both sides first: the begin/end lines anchor every
    other hunk to its own service. The removed services' blocks, and their
    template-owned files the user had edited, go to
    .template-removed/<name>.patch (a diff against the pristine render).
    """
    result = Identity()
    gone = [n for n in service_names(old) if n not in service_names(new)]
    diffs: dict[str, list[tuple[str, str]]] = {name: [] for name in gone}
    with tempfile.TemporaryDirectory(prefix="copier-services-") as tmp:
        p0 = render(template, version_from or old.get("_commit", ""), old, Path(tmp) / "old",
                    fallback=str(old.get("_src_path", "")))
        p1 = render(template, "HEAD", new, Path(tmp) / "new")
        for path in STACK_FILES:
            committed, base_file, new_file = head_file(root, path), p0 / path, p1 / path
            if committed is None or not base_file.is_file() or not new_file.is_file():
                continue
            user, base = committed.decode(), base_file.read_text()
            for name in gone:
                user_lines, base_lines = user.splitlines(keepends=True), base.splitlines(keepends=True)
                user_span, base_span = block_span(user_lines, name), block_span(base_lines, name)
                if user_span is None or base_span is None:
                    continue
                block = user_lines[user_span[0]:user_span[1]]
                if block != base_lines[base_span[0]:base_span[1]]:
                    edited = base_lines[:base_span[0]] + block + base_lines[base_span[1]:]
                    diffs[name].append((path, unified_diff(path, base, "".join(edited))))
                user = "".join(user_lines[:user_span[0]] + user_lines[user_span[1]:])
                base = "".join(base_lines[:base_span[0]] + base_lines[base_span[1]:])
            fresh = new_file.read_bytes()
            content, conflicted = merge(user.encode(), base.encode(), fresh) if user != base else (fresh, False)
            target = root / path
            if not target.is_file() or target.read_bytes() != content:
                write_keeping_mode(target, content)
                result.merged.append(path)
            settle(root, path)
            result.conflicts += [path] if conflicted else []
        for name in gone:
            for path in git_paths(root, "ls-tree", "-r", "--name-only", "HEAD", "--", f"services/{name}/"):
                user_bytes, base_file = head_file(root, path), p0 / path
                if owned(path) or user_bytes is None or not base_file.is_file():
                    continue
                if user_bytes != base_file.read_bytes():
                    diffs[name].append((path, unified_diff(
                        path, base_file.read_bytes().decode(errors="replace"), user_bytes.decode(errors="replace"))))
    for name, found in diffs.items():
        if not found:
            continue
        found.sort()
        patch = f"{REMOVED_DIR}/{name}.patch"
        for number in range(2, 1000):  # a service removed before keeps its earlier patch
            if not (root / patch).exists():
                break
            patch = f"{REMOVED_DIR}/{name}-{number}.patch"
        header = (f"# Your edits of the template-owned files of the removed service '{name}', as a diff\n"
                  "# against the template's own render of them (scripts/update.py remove-service).\n")
        write_keeping_mode(root / patch, (header + "".join(d for _, d in found)).encode())
        result.edited[name] = [path for path, _ in found]
        result.patches[name] = patch
    return result


def report_identity(identity: Identity) -> None:
    for name, patch in identity.patches.items():
        say(f"service '{name}': your edits of its template files are kept in {patch} "
            "(commit it with this change):")
        for path in identity.edited[name]:
            say(f"  {path}" + (f" (the '{name}' block)" if path in STACK_FILES else ""))
    for path in identity.conflicts:
        say(f"CONFLICT in {path}: your edits meet the template's changes; resolve the markers")


def upstreams(stack: str) -> dict[str, str]:
    """The UPSTREAM_URL target of each service block of a stack file."""
    found, current = {}, ""
    for line in stack.splitlines():
        key = SERVICE_KEY.match(line)
        if key:
            current = key.group(1)
            continue
        url = UPSTREAM_URL.match(line)
        if url and current:
            found[current] = url.group(1)
    return found


def keep_ports(root: Path) -> list[str]:
    """Before the update: keep the host ports and say which upstreams the rules change.

    Older templates gave the n-th service port 8000+n; the template now takes
    a checksum of the name (hooks/services.py default_port). Each api whose
    port in this project's dev stack differs gets `port=N` in the services
    answer, which the new version reads. Returns the pinned words.
    """
    path = root / ANSWERS_FILE
    text = path.read_text()
    answers = load_answers(text)
    spec, layout = str(answers.get("services", "")), str(answers.get("layout", "multi"))
    try:
        services = parse(spec, layout)
    except ServicesError:
        return []  # the update's own validation says what is wrong
    stack = (head_file(root, "deploy/dev/docker-compose.yml")
             or head_file(root, "deploy/prod/docker-compose.yml") or b"").decode(errors="replace")
    have = {env: int(port) for env, port in PORT_DEFAULT.findall(stack)}
    words = [str(item["word"]) for item in parse_services(spec, layout)]

    def pin(every: bool) -> list[str]:
        return [f"{word}:port={have[s.package.upper()]}"
                if s.kind == "api" and s.dev_port is None and s.package.upper() in have
                and (every or have[s.package.upper()] != default_port(s.name)) else word
                for word, s in zip(words, services, strict=True)]

    out = pin(every=False)
    try:
        parse(" ".join(out), layout)
    except ServicesError:
        out = pin(every=True)  # an unpinned default meets a kept port: keep every api's
    pinned = [word for word in out if word not in words]
    for name, target in upstreams(stack).items():
        service = next((s for s in services if s.name == name), None)
        rule = upstream_of(service, services) if service else target
        if service and rule != target:
            say(f"'{name}' called '{target}' (UPSTREAM_URL), chosen by its place in the list; "
                f"the template now gives a node api the python api named 'api'"
                f"{'' if rule else ' (none here)'}: to keep '{target}', set UPSTREAM_URL in "
                "your compose override")
    if pinned:
        value = yaml.safe_dump({"services": " ".join(out)}, width=1 << 20).rstrip("\n")
        lines, kept, skipping = text.splitlines(keepends=True), [], False
        for line in lines:
            if line.startswith("services:"):
                kept.append(value + "\n")
                skipping = True
            elif skipping and line[:1] in (" ", "\t"):
                continue  # a folded long answer
            else:
                skipping = False
                kept.append(line)
        path.write_text("".join(kept))
        say("kept the host ports this project had (now in the services answer): " + " ".join(pinned))
    return pinned


def after_update(root: Path, template: Path, version_from: str) -> None:
    from layout_switch import check_layouts, moves, service_files, switch_layout

    old = load_answers(head_file(root, ANSWERS_FILE))
    new = load_answers((root / ANSWERS_FILE).read_text())
    try:
        check_layouts(old, new)
    except (MigrationError, GitError) as error:
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
    fresh |= new_user_files(root, owned, layout, old,
                            lambda: project_files(old_render(template, old, version_from)),
                            moved=lambda path: moves(path, service_files(template)))
    merge_llm_samples(root, template, old, new, version_from)
    stack_llm_revision(root, new_llm_files(root, old, new))
    merge_secret_settings(root, template, old, new, version_from)
    secrets_by_name(root, template, new)
    for line in drop_old_ruff_tables(root):
        say(line)
    unstage_makefile(root)
    kept = keep_user_files(root, owned, layout, fresh)
    identity = None
    if old.get("layout") == "multi" == layout and old.get("services") != new.get("services"):
        try:
            identity = keep_service_edits(root, template, old, new, version_from, owned)
        except (MigrationError, GitError) as error:
            say(f"could not merge the stack files by service ({error}): check them in `git diff`")
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
    if identity is not None:
        report_identity(identity)
    # The manifests are the user's; sync-dependencies edited them through uv
    # and npm: relock what changed, write missing locks (hooks/dependencies.py).
    from dependencies import refresh_locks

    refresh_locks(root)


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
    from layout_switch import check_layouts

    old = load_answers((root / ANSWERS_FILE).read_text() if (root / ANSWERS_FILE).is_file() else "")
    check_answers_match_files(root, old)
    new = {k: v for k, v in (("layout", layout), ("services", services)) if v}
    check_layouts(old, new)


def check_answers_match_files(root: Path, answers: dict) -> None:
    """Refuse an answers file the project's files contradict: a hand edit Copier would act on.

    Copier takes the answers file as the truth. A `layout` edited by hand
    would flatten a multi project or scatter a single one, and a refused
    `services` answer would silently fall back to the template's default.
    """
    if not answers:
        return
    layout = answers.get("layout", "multi")
    if layout not in ("multi", "single"):
        raise MigrationError(f"{ANSWERS_FILE}: layout is {layout!r}; it must be multi or single")
    folders = sorted(p.parent.name for p in root.glob("services/*/Dockerfile"))
    if layout == "single" and folders:
        raise MigrationError(
            f"{ANSWERS_FILE} says layout: single, but the project has services/{folders[0]}/: "
            "put back layout: multi (a multi project may have one service)"
        )
    if layout == "multi" and not folders and (root / "Dockerfile").is_file():
        raise MigrationError(
            f"{ANSWERS_FILE} says layout: multi, but the service is at the project root: "
            "put back layout: single, then run make switch-layout"
        )
    try:
        parse(answers.get("services", ""), layout)
    except ServicesError as error:
        raise MigrationError(f"{ANSWERS_FILE}: services is refused: {error}") from error
    # Copier drops an answer the new version refuses and takes the default instead.
    for name, error_of in ANSWER_CHECKS.items():
        if name in answers and (message := error_of(answers[name])):
            raise MigrationError(f"{ANSWERS_FILE}: {name} is refused: {message}")


# ---------------------------------------------------------- extension points
LOCAL_MK = "local.mk"
INCLUDE_LOCAL_MK = "-include local.mk"
# A line that includes local.mk, the template's or the user's own.
INCLUDES_LOCAL_MK = re.compile(r"^\s*(-|s)?include\s+(\./)?local\.mk\s*$")
RULE = re.compile(r"^[^\s#=:][^=]*?::?(?!=)")
MOVED_HEADER = (
    "\n# Moved here from the Makefile by `make update` (the template now includes\n"
    "# this file at the end of its Makefile): your additions, as you wrote them.\n"
)


def includes_local_mk(makefile: bytes | None) -> bool:
    """Whether a Makefile has the template's `-include local.mk` line."""
    return makefile is not None and INCLUDE_LOCAL_MK in makefile.decode(errors="replace").splitlines()


# ------------------------------------------------------------ a new component
# The llm component's user-owned files (hooks/files.py): new files of a project
# that adds llm, not files the user deleted.
LLM_FILES = ("src/*/runs.py", "migrations/versions/llm_0001_runs.py",
             "tests/integration/test_llm_client.py", "tests/integration/test_llm_runs.py")
# User-owned sample code the llm component adds lines to (its routes, tasks,
# settings, tables): merged into the team's copy, never overwritten.
LLM_SAMPLES = ("src/{package}/settings.py", "src/{package}/main.py", "src/{package}/worker.py",
               "src/{package}/scheduler.py", "src/{package}/models.py",
               "tests/integration/conftest.py")


def adds_llm(old: dict, new: dict) -> bool:
    return "llm" not in (old.get("components") or ()) and "llm" in (new.get("components") or ())


def new_llm_files(root: Path, old: dict, new: dict) -> set[str]:
    """The llm component's user-owned files this update created, when it added llm."""
    if not adds_llm(old, new):
        return set()
    fresh = set()
    for path in created(root):
        parts = path.split("/")
        rest = "/".join(parts[2:]) if parts[0] == "services" and len(parts) > 2 else path
        if any(fnmatch.fnmatchcase(rest, pattern) for pattern in LLM_FILES):
            fresh.add(path)
    return fresh


def merge_llm_samples(root: Path, template: Path, old: dict, new: dict, version_from: str) -> None:
    """A project that adds llm: the component's lines merged into the user's sample code."""
    if not adds_llm(old, new):
        return
    merge_samples(root, template, old, new, version_from, "llm", "the sample runs' lines",
                  lambda svc: list(LLM_SAMPLES) if svc["language"] == "python" else [],
                  by_hand="add the sample runs by hand (docs/development.md)")


LLM_REVISION = "migrations/versions/llm_0001_runs.py"


def revision_ids(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """A revision file's `revision` and `down_revision` (read with ast), or None if it has no revision."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    found: dict[str, object] = {}
    for node in tree.body:
        # `revision = "..."`, or Alembic's newer `revision: str = "..."`
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(node.value)
            except ValueError:
                return None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        return None
    downs = (down,) if isinstance(down, str) else tuple(d for d in down or () if isinstance(d, str))
    return revision, downs


def stack_llm_revision(root: Path, fresh: Iterable[str]) -> None:
    """The llm revision this update created goes on top of the team's own revisions (one head).

    It revises 0001; a service whose team wrote revisions after 0001 would get
    a second Alembic head, and `alembic upgrade head` refuses that. The file is
    new in this update (the team never had it), so rewriting it is safe.
    """
    for rel in sorted(p for p in fresh if p == LLM_REVISION or p.endswith(f"/{LLM_REVISION}")):
        path = root / rel
        revisions = dict(filter(None, (revision_ids(other) for other in path.parent.glob("*.py")
                                       if other != path)))
        parents = {parent for downs in revisions.values() for parent in downs}
        heads = sorted(set(revisions) - parents)
        if not heads or heads == ["0001"]:
            continue
        if len(heads) > 1:
            service = Path(rel).parent.parent.parent.as_posix()
            say(f"{rel}: revises 0001, and this service's revisions have several heads already "
                f"({', '.join(heads)}): join them with `alembic merge heads` in {service} before `make migrate`")
            continue
        head = heads[0]
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        at = [i for i, line in enumerate(lines) if line.rstrip() == 'down_revision = "0001"']
        if len(at) != 1:
            continue
        lines[at[0]] = f"down_revision = {json.dumps(head)}\n"
        docstring = next((i for i, line in enumerate(lines[:at[0]]) if line.rstrip() == "Revises: 0001"), None)
        if docstring is not None:
            lines[docstring] = f"Revises: {head}\n"
        path.write_text("".join(lines), encoding="utf-8")
        say(f"{rel}: revises {head} now, the head of your revisions (not 0001: one Alembic head)")


# ------------------------------------------------------------- secret files
# The prod stack gives services their passwords as files (DATABASE_PASSWORD_FILE
# ...): the user-owned settings read them (with_secrets / withSecrets), which
# settings written by older versions do not.
SECRETS_MARKERS = {"python": "def with_secrets(", "node": "export function withSecrets("}


def settings_file(svc: dict) -> str:
    """A service's user-owned settings module, relative to its folder ("" when it has none)."""
    if svc["kind"] == "frontend":
        return ""
    if svc["language"] == "python":
        return "src/{package}/settings.py"
    return "src/config.ts" if svc["language"] == "ts" else "src/config.js"


def lacks_secret_files(root: Path, svc: dict) -> bool:
    """The service's settings exist and do not read secret files yet."""
    pattern = settings_file(svc)
    if not pattern:
        return False
    folder = "" if svc["path"] == "." else f"{svc['path']}/"
    path = root / (folder + pattern.format(package=svc["package"]))
    runtime = "python" if svc["language"] == "python" else "node"
    try:
        return SECRETS_MARKERS[runtime] not in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def merge_secret_settings(root: Path, template: Path, old: dict, new: dict, version_from: str) -> None:
    """Older projects: the template's secret-file reading merged into the user's settings."""
    try:
        services = parse_services(new.get("services", ""), new.get("layout", "multi"))
    except ServicesError:
        return
    if not any(lacks_secret_files(root, svc) for svc in services):
        return
    by_hand = "read NAME_FILE variables in your settings by hand (docs/deploy.md, Secrets)"
    lacking = [svc for svc in services if lacks_secret_files(root, svc)]
    handled = merge_samples(root, template, old, new, version_from, "secrets",
                            "secret files read (the prod stack gives passwords as files)",
                            lambda svc: [settings_file(svc)] if svc in lacking else [], by_hand=by_hand)
    for svc in lacking:
        folder = "" if svc["path"] == "." else f"{svc['path']}/"
        path = folder + settings_file(svc).format(package=svc["package"])
        if path not in handled:
            say(f"secrets: {path} does not read secret files yet, which the prod stack needs: {by_hand}")


# The settings of dbd23d3..12d2f24 (rendered then, or merged into older settings
# by an update to those versions) read EVERY NAME_FILE variable of the environment
# as a secret file: a machine's TF_CLI_CONFIG_FILE or SSL_CERT_FILE broke them.
# Since cbb0ed9 they read the names in SECRETS only. Each with the line end and
# blank lines before it, as the template wrote them.
EVERY_FILE_PY = '''


def with_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """env with its secret files read (compose and swarm mount secrets as files).

    NAME_FILE=/run/secrets/x sets NAME to that file's contents, and a
    NAME_PASSWORD (read so or set) goes into NAME_URL: the prod stack gives
    DATABASE_URL without its password, and DATABASE_PASSWORD_FILE.
    """
    out = dict(env)
    for key, path in env.items():
        if key.endswith("_FILE") and path:
            out[key.removesuffix("_FILE")] = Path(path).read_text(encoding="utf-8").rstrip("\\r\\n")
    for key, password in list(out.items()):
        url_key = key.removesuffix("_PASSWORD") + "_URL"
        if key.endswith("_PASSWORD") and password and out.get(url_key):
            out[url_key] = with_password(out[url_key], password)
    return out
'''
EVERY_FILE_NODE = """
// The environment with its secret files read (compose and swarm mount secrets as files):
// NAME_FILE=/run/secrets/x sets NAME to that file's contents, and a NAME_PASSWORD (read so
// or set) goes into NAME_URL: the prod stack gives DATABASE_URL without its password, and
// DATABASE_PASSWORD_FILE.
export function withSecrets(env{typed}){typed} {{
  const out = {{ ...env }};
  for (const [key, path] of Object.entries(env)) {{
    if (key.endsWith('_FILE') && path) {{
      out[key.slice(0, -'_FILE'.length)] = readFileSync(path, 'utf8').replace(/[\\r\\n]+$/, '');
    }}
  }}
  for (const [key, password] of Object.entries(out)) {{
    const urlKey = `${{key.slice(0, -'_PASSWORD'.length)}}_URL`;
    const url = out[urlKey];
    if (key.endsWith('_PASSWORD') && password && url) {{
      const parsed = new URL(url);
      parsed.password = password; // percent-encoded by URL
      out[urlKey] = parsed.href;
    }}
  }}
  return out;
}}
"""
# {language: (that text, what shows a copy the team changed, today's text in a render)}
EVERY_FILE = {
    "python": (EVERY_FILE_PY, 'if key.endswith("_FILE")',
               re.compile(r"\n+(?:#[^\n]*\n)*SECRETS\b.*?\ndef with_secrets\(.*?\n    return out\n", re.S)),
    "node": (EVERY_FILE_NODE.format(typed=""), "if (key.endsWith('_FILE')",
             re.compile(r"\n+(?://[^\n]*\n)*export const SECRETS\b.*?\nexport function withSecrets\(.*?"
                        r"\n  return out;\n\}\n", re.S)),
}
EVERY_FILE["ts"] = (EVERY_FILE_NODE.format(typed=": NodeJS.ProcessEnv"), *EVERY_FILE["node"][1:])


def secrets_by_name(root: Path, template: Path, new: dict) -> None:
    """Settings that read every NAME_FILE as a secret (dbd23d3..12d2f24) read the names in SECRETS.

    The text as those versions wrote it becomes today's, from a render of the
    new version (its SECRETS are this service's); a copy the team changed is
    left as it is, with one line on what to change.
    """
    try:
        services = parse_services(new.get("services", ""), new.get("layout", "multi"))
    except ServicesError:
        return
    found: dict[str, str] = {}  # path: language
    for svc in services:
        pattern = settings_file(svc)
        if not pattern:
            continue
        path = ("" if svc["path"] == "." else f"{svc['path']}/") + pattern.format(package=svc["package"])
        language = svc["language"] if svc["language"] in EVERY_FILE else "node"
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        old, changed, _ = EVERY_FILE[language]
        if text.count(old) == 1:
            found[path] = language
        elif changed in text:
            say(f"secrets: {path} reads every NAME_FILE variable of the environment as a secret (one "
                "that is none, such as TF_CLI_CONFIG_FILE, breaks it): read only the names of a SECRETS "
                "list, as the template's settings do now (docs/deploy.md, Secrets)")
    if not found:
        return
    with tempfile.TemporaryDirectory(prefix="copier-secrets-") as tmp:
        try:
            ours = render(template, str(new.get("_commit", "")), new, Path(tmp, "new"),
                          fallback=str(new.get("_src_path", "")))
        except MigrationError as error:
            say(f"secrets: could not render the template ({error}); make {', '.join(found)} read only "
                "the names of a SECRETS list, as the template's settings do now (docs/deploy.md, Secrets)")
            return
        for path, language in found.items():
            old, _, today = EVERY_FILE[language]
            try:
                block = today.search((ours / path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                block = None
            if block is None:
                say(f"secrets: {path}: the template renders no SECRETS there; read only the secret "
                    "files you mean (docs/deploy.md, Secrets)")
                continue
            user = root / path
            user.write_bytes(user.read_bytes().replace(old.encode(), block.group(0).encode(), 1))
            say(f"secrets: {path}: reads only the names in SECRETS now, no longer every NAME_FILE "
                "variable of the environment (add your own secrets there)")


def merge_samples(root: Path, template: Path, old: dict, new: dict, version_from: str, topic: str,
                  what: str, samples: Callable[[dict], list[str]], by_hand: str) -> set[str]:
    """The template's changes to user-owned sample code merged into the team's copy.

    Three-way, per file (samples(svc): paths in the service's folder, {package}
    for its package): the previous template version's render with the old
    answers is the base, the new version's render with the new answers the
    template's side, the project's file the user's side. A clean merge is
    written; a conflicting one leaves the file as it is and says what to add.
    The paths merged or reported.
    """
    handled: set[str] = set()
    try:
        services = parse_services(new.get("services", ""), new.get("layout", "multi"))
    except ServicesError:
        return handled
    with tempfile.TemporaryDirectory(prefix=f"copier-{topic}-") as tmp:
        try:
            base = old_render(template, old, version_from)
            ours = render(template, str(new.get("_commit", "")), new, Path(tmp, "new"),
                          fallback=str(new.get("_src_path", "")))
        except MigrationError as error:
            say(f"{topic}: could not render the template ({error}); {by_hand}")
            return handled
        for svc in services:
            folder = "" if svc["path"] == "." else f"{svc['path']}/"
            for pattern in samples(svc):
                path = folder + pattern.format(package=svc["package"])
                user, was, now = root / path, base / path, ours / path
                if not (user.is_file() and was.is_file() and now.is_file()):
                    continue
                if was.read_bytes() == now.read_bytes():
                    continue
                merged, conflicted = merge(user.read_bytes(), was.read_bytes(), now.read_bytes())
                handled.add(path)
                if conflicted:
                    say(f"{topic}: {path} left as it was (your edits overlap the template's); "
                        f"add by hand:\n{unified_diff(path, was.read_text(), now.read_text())}")
                    continue
                if merged != user.read_bytes():
                    write_keeping_mode(user, merged)
                    say(f"{topic}: {path}: {what}, merged into yours")
    return handled


def unstage_makefile(root: Path) -> None:
    """Unstage the Makefile extension_points staged for Copier's diff: git diff shows its whole update."""
    makefile = head_file(root, "Makefile")
    if makefile is None or includes_local_mk(makefile) or git(root, "ls-files", "--unmerged", "--", "Makefile"):
        return
    git(root, "reset", "--quiet", "--", "Makefile")


@dataclass
class MakefileEdit:
    """A change of the user's Makefile against the pristine render: where and what."""

    line: int  # first line in the user's Makefile (1-based); where a deletion was for deletions
    target: str  # the template target whose lines it touches, or ""
    removed: list[str]
    added: list[str]


@dataclass
class MakefileSplit:
    makefile: str  # the user's Makefile without the movable additions
    moved: list[str] = field(default_factory=list)  # lines for local.mk, blocks separated by ""
    kept: list[MakefileEdit] = field(default_factory=list)
    dropped_includes: bool = False


def _is_recipe(line: str) -> bool:
    return line.startswith("\t")


def _self_contained(block: list[str]) -> bool:
    """Lines that make sense on their own: every recipe line belongs to a rule of the block."""
    in_rule = continued = False
    for line in block:
        if continued:
            continued = line.rstrip("\n").endswith("\\")
            continue
        continued = line.rstrip("\n").endswith("\\")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _is_recipe(line):
            if not in_rule:
                return False
        else:
            in_rule = bool(RULE.match(line))
    return not continued


def _target_at(pristine: list[str], index: int) -> str:
    """The template target whose rule or recipe line index is (or follows), if any."""
    for line in reversed(pristine[:index + 1]):
        if _is_recipe(line) or not line.strip() or line.startswith("#"):
            continue
        match = RULE.match(line)
        return match.group(0).rstrip(":") if match and not line.startswith(".") else ""
    return ""


def split_makefile(user: str, pristine: str) -> MakefileSplit:
    """Separate the user's additions to a template Makefile from edits of its lines.

    An addition moves to local.mk when it stands on its own: whole lines
    inserted between the template's rules, whose recipe lines belong to
    rules of their own. Edits of template lines, and lines inserted into a
    template recipe, stay where they are.
    """
    ours, theirs = pristine.splitlines(keepends=True), user.splitlines(keepends=True)
    result = MakefileSplit("")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        block = theirs[j1:j2]
        if tag == "equal":
            out += block
            continue
        inside_recipe = i1 < len(ours) and _is_recipe(ours[i1])
        after_continuation = i1 > 0 and ours[i1 - 1].rstrip("\n").endswith("\\")
        if tag == "insert" and not inside_recipe and not after_continuation and _self_contained(block):
            lines = [line.rstrip("\n") for line in block]
            if any(INCLUDES_LOCAL_MK.match(line) for line in lines):
                result.dropped_includes = True  # the template includes it now
                lines = [line for line in lines if not INCLUDES_LOCAL_MK.match(line)]
            while lines and not lines[0].strip():
                lines.pop(0)
            while lines and not lines[-1].strip():
                lines.pop()
            if lines:
                result.moved += ([""] if result.moved else []) + lines
            continue
        out += block
        result.kept.append(MakefileEdit(
            line=j1 + 1, target=_target_at(ours, max(i1 - 1, 0) if tag == "insert" else i1),
            removed=[line.rstrip("\n") for line in ours[i1:i2]],
            added=[line.rstrip("\n") for line in block],
        ))
    result.makefile = "".join(out)
    return result


def _describe(edit: MakefileEdit) -> list[str]:
    where = "Makefile" + (f", target `{edit.target}`" if edit.target else "") + f" (line {edit.line} before the update)"
    lines = [f"{where}: your edit of the template's lines stays in the Makefile; "
             "to keep future updates free of conflicts, move it into local.mk by hand"
             + (" (a target of your own that runs the template's, say)" if edit.target else "") + ":"]
    lines += [f"  - {line}" for line in edit.removed] + [f"  + {line}" for line in edit.added]
    return lines


def extension_points(root: Path, template: Path, version_from: str) -> list[str]:
    """Before the update of a project from before local.mk: move its Makefile additions there.

    Runs before Copier diffs the project against the old render (it diffs
    the index), so the moved lines are staged: Copier then sees a Makefile
    without them and a local.mk of the user's, and the Makefile updates
    without conflict. When they cannot move (the old version does not
    render, local.mk is git-ignored) nothing changes and the report says
    what to move by hand.
    """
    user = head_file(root, "Makefile")
    if user is None or includes_local_mk(user):
        return []
    readme = ["README.md is yours from now on: this and later updates leave it as it is. "
              "The template's documentation of the tooling (targets, tests, releases, updating, "
              "extension points) is docs/development.md now: link it from README.md and delete "
              "what you no longer need there."]
    answers = load_answers(head_file(root, ANSWERS_FILE))
    with tempfile.TemporaryDirectory(prefix="copier-old-") as tmp:
        try:
            pristine = render(template, version_from or answers.get("_commit", ""), answers, Path(tmp) / "old",
                              fallback=str(answers.get("_src_path", "")))
        except (MigrationError, GitError) as error:
            return [f"your additions to the Makefile stay in it ({error}): move your own targets and "
                    f"variables into {LOCAL_MK} by hand, the Makefile includes it now"] + readme
        base = (pristine / "Makefile").read_bytes() if (pristine / "Makefile").is_file() else None
    if base is None or includes_local_mk(base):
        return readme  # the old version had no Makefile, or the user removed the include
    split = split_makefile(user.decode(errors="surrogateescape"), base.decode(errors="surrogateescape"))
    report = []
    ignored = bool(split.moved) and run_git(root, "check-ignore", "--quiet", "--", LOCAL_MK,
                                            check=False).returncode == 0
    if ignored:
        report.append(f"{LOCAL_MK} is ignored by git, so your additions stay in the Makefile: "
                      f"move these lines into {LOCAL_MK} yourself (or un-ignore it):")
        report += [f"  {line}" for line in split.moved]
    elif split.moved or split.dropped_includes:
        staged = ["Makefile"]
        if split.moved:
            local = root / LOCAL_MK
            starter = template / "template" / LOCAL_MK
            text = local.read_text() if local.is_file() else starter.read_text() if starter.is_file() else ""
            text += "\n" if text and not text.endswith("\n") else ""
            local.write_text(text + MOVED_HEADER + "\n".join(split.moved) + "\n",
                             encoding="utf-8", errors="surrogateescape")
            staged.append(LOCAL_MK)
            targets = [m.group(0).rstrip(":") for line in split.moved if (m := RULE.match(line))
                       and not line.startswith(".")]
            report.append(f"moved your additions to the Makefile into {LOCAL_MK} (yours; the Makefile "
                          "includes it)" + (f": targets {', '.join(targets)}" if targets else ""))
        (root / "Makefile").write_bytes(split.makefile.encode(errors="surrogateescape"))
        git(root, "add", "--", *staged)
        if split.dropped_includes:
            report.append(f"dropped your include of {LOCAL_MK} from the Makefile: the template's Makefile "
                          "includes it now")
    for edit in split.kept:
        report += _describe(edit)
    return report + readme


# ------------------------------------------------------------ switch-import
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


# ------------------------------------------------------------------ testkit
# wait_for/waitFor as every template version before testkit/ rendered them into
# the user-owned conftest.py files and Node live tests.
LEGACY_WAIT_FOR = '''\
def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.2,
             what: str = "condition") -> T:
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - keep polling, report the last one
            last_error = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from last_error
        time.sleep(interval)
'''
LEGACY_WAIT_FOR_JS = '''\
export async function waitFor(predicate, { timeout = 30_000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
'''
TESTKIT_IMPORT = "from testkit import wait_for\n"


class ChangedHelper(Exception):
    """The file defines the helper, but not as the template rendered it."""


def _top_level_names(tree: ast.Module, skip: ast.stmt | None = None) -> set[str]:
    """Every name the module reads or binds, outside the statement skip."""
    return {node.id for stmt in tree.body if stmt is not skip
            for node in ast.walk(stmt) if isinstance(node, ast.Name)}


def _drop_statement(text: str, stmt: ast.stmt) -> str:
    lines = text.splitlines(keepends=True)
    del lines[stmt.lineno - 1:stmt.end_lineno]
    return "".join(lines)


def _drop_unused(text: str, binds: Callable[[ast.stmt], bool], name: str) -> str:
    """Remove the top-level statement that only binds name, when nothing else uses name."""
    tree = ast.parse(text)
    found = next((stmt for stmt in tree.body if binds(stmt)), None)
    if found is None or name in _top_level_names(tree, skip=found):
        return text
    return _drop_statement(text, found)


def adopt_testkit_python(text: str) -> str | None:
    """A conftest.py with the template's old inline wait_for, importing testkit's instead.

    None when the file defines no wait_for; ChangedHelper when it defines one
    the user changed. Imports and the TypeVar only wait_for used go with it.
    """
    tree = ast.parse(text)
    defined = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "wait_for"]
    if not defined:
        return None
    lines = text.splitlines(keepends=True)
    found = defined[0]
    if len(defined) > 1 or found.decorator_list or \
            "".join(lines[found.lineno - 1:found.end_lineno]) != LEGACY_WAIT_FOR:
        raise ChangedHelper("wait_for")
    text = _drop_statement(text, found)
    text = _drop_unused(text, lambda s: isinstance(s, ast.Assign) and len(s.targets) == 1
                        and isinstance(s.targets[0], ast.Name) and s.targets[0].id == "T", "T")
    text = _drop_unused(text, lambda s: isinstance(s, ast.ImportFrom) and s.module == "typing"
                        and [a.name for a in s.names] == ["TypeVar"] and not s.names[0].asname, "TypeVar")
    text = _drop_unused(text, lambda s: isinstance(s, ast.Import)
                        and [(a.name, a.asname) for a in s.names] == [("time", None)], "time")
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    tree = ast.parse(text)
    imports = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)
               and getattr(s, "module", "") != "__future__"]
    lines = text.splitlines(keepends=True)
    # After the last import (testkit is first-party: a section of its own).
    at = imports[-1].end_lineno if imports else (tree.body[0].end_lineno if tree.body else 0)
    lines[at:at] = ["\n", TESTKIT_IMPORT]
    return "".join(lines)


def adopt_testkit_node(text: str, module: str) -> str | None:
    """A Node test with the template's old inline waitFor, importing testkit's where it uses it."""
    if not re.search(r"^export async function waitFor\b", text, re.M):
        return None
    if LEGACY_WAIT_FOR_JS not in text:
        raise ChangedHelper("waitFor")
    text = text.replace("\n" + LEGACY_WAIT_FOR_JS, "", 1)
    if re.search(r"\bwaitFor\(", text):
        lines = text.splitlines(keepends=True)
        last = max((i for i, line in enumerate(lines) if re.match(r"import\b.*;\s*$", line)), default=-1)
        lines[last + 1:last + 1] = ["\n", f"import {{ waitFor }} from '{module}';\n"]
        text = "".join(lines)
    return text


def _project_of(root: Path, path: Path, manifest: str) -> Path | None:
    """The folder of the nearest manifest (pyproject.toml, package.json) above path, in root."""
    for folder in path.parents:
        if (folder / manifest).is_file():
            return folder
        if folder == root:
            return None
    return None


def adopt_testkit(root: Path) -> list[str]:
    """Replace the old inline wait_for/waitFor of user-owned tests by testkit's. The report."""
    report = []
    for rel in git_paths(root, "ls-files", "--", "*conftest.py", "*.test.js"):
        path = root / rel
        python = rel.endswith(".py")
        project = _project_of(root, path, "pyproject.toml" if python else "package.json")
        helper = Path("testkit/__init__.py" if python else "testkit/wait-for.js")
        try:
            text = path.read_text()
            if python:
                new = adopt_testkit_python(text)
            else:
                module = Path(os.path.relpath((project or root) / helper, path.parent)).as_posix()
                new = adopt_testkit_node(text, module if module.startswith(".") else f"./{module}")
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue
        except ChangedHelper as changed:
            report.append(f"{rel}: defines its own {changed}, changed since the template made it: left "
                          f"alone; the template's, kept up to date by updates, is in {helper}")
            continue
        if new is None:
            continue
        if project is None or not (project / helper).is_file():
            report.append(f"{rel}: keeps its own copy of the template's old helper: no {helper} beside it")
            continue
        path.write_text(new)
        report.append(f"{rel}: imports the template's helper from {helper} instead of its own copy")
    return report


# --------------------------------------------------------------------- lint
# The Node live tests as every template before `make lint` rendered them fail
# eslint's no-unused-vars: an api's test imports execFileSync and never calls
# it; a worker's imports expect and defines requiredEnv without using them.
UNUSED_EXEC_IMPORT = "import { execFileSync } from 'node:child_process';\n"
WORKER_TEST_START = "  it('reports healthy', async () => {\n    const health = () => {\n"
WORKER_TEST_START_NOW = (
    "  it('reports healthy', async () => {\n"
    "    // `docker compose ps` needs the stack the scripts started, not the folder's default one.\n"
    "    requiredEnv('COMPOSE_PROJECT_NAME');\n"
    "    const health = () => {\n")
WORKER_TEST_WAIT = re.compile(
    r"^(    await waitFor\(\(\) => health\(\) === 'healthy', \{[^\n]*\}\);\n)(  \}, 70_000\);\n)", re.M)


def lint_clean_node_test(text: str) -> str | None:
    """A Node live test as the template renders it now, or None when there is nothing to do."""
    new = text
    if UNUSED_EXEC_IMPORT in new and new.count("execFileSync") == 1:
        new = new.replace(UNUSED_EXEC_IMPORT, "", 1)
    # The worker's test calls the file's own requiredEnv (the template's tests define it).
    if (new.count(WORKER_TEST_START) == 1 and len(WORKER_TEST_WAIT.findall(new)) == 1
            and "function requiredEnv(" in new and "requiredEnv('COMPOSE_PROJECT_NAME')" not in new):
        new = new.replace(WORKER_TEST_START, WORKER_TEST_START_NOW, 1)
        new = WORKER_TEST_WAIT.sub(r"\1    expect(health()).toBe('healthy');\n\2", new, count=1)
    return None if new == text else new


def lint_clean_tests(root: Path) -> list[str]:
    """Rewrite the user-owned Node live tests that only the old template's text keeps from eslint."""
    report = []
    for rel in git_paths(root, "ls-files", "--", "*.live.test.js"):
        path = root / rel
        try:
            new = lint_clean_node_test(path.read_text())
        except (OSError, UnicodeDecodeError):
            continue
        if new is not None:
            path.write_text(new)
            report.append(f"{rel}: unused imports fixed as the template now writes them (make lint runs eslint)")
    return report


# ------------------------------------------------------------ ruff settings
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


# ---------------------------------------------------------- one-shot-steps
# The cross-service test of older projects expects a running, healthy container
# for every service of the stack; one-shot migrate steps have exited by then.
STACK_TEST = "tests/integration/test_stack.py"
OLD_EXPECTED = '    expected = set(compose("config", "--services").split())\n'
NEW_EXPECTED = (
    "    # One-shot steps (<name>-migrate) have run and exited: they are not expected here.\n"
    '    expected = {name for name in compose("config", "--services").split()\n'
    '                if not name.endswith("-migrate")}\n'
)


def skip_one_shot_steps(root: Path) -> list[str]:
    """The user-owned stack test's expected services without the one-shot steps. The report."""
    path = root / STACK_TEST
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    if OLD_EXPECTED not in text:
        return []
    path.write_text(text.replace(OLD_EXPECTED, NEW_EXPECTED), encoding="utf-8")
    return [f"{STACK_TEST}: one-shot <name>-migrate steps are no longer expected to be running"]


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
    commands.add_parser("keep-ports", help="pin the host ports an older template gave by position")
    commands.add_parser("extension-points", help="move an old project's Makefile additions to local.mk")
    commands.add_parser("adopt-testkit", help="old inline wait_for helpers of user tests -> testkit")
    commands.add_parser("lint-clean-tests", help="old Node live tests -> what passes eslint")
    commands.add_parser("sync-dependencies", help="apply the template's dependency changes via uv / npm")
    commands.add_parser("one-shot-steps", help="the stack test of older projects skips <name>-migrate")
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
        elif args.command == "keep-ports":
            keep_ports(root)
        elif args.command == "extension-points":
            for line in extension_points(root, args.template, version_from):
                say(line)
        elif args.command == "adopt-testkit":
            for line in adopt_testkit(root):
                say(line)
        elif args.command == "lint-clean-tests":
            for line in lint_clean_tests(root):
                say(line)
        elif args.command == "sync-dependencies":
            from dependencies import sync

            sync(root, args.template, version_from)
        elif args.command == "one-shot-steps":
            for line in skip_one_shot_steps(root):
                say(line)
        elif args.command == "switch-import":
            for path in switch_import(root, args.template, args.old, args.new):
                say(f"{path}: imports {args.new} in place of {args.old}, which the project no longer installs")
        else:
            after_update(root, args.template, version_from)
    except (MigrationError, GitError) as error:
        print(f"migration failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
