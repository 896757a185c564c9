"""Projects from before schema migrations gain them through `copier update` (issue 11).

Rendered at the last commit before the migrations (BEFORE_SCHEMA, a real
commit of this repository), committed, then updated to the working tree:
the template-owned alembic.ini and migrations/env.py arrive, and so do the
user-owned first revision, models and seed data, which hooks/update
(`new_schema_files`) must not take for files the user deleted. The user's
own main.py keeps its CREATE TABLE IF NOT EXISTS; the first revision adopts
an existing items table (tests/docker/test_docker.py runs it on postgres).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import update_project as up
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update.steps import one_shot_steps  # noqa: E402

# The last commit of the template without schema migrations.
BEFORE_SCHEMA = "0536200"
ANSWERS = {"layout": "multi", "services": "api worker:worker web:node",
           "components": ["postgres", "redis"], "ci_provider": "none"}
SCHEMA = {
    "services/api/alembic.ini", "services/api/migrations/env.py",
    "services/api/migrations/versions/0001_initial.py",
    "services/api/src/api/models.py", "services/api/src/api/seed.py",
    "services/worker/alembic.ini", "services/worker/migrations/versions/0001_initial.py",
    "services/worker/src/worker/models.py", "services/worker/src/worker/seed.py",
}


@pytest.fixture(scope="module")
def old_project(real_clone, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    project = up.render(real_clone.path, BEFORE_SCHEMA, ANSWERS,
                        tmp_path_factory.mktemp("schema") / "project")
    up.commit_all(project, "project from before schema migrations")
    return project


@pytest.mark.slow
def test_update_brings_the_schema_tooling_and_keeps_the_users_code(
        old_project: Path, real_clone, tmp_path: Path) -> None:  # noqa: ANN001
    main = old_project / "services/api/src/api/main.py"
    assert "CREATE TABLE IF NOT EXISTS items" in main.read_text(), "not a project from before"
    before = main.read_text()
    output = up.update_capturing(old_project, real_clone.head)
    missing = sorted(p for p in SCHEMA if not (old_project / p).is_file())
    assert not missing, f"the update did not create {missing}\n{output}"
    assert "not re-created" not in output, output
    assert main.read_text() == before, "the user's main.py changed"
    assert not list((old_project / "services/web").glob("**/alembic.ini")), "a node service got Alembic"
    compose = (old_project / "deploy/test/docker-compose.yml").read_text()
    assert "api-migrate:" in compose and "worker-migrate:" in compose, compose
    stack_test = (old_project / "tests/integration/test_stack.py").read_text()
    assert 'if not name.endswith("-migrate")' in stack_test, stack_test
    assert not up.leftovers(old_project)


@pytest.mark.slow
def test_a_deleted_revision_is_not_recreated_by_the_next_update(
        old_project: Path, real_clone) -> None:  # noqa: ANN001
    """Once the service has alembic.ini, its user-owned files are the team's to delete."""
    if not (old_project / "services/api/alembic.ini").is_file():
        up.update_capturing(old_project, real_clone.head)
    up.commit_all(old_project, "schema tooling")
    seed = old_project / "services/worker/src/worker/seed.py"
    seed.unlink()
    up.commit_all(old_project, "the team needs no seed data for the worker")
    output = up.update_capturing(old_project, real_clone.head)
    assert not seed.exists(), f"the update re-created {seed.name}\n{output}"


def test_stack_test_skips_one_shot_steps_once(tmp_path: Path) -> None:
    """The old line is rewritten; a rewritten or changed file is left alone."""
    test = tmp_path / one_shot_steps.STACK_TEST
    test.parent.mkdir(parents=True)
    test.write_text("def test_every_container_is_healthy() -> None:\n" + one_shot_steps.OLD_EXPECTED)
    assert one_shot_steps.skip_one_shot_steps(tmp_path)
    rewritten = test.read_text()
    assert one_shot_steps.NEW_EXPECTED in rewritten
    assert one_shot_steps.skip_one_shot_steps(tmp_path) == []
    assert test.read_text() == rewritten
    test.write_text("    expected = {'api'}\n")
    assert one_shot_steps.skip_one_shot_steps(tmp_path) == []
