"""Projects updated from REAL earlier commits keep working: lint, unit tests, then service changes.

Each project of real_history.PROJECTS (rendered at a real commit, node
modules installed, edited by the team, updated to the working tree) is
copied once, where its tools may write, and taken through the phases a
team's checkout goes through, in order:

1. updated: the update committed; `make lint` and `make test-unit` pass (the
   team's unit tests among those that ran) and the integration tests
   collect (running them needs the stack: tests/docker/test_docker.py);
then, for the oldest and the newest multi project (SERVICE_CHANGES):
2. removed: `make remove-service NAME=worker`, committed; both pass again;
3. added: `make add-service NAME=billing`, committed; both pass again, the
   new service's unit tests included.

A single-layout project has one service: add-service and remove-service
refuse it (switch-layout first), so it goes through phase 1 only.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import real_history as rh
import update_project as up

pytestmark = pytest.mark.slow

PHASES = ("updated", "removed", "added")
REMOVED = "worker"  # the multi layout's python worker
ADDED = "billing"  # a python api, the kind a team adds most
MULTI = [p for p in rh.PROJECTS if p[0] == "multi"]
# remove-service and add-service after an update: the oldest and the newest project. Every
# project's template-owned files equal a fresh render after its update
# (test_update_real_history.py::test_template_owned_files_equal_a_fresh_render), so both
# targets run the same code in each; what differs is the team's files, oldest in the first.
SERVICE_CHANGES = [MULTI[0], MULTI[-1]]


@dataclass
class Stage:
    project: Path
    phase: str


def change_services(project: Path, phase: str) -> None:
    """The service change that leads into phase, through the project's Makefile, then committed."""
    if phase == "removed":
        up.make(project, "remove-service", f"NAME={REMOVED}", **rh.tool_env())
        assert not (project / "services" / REMOVED / "Dockerfile").exists(), "the worker's Dockerfile stayed"
    else:
        up.make(project, "add-service", f"NAME={ADDED}", **rh.tool_env())
        assert (project / "services" / ADDED / "Dockerfile").is_file(), f"no services/{ADDED}/Dockerfile"
    up.commit_all(project, f"make {'remove' if phase == 'removed' else 'add'}-service")


@pytest.fixture(scope="session")
def staged(real_updated, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str, str], Path]:  # noqa: ANN001
    """staged(layout, commit, phase): the one working copy of that project, brought to phase.

    Phases only go forward; asked for an earlier one (tests run out of
    order), a new copy starts over from the shared updated project.
    """
    stages: dict[tuple[str, str], Stage] = {}

    def _staged(layout: str, commit: str, phase: str) -> Path:
        stage = stages.get((layout, commit))
        if stage is None or PHASES.index(stage.phase) > PHASES.index(phase):
            real = real_updated(layout, commit)
            target = tmp_path_factory.mktemp(f"run-{layout}-{commit}") / "project"
            stage = stages[layout, commit] = Stage(Path(shutil.copytree(real.project, target, symlinks=True)),
                                                   "updated")
            up.commit_all(stage.project, "The template update")
        while stage.phase != phase:
            stage.phase = PHASES[PHASES.index(stage.phase) + 1]
            change_services(stage.project, stage.phase)
        return stage.project

    return _staged


def assert_lint_and_unit_pass(project: Path, ran: tuple[str, ...]) -> None:
    """make lint and make test-unit pass (failures show the tools' output); the named unit tests ran."""
    up.make(project, "lint", npm_config_prefer_offline="true", **rh.tool_env())
    shutil.rmtree(project / ".artifacts", ignore_errors=True)  # the reports of this run only
    result = up.make(project, "test-unit", **rh.tool_env())
    reports = "".join(p.read_text() for p in sorted(project.glob(".artifacts/*/unit/*/junit.xml")))
    missing = [name for name in ran if f'name="{name}"' not in reports]
    assert not missing, f"unit tests that did not run: {', '.join(missing)}\n{result.stdout}{result.stderr}"


def team_tests(real: rh.RealUpdate) -> tuple[str, ...]:
    """The team's unit tests: the route and the added dependency; the Alembic head where it wrote a revision."""
    revision = any(rel.endswith("/test_team_migrations.py") or rel == "tests/unit/test_team_migrations.py"
                   for rel in real.edits.added)
    return ("test_ping_answers_pong", "test_sizes_read_as_people_say_them",
            *(("test_the_team_revision_is_the_head",) if revision else ()))


@pytest.mark.parametrize(("layout", "commit"), rh.project_params(rh.PROJECTS))
def test_after_the_update_lint_and_unit_pass(staged, real_updated, layout: str, commit: str) -> None:  # noqa: ANN001
    project = staged(layout, commit, "updated")
    assert_lint_and_unit_pass(project, team_tests(real_updated(layout, commit)))


@pytest.mark.parametrize(("layout", "commit"), rh.project_params(rh.PROJECTS))
def test_integration_tests_collect(staged, layout: str, commit: str) -> None:  # noqa: ANN001
    """Collection is what failed in projects from before the httpx -> httpx2 switch."""
    project = staged(layout, commit, "updated")
    python = rh.python_projects(project)
    assert python, f"no python project with tests/integration in {project}"
    collected = ""
    for folder in python:
        result = rh.run_in(["uv", "run", "--quiet", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                            "tests/integration"], folder)
        assert " collected" in result.stdout, result.stdout
        collected += result.stdout
    assert "test_team_live.py::test_ping_on_the_live_service" in collected, collected
    for folder in rh.node_projects(project):
        result = rh.run_in(["npx", "--no-install", "vitest", "list", "tests/integration"], folder)
        assert "tests/integration/" in result.stdout, result.stdout


@pytest.mark.parametrize(("layout", "commit"), rh.project_params(SERVICE_CHANGES))
def test_after_remove_service_lint_and_unit_pass(staged, real_updated, layout: str, commit: str) -> None:  # noqa: ANN001
    project = staged(layout, commit, "removed")
    assert_lint_and_unit_pass(project, team_tests(real_updated(layout, commit)))


@pytest.mark.parametrize(("layout", "commit"), rh.project_params(SERVICE_CHANGES))
def test_after_add_service_lint_and_unit_pass(staged, real_updated, layout: str, commit: str) -> None:  # noqa: ANN001
    project = staged(layout, commit, "added")
    assert_lint_and_unit_pass(project, team_tests(real_updated(layout, commit)))
    reports = sorted(p.parent.name for p in project.glob(".artifacts/*/unit/*/junit.xml"))
    assert ADDED in reports, f"the unit stage ran no tests of {ADDED}: reports of {reports}"


@pytest.mark.docker
# On the worker that updated that project for its other tests (their group), not again on the other.
@rh.project_group(*rh.PROJECTS[0])
def test_images_build_from_the_locks_the_update_writes(staged) -> None:  # noqa: ANN001
    """The update writes the locks of projects from before lock files; the images install them."""
    from support import run

    layout, commit = rh.PROJECTS[0]
    project = staged(layout, commit, "updated")
    folders = [*rh.python_projects(project), *rh.node_projects(project)]
    services = sorted({f for f in folders if (f / "Dockerfile").is_file()})
    assert services, f"no service folder with a Dockerfile in {project}"
    tags = []
    try:
        for folder in services:
            lock = "uv.lock" if (folder / "pyproject.toml").is_file() else "package-lock.json"
            assert (folder / lock).is_file(), f"{folder.relative_to(project)}: the lock step wrote no {lock}"
            tag = f"real-history-{commit}-{folder.name}:pytest"
            run(["docker", "build", "-q", "-t", tag, "."], cwd=folder)
            tags.append(tag)
    finally:
        if tags:
            import subprocess

            subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, timeout=120)
