"""Node projects from before the data and job lifecycle gain it through `copier update` (issue 11).

Rendered at the last commit before schema migrations (BEFORE_SCHEMA, a real
commit of this repository) as a node-only project with postgres and redis,
committed, then updated to the working tree: the template-owned migrate.js
arrives with the user-owned first migration and seed data, which
hooks/update (`new_user_files`) must not take for files the user
deleted; the new runtime dependencies (pg, node-pg-migrate, bullmq, ioredis)
reach the user-owned package.json through the dependency table and the
sync-dependencies migration; the user's own code stays as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import update_project as up

# The last commit of the template without schema migrations (as test_update_schema.py).
BEFORE_SCHEMA = "0536200"

pytestmark = pytest.mark.slow

ANSWERS = {"layout": "multi", "services": "api:node worker:node:worker",
           "components": ["postgres", "redis"], "ci_provider": "none"}
SCHEMA = {
    f"services/{name}/{path}" for name in ("api", "worker")
    for path in ("migrate.js", "migrations/1700000000000_initial.js", "src/seed.js")
}
NEW_DEPENDENCIES = {"pg", "node-pg-migrate", "bullmq", "ioredis"}


@pytest.fixture(scope="module")
def old_project(real_clone, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    project = up.render(real_clone.path, BEFORE_SCHEMA, ANSWERS,
                        tmp_path_factory.mktemp("node-schema") / "project")
    up.commit_all(project, "node project from before schema migrations")
    return project


def test_update_brings_migrations_queue_dependencies_and_keeps_the_users_code(
        old_project: Path, real_clone) -> None:  # noqa: ANN001
    worker = old_project / "services/worker/src/worker.js"
    assert "heartbeat" in worker.read_text() and "bullmq" not in worker.read_text(), \
        "not a project from before"
    # The team's own code, which the update must keep as it is.
    app = old_project / "services/api/src/app.js"
    app.write_text(app.read_text() + "\n// the team's route table lives below\n")
    up.commit_all(old_project, "the team's edit")
    before = {p: p.read_text() for p in (app, worker)}

    output = up.update_capturing(old_project, real_clone.head)

    missing = sorted(p for p in SCHEMA if not (old_project / p).is_file())
    assert not missing, f"the update did not create {missing}\n{output}"
    assert "not re-created" not in output, output
    assert {p: p.read_text() for p in before} == before, "the user's code changed"
    for name in ("api", "worker"):
        manifest = json.loads((old_project / f"services/{name}/package.json").read_text())
        lacking = NEW_DEPENDENCIES - set(manifest["dependencies"])
        assert not lacking, f"{name}: package.json lacks {lacking}\n{output}"
        dockerfile = (old_project / f"services/{name}/Dockerfile").read_text()
        assert "COPY migrate.js ./" in dockerfile, dockerfile
    compose = (old_project / "deploy/test/docker-compose.yml").read_text()
    assert "api-migrate:" in compose and "worker-migrate:" in compose, compose
    assert '["node", "migrate.js", "--seed"]' in compose, compose
    assert not list(old_project.glob("services/*/alembic.ini")), "a node service got Alembic"
    assert not up.leftovers(old_project)


def test_a_deleted_seed_is_not_recreated_by_the_next_update(
        old_project: Path, real_clone) -> None:  # noqa: ANN001
    """Once the service has migrate.js, its user-owned files are the team's to delete."""
    if not (old_project / "services/worker/migrate.js").is_file():
        up.update_capturing(old_project, real_clone.head)
    up.commit_all(old_project, "schema tooling")
    seed = old_project / "services/worker/src/seed.js"
    seed.unlink()
    up.commit_all(old_project, "the team seeds the worker's table elsewhere")
    output = up.update_capturing(old_project, real_clone.head)
    assert not seed.exists(), f"the update re-created {seed.name}\n{output}"
