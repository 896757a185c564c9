"""The team's dependencies and the template's dependency bumps meet without a conflict.

A project of the synthetic history's newest version (locked, committed) gets
a dependency of the team's in each service through the tools (`uv add`,
`npm install`); the template then bumps one of its own dependencies per
language (a new synthetic version, hooks/dependencies.py's table). `copier
update` leaves both in the user-owned manifests, refreshes the locks (uv's
check passes, `npm ci` installs) and the unit stage is green.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import template_history as th
import update_project as up
from support import TEMPLATE, lock, project_env, run

pytestmark = pytest.mark.slow

ANSWERS = {"layout": "multi", "services": "api web:node", "components": [], "ci_provider": "none"}
BUMPS = {'"uvicorn>=0.30"': '"uvicorn>=0.32"', '"fastify": "^5.6.0"': '"fastify": "^5.7.0"',
         # a template dependency the team had changed: theirs is kept
         '"pytest-cov>=5"': '"pytest-cov>=6"'}


def bump_dependencies(repo: Path) -> None:
    table = repo / "hooks" / "dependencies.py"
    text = table.read_text()
    for old, new in BUMPS.items():
        if old not in text:
            raise th.HistoryError(f"hooks/dependencies.py no longer declares {old}: update BUMPS")
        text = text.replace(old, new)
    table.write_text(text)


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("deps")
    history = th.build(TEMPLATE, base / "template")
    project = up.render(history.path, history.head, ANSWERS, base / "project")
    lock(project)
    up.commit_all(project, "generated, locked")
    env = project_env(SKIP_LOCK="0")
    run(["uv", "add", "--quiet", "six>=1.16"], cwd=project / "services/api", env=env)
    run(["uv", "add", "--quiet", "--dev", "pytest-cov>=5.0.0"], cwd=project / "services/api", env=env)
    run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "ms@^2.1.3"],
        cwd=project / "services/web", env=env)
    up.commit_all(project, "the team's dependencies")
    history = th.commit_version(history, "v0.4.0", bump_dependencies)
    mp = pytest.MonkeyPatch()
    mp.setenv("SKIP_LOCK", "0")  # this update locks for real
    try:
        output = up.update_capturing(project, history.head)
    finally:
        mp.undo()
    return project, output


def test_both_sides_land_without_conflict(merged: tuple[Path, str]) -> None:
    project, output = merged
    assert not up.leftovers(project), "unresolved update:\n" + "\n".join(up.leftovers(project))
    pyproject = (project / "services/api/pyproject.toml").read_text()
    assert '"six>=1.16"' in pyproject, pyproject
    assert '"uvicorn>=0.32"' in pyproject and "uvicorn>=0.30" not in pyproject, pyproject
    # the team's own pytest-cov spec stays, and the update says so
    assert '"pytest-cov>=5.0.0"' in pyproject and "pytest-cov>=6" not in pyproject, pyproject
    assert "pytest-cov: kept yours (pytest-cov>=5.0.0); the template now pytest-cov>=6" in output, output
    package = json.loads((project / "services/web/package.json").read_text())
    deps = package["dependencies"]
    assert deps["fastify"] == "^5.7.0" and deps["ms"] == "^2.1.3", package


def test_locks_are_refreshed(merged: tuple[Path, str]) -> None:
    project, _ = merged
    env = project_env(SKIP_LOCK="0")
    run(["make", "lock-check"], cwd=project, env=env)
    uv_lock = (project / "services/api/uv.lock").read_text()
    assert 'name = "six"' in uv_lock, "uv.lock lacks the team's dependency"
    npm_lock = json.loads((project / "services/web/package-lock.json").read_text())
    assert npm_lock["packages"][""]["dependencies"]["fastify"] == "^5.7.0"
    assert "node_modules/ms" in npm_lock["packages"]
    run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=project / "services/web", env=env)


def test_unit_stage_is_green(merged: tuple[Path, str]) -> None:
    project, _ = merged
    result = subprocess.run(["make", "test-unit"], cwd=project, capture_output=True, text=True,
                            env=project_env(), timeout=900)
    assert result.returncode == 0, f"make test-unit failed:\n{result.stdout[-5000:]}\n{result.stderr[-3000:]}"
