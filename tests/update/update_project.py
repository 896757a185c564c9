"""Projects for the update tests: render from the synthetic history, edit like a user, update.

The user edits (:func:`user_edits`) touch both kinds of files:

- user-owned: a line appended to the service's settings module, a new
  module, a new unit test that uses both, a deleted integration test;
- template-owned: a LABEL in the service's Dockerfile (the file the template
  changes between versions), an env var in deploy/dev/docker-compose.yml,
  a section in README.md, and (projects from v0.1.0) a line in the script
  the template renames in 0.2.0.

:class:`Edits` records what was written so the tests can ask for it after
the update, line by line.
"""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import template_history as th
from support import BASE_ANSWERS, TEMPLATE, project_files

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update.ownership import whole_sample_file  # noqa: E402

# The supported layouts, with both languages.
LAYOUTS: dict[str, dict[str, object]] = {
    "multi": {
        "layout": "multi",
        "services": "api worker:worker web:node",
        "components": ["postgres", "redis"],
        "ci_provider": "both",
    },
    "single-python": {
        "layout": "single",
        "services": "app",
        "components": ["postgres"],
        "ci_provider": "github",
    },
    "single-node": {
        "layout": "single",
        "services": "web:node",
        "components": ["redis"],
        "ci_provider": "gitea",
    },
}
# The service the edits go to, per layout: (name, language, folder).
EDITED_SERVICE = {
    "multi": ("api", "python", "services/api"),
    "single-python": ("app", "python", "."),
    "single-node": ("web", "node", "."),
}
MARKER_LINE = re.compile(r"^(?:<{7}|>{7})(?: .*)?$", re.MULTILINE)
GIT_IDENTITY = ["-c", "user.name=Test User", "-c", "user.email=user@example.com"]


def git(project: Path, *args: str) -> str:
    result = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed in {project}:\n{result.stderr}", pytrace=False)
    return result.stdout


def commit_all(project: Path, message: str) -> None:
    if not (project / ".git").exists():
        git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", message)


def render(template: Path, ref: str, answers: dict[str, object], dst: Path) -> Path:
    from copier import run_copy

    run_copy(
        str(template), str(dst), data={**BASE_ANSWERS, **answers}, vcs_ref=ref,
        defaults=True, unsafe=True, quiet=True,
    )
    return dst


def update(project: Path, ref: str, conflict: str = "inline", **data: object) -> None:
    """copier update as `make update` runs it, without prompts."""
    from copier import run_update

    run_update(
        str(project), data=data or None, vcs_ref=ref, defaults=True, overwrite=True,
        unsafe=True, quiet=True, conflict=conflict,
    )


def update_capturing(project: Path, ref: str) -> str:
    """update() in a child process, for the migrations' output (they print to stderr): its stderr."""
    code = "import sys, pathlib, update_project as up; up.update(pathlib.Path(sys.argv[1]), sys.argv[2])"
    tests = Path(__file__).resolve().parent
    paths = [str(tests.parent), str(tests)]
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path[:0] = {paths!r}; {code}", str(project), ref],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"copier update failed:\n{result.stdout}\n{result.stderr}"
    return result.stderr


def leftovers(project: Path) -> list[str]:
    """Conflict marker lines and .rej files anywhere in the project."""
    found = []
    for path in sorted(project.rglob("*")):
        parts = path.relative_to(project).parts
        if ".git" in parts or "node_modules" in parts or ".venv" in parts or not path.is_file():
            continue
        rel = path.relative_to(project).as_posix()
        if rel.endswith(".rej"):
            found.append(f"{rel}: rejected hunks")
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{rel}: {m.group(0)!r}" for m in MARKER_LINE.finditer(text)]
    return found


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


@dataclass
class Edits:
    """What the user changed: exact lines per file, new files, deleted files."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    added: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def line(self, path: str, text: str) -> None:
        self.lines.setdefault(path, []).append(text)

    def moved(self, paths: dict[str, str]) -> Edits:
        """The same edits after the files moved (old path -> new path)."""
        return Edits(
            {paths.get(k, k): v for k, v in self.lines.items()},
            {paths.get(k, k): v for k, v in self.added.items()},
            [paths.get(k, k) for k in self.deleted],
        )


def _insert_after(path: Path, anchor: re.Pattern[str], new: str, start: re.Pattern[str] | None = None) -> None:
    lines = path.read_text().splitlines(keepends=True)
    begin = 0
    if start is not None:
        begin = next(i for i, line in enumerate(lines) if start.search(line))
    index = next((i for i in range(begin, len(lines)) if anchor.search(lines[i])), None)
    if index is None:
        pytest.fail(f"{path}: no line matches {anchor.pattern}: update tests/update/update_project.py")
    lines.insert(index + 1, new + "\n")
    path.write_text("".join(lines))


def user_edits(project: Path, layout: str, *, old_script: bool = False) -> Edits:
    """Edit the project as a team would between two updates (not committed)."""
    name, language, folder = EDITED_SERVICE[layout]
    base = "" if folder == "." else f"{folder}/"
    edits = Edits()
    package = name.replace("-", "_")
    if language == "python":
        settings = f"{base}src/{package}/settings.py"
        feature = ["", "", "def user_feature() -> str:", '    return "kept across updates"']
        edits.added[f"{base}src/{package}/user_extra.py"] = '"""A module of the team\'s own."""\n\nANSWER = 42\n'
        edits.added[f"{base}tests/unit/test_user.py"] = (
            f"from {package}.settings import user_feature\nfrom {package}.user_extra import ANSWER\n\n\n"
            "def test_user_code_survives_updates() -> None:\n"
            '    assert user_feature() == "kept across updates"\n    assert ANSWER == 42\n'
        )
    else:
        settings = f"{base}src/config.js"
        feature = ["", "export const userFeature = () => 'kept across updates';"]
        edits.added[f"{base}src/userExtra.js"] = "// A module of the team's own.\nexport const ANSWER = 42;\n"
        edits.added[f"{base}tests/unit/user.test.js"] = (
            "import { expect, it } from 'vitest';\n\n"
            "import { userFeature } from '../../src/config.js';\nimport { ANSWER } from '../../src/userExtra.js';\n\n"
            "it('keeps user code across updates', () => {\n"
            "  expect(userFeature()).toBe('kept across updates');\n  expect(ANSWER).toBe(42);\n});\n"
        )
    path = project / settings
    path.write_text(path.read_text() + "\n".join(feature) + "\n")
    for line in feature:
        if line:
            edits.line(settings, line)
    for rel, text in edits.added.items():
        (project / rel).write_text(text)
    # A user-owned file the team deleted: an update must not bring it back.
    doomed = sorted((project / base / "tests" / "integration").iterdir())[-1]
    doomed.unlink()
    edits.deleted.append(doomed.relative_to(project).as_posix())

    dockerfile = f"{base}Dockerfile"
    label = 'LABEL org.example.team="payments"'
    _insert_after(project / dockerfile, re.compile(r"^FROM .* AS runtime$"), label)
    edits.line(dockerfile, label)

    compose = "deploy/dev/docker-compose.yml"
    tweak = "      LOG_LEVEL: debug"
    _insert_after(project / compose, re.compile(r"^    environment:$"), tweak, start=re.compile(rf"^  {name}:$"))
    edits.line(compose, tweak)

    readme = project / "README.md"
    notes = ["## Team notes", "", "Deploys happen on Tuesdays, never on Fridays."]
    readme.write_text(readme.read_text() + "\n" + "\n".join(notes) + "\n")
    edits.line("README.md", notes[0])
    edits.line("README.md", notes[2])

    if old_script:
        script = th.OLD_SCRIPT
        line = "# team: keep the stack logs for a week"
        _insert_after(project / script, re.compile(r"^set -euo pipefail$"), line)
        edits.line(script, line)
    return edits


def missing_lines(project: Path, edits: Edits) -> list[str]:
    """User lines and files that are not in the project, and deleted files that came back."""
    problems = []
    for rel, lines in edits.lines.items():
        path = project / rel
        text = path.read_text().splitlines() if path.is_file() else []
        problems += [f"{rel}: lost {line!r}" for line in lines if line not in text]
    for rel, content in edits.added.items():
        path = project / rel
        if not path.is_file() or path.read_text() != content:
            problems.append(f"{rel}: the user's file is gone or changed")
    problems += [f"{rel}: deleted by the user, re-created" for rel in edits.deleted if (project / rel).exists()]
    return problems


def without_user_lines(text: str, lines: list[str]) -> str:
    """text minus one occurrence of each user line (and the blank lines the edits added)."""
    out = text.splitlines(keepends=True)
    for line in lines:
        for i, have in enumerate(out):
            if have.rstrip("\n") == line:
                del out[i]
                break
    return "".join(out)


# What the project's tools write (installs, locks), never the template: uv add, npm ci, make lock.
TOOL_FOLDERS = {"node_modules", ".venv"}
TOOL_FILES = {"uv.lock", "package-lock.json"}


def tool_output(rel: str) -> bool:
    parts = rel.split("/")
    return bool(TOOL_FOLDERS & set(parts)) or parts[-1] in TOOL_FILES


def template_drift(project: Path, expected: Path, edits: Edits, owned) -> list[str]:  # noqa: ANN001
    """Differences between the updated project and a fresh render of the same version.

    Template-owned files must equal the fresh render, except for the user's
    own lines; user-owned files are the user's business; nothing else may be
    left over (an old file the template renamed, say).
    """
    problems = []
    fresh = {p for p in project_files(expected) if not tool_output(p)}
    have = {p for p in project_files(project) if not p.startswith(".artifacts/") and not tool_output(p)}
    for rel in sorted(fresh):
        if owned(rel):
            # The new sample's files an update holds back from the services that were there.
            held_back = any(whole_sample_file(rel, layout) for layout in ("multi", "single"))
            if rel not in have and rel not in edits.deleted and not held_back:
                problems.append(f"{rel}: user-owned file missing")
            continue
        if rel not in have:
            problems.append(f"{rel}: missing")
            continue
        text = (project / rel).read_text()
        if rel in edits.lines:
            text = without_user_lines(text, edits.lines[rel])
            want = (expected / rel).read_text()
            # The edits may bring their own blank lines; compare without them.
            text, want = (re.sub(r"\n\n+", "\n\n", t).rstrip("\n") for t in (text, want))
        else:
            want = (expected / rel).read_text()
        if text != want:
            problems.append(f"{rel}: differs from the fresh render of the new version")
        if os.access(expected / rel, os.X_OK) != os.access(project / rel, os.X_OK):
            problems.append(f"{rel}: executable bit differs from the fresh render")
    extra = sorted(p for p in have - fresh if not owned(p) and p not in edits.added)
    problems += [f"{rel}: left over (not in the new version)" for rel in extra]
    return problems


def make(project: Path, *args: str, ok: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """make in the project, with copier from the test venv; fail with its output unless ok=False."""
    from support import project_env

    copier = Path(sys.executable).parent / "copier"
    result = subprocess.run(
        ["make", *args], cwd=project, capture_output=True, text=True, timeout=900,
        env=project_env(COPIER=str(copier), **env),
    )
    if ok and result.returncode != 0:
        pytest.fail(
            f"make {' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout}"
            f"\n--- stderr\n{result.stderr}",
            pytrace=False,
        )
    return result


def load_update_module(project: Path):  # noqa: ANN201
    """The project's scripts/update.py, imported."""
    spec = importlib.util.spec_from_file_location("project_update", project / "scripts/update.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
