"""What every part of the update uses: git, answers, renders, merges, errors, the Context.

Standard library, PyYAML and hooks/gitutil.py, hooks/services.py at start-up;
pathspec and Copier only where a step needs them (user_owned, render): every
`copier update` starts this package twice, also when it has nothing to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from gitutil import GitError, git
from gitutil import paths as git_paths
from gitutil import run as run_git
from gitutil import show as head_file
from services import ServicesError, parse

ANSWERS_FILE = ".copier-answers.yml"
# Labels as Copier's own inline conflicts use them.
LABELS = ("before updating", "last update", "after updating")
# libyaml's parser where PyYAML has it: the pure-Python one takes ~60 ms for
# copier.yml, in a process that runs on every update.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MigrationError(RuntimeError):
    """The update cannot go on; the message says what to do."""


def say(message: str) -> None:
    print(f"migration: {message}", file=sys.stderr, flush=True)


def tell(report: list[str], changed: Callable[[str], bool] = lambda line: True) -> list[str]:
    """Say a step's report, a line each; the paths (before the first colon) of the lines
    that say the step changed a file."""
    for line in report:
        say(line)
    return [line.split(":", 1)[0] for line in report if changed(line)]


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
    """Forget Copier's leftovers for a path the update rewrote: .rej, conflict state."""
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


# `git describe --tags --always` as Copier records it: v0.2.0, 4e5092c, v0.2.0-3-gabc1234,
# maybe with a suffix such as .dirty.
DESCRIBED = re.compile(r"-\d+-g(?P<sha>[0-9a-f]{4,40})\b")
DIRTY = re.compile(r"[.+-]dirty\b.*$")


def recorded_commit(recorded: str) -> str:
    """The commit a recorded template version names (the -g<sha> part when there is one)."""
    found = DESCRIBED.search(recorded)
    return found["sha"] if found else DIRTY.sub("", recorded.strip())


def contains(template: Path, commit: str, recorded: str) -> bool | None:
    """Whether the template version recorded (VERSION_FROM, `_commit`) contains commit.

    None when git cannot say: either commit is unknown to the template checkout
    (a synthetic history, a fork) or nothing is recorded.
    """
    version = recorded_commit(recorded)
    if not version or not commit:
        return None
    try:
        code = run_git(template, "merge-base", "--is-ancestor", f"{commit}^{{commit}}",
                       f"{version}^{{commit}}", check=False).returncode
    except GitError:
        return None
    return {0: True, 1: False}.get(code)


# ------------------------------------------------------------------- answers
def load_answers(text: bytes | str | None) -> dict:
    data = yaml.load(text, Loader=SAFE_LOADER) if text else None  # noqa: S506 (a safe loader)
    return data if isinstance(data, dict) else {}


def service_names(answers: dict) -> list[str]:
    try:
        return [s.name for s in parse(answers.get("services", ""), answers.get("layout", "multi"))]
    except ServicesError:
        return []


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


RENDERS = "copier-update-renders"


def git_dir(root: Path) -> Path:
    """The project's git directory: where an update keeps what is not the project's (renders, its report)."""
    return Path(git(root, "rev-parse", "--absolute-git-dir").decode().strip())


def renders_folder(root: Path) -> Path:
    """Where one update keeps its renders: in the project's git directory, never in its tree."""
    return git_dir(root) / RENDERS


def render_into(template: Path, ref: str, answers: dict, dst: Path, fallback: str = "") -> Path:
    """render() into dst by way of a temporary sibling: dst exists only whole."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{dst.name}-", dir=dst.parent))
    partial.rmdir()  # a free name: render() makes the folder, as for any destination
    try:
        render(template, ref, answers, partial, fallback=fallback)
        partial.rename(dst)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return dst


def forget_renders(root: Path) -> None:
    """Drop the renders of an update (at its start, for a failed one's, and at its end)."""
    try:
        shutil.rmtree(renders_folder(root), ignore_errors=True)
    except GitError:
        pass


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


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff, a/ and b/ paths as git writes them."""
    import difflib

    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def project_files(root: Path) -> set[str]:
    """Every file below root (a render), as posix paths relative to it."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts}


# ------------------------------------------------------------------ context
@dataclass
class Context:
    """One stage of one update: the project, the template, the answers before and after.

    Renders are made once per update, on first use, and shared by every step of both
    stages (a failed render fails the same way for every step that asks again).
    """

    root: Path
    template: Path
    old: dict  # the answers before the update (HEAD's answers file)
    new: dict  # after: the working tree's answers file; in `before`, --layout/--services
    version_from: str = ""  # the template version the project was made with
    changed: list[str] = field(default_factory=list)  # paths the steps changed, in order
    # User-owned files this update creates on purpose (the layout switch's, new files
    # of the template): kept, where a re-created file the user had deleted is dropped.
    fresh: set[str] = field(default_factory=set)
    _renders: dict[tuple[str, str], Path | MigrationError] = field(default_factory=dict, repr=False)
    _owned: list[Callable[[str], bool]] = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, root: Path, template: Path, new: dict | None = None) -> Context:
        """The context of a stage: new answers given (before) or read from the working tree (after)."""
        old = load_answers(head_file(root, ANSWERS_FILE))
        if new is None:
            answers = root / ANSWERS_FILE
            new = load_answers(answers.read_text() if answers.is_file() else "")
        version_from = os.environ.get("VERSION_FROM", "") or str(old.get("_commit", ""))
        return cls(root, template, old, new, version_from)

    def render(self, ref: str, answers: dict, fallback: str = "") -> Path:
        """The template at ref rendered with answers: once per update, shared by both stages
        (kept in the project's git directory from `before` until `after` ends: forget_renders)."""
        key = (ref, json.dumps(answers, sort_keys=True, default=str))
        if key not in self._renders:
            dst = renders_folder(self.root) / hashlib.sha256(repr(key).encode()).hexdigest()[:16]
            try:
                self._renders[key] = dst if dst.is_dir() else render_into(self.template, ref, answers, dst, fallback)
            except MigrationError as error:
                self._renders[key] = error
        found = self._renders[key]
        if isinstance(found, MigrationError):
            raise found
        return found

    def unchanged(self) -> bool:
        """An update to the version the project has, with the answers it has: Copier renders
        the files the project was made from again (the old render is the new one)."""
        if {k: v for k, v in self.old.items() if not k.startswith("_")} != \
                {k: v for k, v in self.new.items() if not k.startswith("_")}:
            return False
        before, after = recorded_commit(self.version_from), recorded_commit(str(self.new.get("_commit", "")))
        if not before or not after:
            return False
        if before == after:
            return True
        try:
            both = [git(self.template, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
                    for ref in (before, after)]
        except GitError:
            return False
        return both[0] == both[1]

    def old_files(self) -> set[str]:
        """The files the old render has; in an update that changes nothing, every file
        Copier created (all of them it had rendered before too): no render needed."""
        return set(created(self.root)) if self.unchanged() else project_files(self.old_render())

    def old_render(self) -> Path:
        """The project as the template version it was made with rendered it (its answers then)."""
        return self.render(self.version_from, self.old, fallback=str(self.old.get("_src_path", "")))

    def new_render(self) -> Path:
        """The new template version rendered with the new answers: the template checkout's HEAD
        (Copier's checkout is at the new version, uncommitted changes of a local template included)."""
        return self.render("HEAD", self.new)

    def owned(self, path: str) -> bool:
        """Whether a project path is user-owned (copier.yml _skip_if_exists)."""
        if not self._owned:
            self._owned.append(user_owned(self.template))
        return self._owned[0](path)
