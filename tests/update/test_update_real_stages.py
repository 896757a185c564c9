"""Projects updated from REAL earlier commits still work: unit stage green, integration tests collect.

`make test-unit` runs in a copy of each updated project (uv and npm fetch
the services' dependencies); the integration tests are collected, not run
(that needs the stack: tests/test_docker.py). Collection is what failed in
projects from before the httpx -> httpx2 switch, while the unit stage
stayed green.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import real_history as rh
import update_project as up

pytestmark = pytest.mark.slow

IDS = [f"{layout}@{commit}" for layout, commit in rh.PROJECTS]


@pytest.fixture(scope="session")
def working_copy(real_updated, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:  # noqa: ANN001
    """working_copy(layout, commit): one copy per updated project, where its tools may write."""
    cache: dict[tuple[str, str], Path] = {}

    def _copy(layout: str, commit: str) -> Path:
        if (layout, commit) not in cache:
            real = real_updated(layout, commit)
            target = tmp_path_factory.mktemp(f"run-{layout}-{commit}") / "project"
            cache[layout, commit] = Path(shutil.copytree(real.project, target, symlinks=True))
        return cache[layout, commit]

    return _copy


@pytest.mark.parametrize(("layout", "commit"), rh.PROJECTS, ids=IDS)
def test_unit_stage_is_green(working_copy, layout: str, commit: str) -> None:  # noqa: ANN001
    project = working_copy(layout, commit)
    result = up.make(project, "test-unit")
    reports = "".join(p.read_text() for p in sorted(project.glob(".artifacts/*/unit/*/junit.xml")))
    assert 'name="test_ping_answers_pong"' in reports, (
        "the team's unit test of its route did not run:\n" + result.stdout + result.stderr)


@pytest.mark.parametrize(("layout", "commit"), rh.PROJECTS, ids=IDS)
def test_integration_tests_collect(working_copy, layout: str, commit: str) -> None:  # noqa: ANN001
    project = working_copy(layout, commit)
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
        if not (folder / "node_modules").is_dir():
            rh.run_in(["npm", "install", "--no-audit", "--no-fund"], folder)
        result = rh.run_in(["npx", "--no-install", "vitest", "list", "tests/integration"], folder)
        assert "tests/integration/" in result.stdout, result.stdout


@pytest.mark.parametrize(("layout", "commit"), rh.PROJECTS, ids=IDS)
def test_make_lint_passes(working_copy, layout: str, commit: str) -> None:  # noqa: ANN001
    """make lint (new in issue 10) passes on the template's files and the team's."""
    project = working_copy(layout, commit)
    result = up.make(project, "lint", ok=False, npm_config_prefer_offline="true")
    assert result.returncode == 0, f"make lint exited {result.returncode}\n{result.stdout}\n{result.stderr}"


@pytest.mark.docker
def test_images_build_from_the_locks_the_update_writes(working_copy) -> None:  # noqa: ANN001
    """Projects from before lock files get them from the update's lock step; the images install them.

    The session's updates skip the locking (SKIP_LOCK=1): this runs what the
    after-update migration runs then, with SKIP_LOCK=0, and builds each image.
    """
    import subprocess
    import sys

    from support import project_env, run

    layout, commit = rh.PROJECTS[0]
    project = working_copy(layout, commit)
    run([sys.executable, "scripts/lock.py", "--from-copier", "--missing"], cwd=project,
        env=project_env(SKIP_LOCK="0"))
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
            subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, timeout=120)
