"""`make lint` in projects from the first template versions, after an update.

The project rendered at OLDEST (a real commit: the skeleton) with a python
api, a python worker and a node api, edited and updated to the working tree
by the real_updated fixture (real_history.py; the same project whose `make
lint` and `make test-unit` test_update_real_stages.py runs after the update,
after `make remove-service NAME=worker` and after `make add-service`):

- its node_modules are reinstalled once the update re-locked: the update
  runs `npm install --package-lock-only`, which rewrites package-lock.json
  and node_modules/.package-lock.json without installing a module, so
  scripts/lint.py judges by the content of package.json and its lock (a
  unit of its decision, on the updated project's own lint.py: no npm run);
- its python folders lose the [tool.ruff] tables the template wrote into
  pyproject.toml before ruff.toml (ruff reads the nearest configuration, so
  they shadowed ruff.toml in each service, and `make lint` failed after
  `make remove-service NAME=worker`: the stage phases run that).

The later versions that wrote the same tables (RUFF_IN_PYPROJECT) are
checked on their renders: the update step removes exactly those tables.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import real_history as rh
import update_project as up
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update.steps import old_ruff_tables  # noqa: E402

OLDEST = rh.REAL_COMMITS[0]
# Later commits whose python folders had [tool.ruff] tables in pyproject.toml (the
# last one before ruff.toml held them: 431d665).
RUFF_IN_PYPROJECT = ("44b2a5c", "431d665")
ANSWERS = up.LAYOUTS["multi"]  # api, worker:worker, web:node
RUFF_TABLES = "\n[tool.ruff]\n"


# The tests of the OLDEST project run on the worker that updated it for the other real-history tests.
SHARED = rh.project_group("multi", OLDEST)


@pytest.fixture(scope="module")
def updated(real_updated) -> tuple[Path, str]:  # noqa: ANN001
    """The OLDEST project updated to the working tree, and what the update printed."""
    real = real_updated("multi", OLDEST)
    return real.project, real.output


def lint_module(project: Path) -> ModuleType:
    """The project's own scripts/lint.py, imported (it puts scripts/lib on sys.path itself)."""
    path = project / "scripts" / "lint.py"
    spec = importlib.util.spec_from_file_location(f"project_lint_{abs(hash(project))}", path)
    assert spec is not None and spec.loader is not None, f"cannot import {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@SHARED
def test_lint_reinstalls_node_modules_after_a_relock(updated: tuple[Path, str], copy_of,  # noqa: ANN001
                                                    monkeypatch) -> None:  # noqa: ANN001
    project = copy_of(updated[0])
    lint = lint_module(project)
    folder = project / "services/web"
    runs: list[list[str]] = []
    monkeypatch.setattr(lint.subprocess, "run", lambda cmd, cwd=None: runs.append(cmd)
                        or lint.subprocess.CompletedProcess(cmd, 0))
    monkeypatch.setattr(lint.shutil, "which", lambda name: f"/usr/bin/{name}")

    lock = folder / "package-lock.json"
    lock.write_text('{"name": "web", "lockfileVersion": 3, "packages": {"node_modules/eslint": '
                    '{"version": "9.0.0"}}}\n')
    hidden = folder / "node_modules" / ".package-lock.json"
    hidden.parent.mkdir(exist_ok=True)
    hidden.write_text('{"name": "web", "lockfileVersion": 3, "packages": {}}\n')
    assert lint.node_modules(folder) == 0
    assert [cmd[1] for cmd in runs] == ["ci"], runs  # modules never installed by lint.py
    assert lint.node_modules(folder) == 0
    assert len(runs) == 1, f"installed again with nothing changed: {runs}"

    # What the update's re-lock does: a new lock, node_modules/.package-lock.json
    # rewritten (newer than package.json: the old check called that installed).
    lock.write_text(lock.read_text().replace("9.0.0", "9.39.4"))
    hidden.write_text(hidden.read_text())
    assert hidden.stat().st_mtime >= (folder / "package.json").stat().st_mtime
    assert lint.node_modules(folder) == 0
    assert [cmd[1] for cmd in runs] == ["ci", "ci"], f"no npm ci after the re-lock: {runs}"


@pytest.mark.slow
@SHARED
def test_the_old_ruff_tables_go(updated: tuple[Path, str]) -> None:
    project, output = updated
    for rel in ("services/api/pyproject.toml", "services/worker/pyproject.toml", "pyproject.toml"):
        assert f"migration: {rel}: the template's old [tool.ruff] settings removed" in output, output
        assert "[tool.ruff" not in (project / rel).read_text(), rel


@pytest.mark.slow
@pytest.mark.parametrize("commit", RUFF_IN_PYPROJECT)
def test_the_step_removes_exactly_the_tables_those_versions_wrote(real_clone: rh.Clone, tmp_path: Path,
                                                                   commit: str) -> None:
    project = up.render(real_clone.path, commit, ANSWERS, tmp_path / "project")
    manifests = sorted(project.glob("**/pyproject.toml"))
    assert [p for p in manifests if RUFF_TABLES in p.read_text()], f"{commit} wrote no [tool.ruff]: update this test"
    for path in manifests:
        text = path.read_text()
        if RUFF_TABLES not in text:
            continue
        # The tables ended the file; what came before them stays byte for byte.
        assert old_ruff_tables.without_old_ruff_tables(text) == text[:text.index(RUFF_TABLES)].rstrip("\n") + "\n"
        with pytest.raises(old_ruff_tables.OwnRuffSettings):  # the team's own ruff settings stay
            old_ruff_tables.without_old_ruff_tables(text.replace("line-length = 100", "line-length = 120"))


def test_ruff_tables_between_others_go_with_their_blank_lines_only() -> None:
    text = ('[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\ntarget-version = "py311"\n\n'
            '[tool.pytest.ini_options]\naddopts = "-q"\n')
    kept = '[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    assert old_ruff_tables.without_old_ruff_tables(text) == kept
    assert old_ruff_tables.without_old_ruff_tables('[project]\nname = "x"\n') is None
    with pytest.raises(old_ruff_tables.OwnRuffSettings):
        old_ruff_tables.without_old_ruff_tables(text + '\n[tool.ruff.lint.per-file-ignores]\n"tests/*" = ["E501"]\n')
