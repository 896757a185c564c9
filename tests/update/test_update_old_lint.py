"""`make lint` in projects from the first template versions, after an update.

A project rendered at OLDEST (a real commit: the skeleton) with a python api,
a python worker and a node api, committed, updated to the working tree: its
node_modules are reinstalled once the update re-locked. The update runs
`npm install --package-lock-only`, which rewrites package-lock.json and
node_modules/.package-lock.json without installing a module, so
scripts/lint.py judges by the content of package.json and its lock (a unit of
its decision, on the updated project's own lint.py: no npm run).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import real_history as rh
import update_project as up

pytestmark = pytest.mark.slow

OLDEST = "00d8236"
ANSWERS = up.LAYOUTS["multi"]  # api, worker:worker, web:node


@pytest.fixture(scope="module")
def updated(real_clone: rh.Clone, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The OLDEST project updated to the working tree, committed, and what the update printed."""
    project = up.render(real_clone.path, OLDEST, ANSWERS, tmp_path_factory.mktemp("old-lint") / "project")
    up.commit_all(project, f"Generated from the template at {OLDEST}")
    output = rh.copier_update(project, real_clone.head)
    up.commit_all(project, "Updated")
    return project, output


def lint_module(project: Path) -> ModuleType:
    """The project's own scripts/lint.py, imported (it puts scripts/lib on sys.path itself)."""
    path = project / "scripts" / "lint.py"
    spec = importlib.util.spec_from_file_location(f"project_lint_{abs(hash(project))}", path)
    assert spec is not None and spec.loader is not None, f"cannot import {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_lint_reinstalls_node_modules_after_a_relock(updated: tuple[Path, str], copy_of,  # noqa: ANN001
                                                    monkeypatch) -> None:  # noqa: ANN001
    project = copy_of(updated[0])
    lint = lint_module(project)
    folder = project / "services/web"
    runs: list[list[str]] = []
    monkeypatch.setattr(lint, "run", lambda cmd, cwd=None, env=None: runs.append(cmd) or 0)
    monkeypatch.setattr(lint.shutil, "which", lambda name: f"/usr/bin/{name}")

    lock = folder / "package-lock.json"
    lock.write_text('{"name": "web", "lockfileVersion": 3, "packages": {"node_modules/eslint": '
                    '{"version": "9.0.0"}}}\n')
    hidden = folder / "node_modules" / ".package-lock.json"
    hidden.parent.mkdir(exist_ok=True)
    hidden.write_text('{"name": "web", "lockfileVersion": 3, "packages": {}}\n')
    assert lint.ensure_node_modules(folder) == 0
    assert [cmd[1] for cmd in runs] == ["ci"], runs  # modules never installed by lint.py
    assert lint.ensure_node_modules(folder) == 0
    assert len(runs) == 1, f"installed again with nothing changed: {runs}"

    # What the update's re-lock does: a new lock, node_modules/.package-lock.json
    # rewritten (newer than package.json: the old check called that installed).
    lock.write_text(lock.read_text().replace("9.0.0", "9.39.4"))
    hidden.write_text(hidden.read_text())
    assert hidden.stat().st_mtime >= (folder / "package.json").stat().st_mtime
    assert lint.ensure_node_modules(folder) == 0
    assert [cmd[1] for cmd in runs] == ["ci", "ci"], f"no npm ci after the re-lock: {runs}"
