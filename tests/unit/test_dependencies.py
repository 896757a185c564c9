"""hooks/dependencies.py: the one table of the template's dependencies; and what an update
applies (hooks/update/dependencies.py)."""

from __future__ import annotations

import sys

import pytest
from support import TEMPLATE, registry

sys.path.insert(0, str(TEMPLATE / "hooks"))
import dependencies as deps  # noqa: E402
from update import dependencies as sync  # noqa: E402

OLD = {"dependencies": {"fastapi": "fastapi>=0.115", "redis": "redis>=5"},
       "dev": {"pytest": "pytest>=8", "pytest-cov": "pytest-cov>=5"}}


def test_a_template_bump_reaches_an_untouched_requirement() -> None:
    new = {**OLD, "dependencies": {**OLD["dependencies"], "fastapi": "fastapi>=0.120"}}
    have = {"dependencies": {**OLD["dependencies"], "six": "six>=1.16"}, "dev": OLD["dev"]}
    assert sync.changes("python", OLD, new, have) == ([("dependencies", "fastapi", "fastapi>=0.120")], [])


def test_the_teams_own_spec_is_kept_and_reported() -> None:
    new = {**OLD, "dev": {**OLD["dev"], "pytest-cov": "pytest-cov>=6"}}
    have = {"dependencies": OLD["dependencies"], "dev": {**OLD["dev"], "pytest-cov": "pytest-cov==5.0.0"}}
    edits, kept = sync.changes("python", OLD, new, have)
    assert edits == []
    assert kept == ["pytest-cov: kept yours (pytest-cov==5.0.0); the template now pytest-cov>=6"]


def test_added_and_dropped_template_dependencies() -> None:
    new = {"dependencies": {"fastapi": "fastapi>=0.115", "httpx": "httpx>=0.27"}, "dev": OLD["dev"]}
    assert sync.changes("python", OLD, new, OLD) == (
        [("dependencies", "httpx", "httpx>=0.27"), ("dependencies", "redis", None)], [])
    # a dependency the team already removed stays removed
    have = {"dependencies": {"fastapi": "fastapi>=0.115"}, "dev": OLD["dev"]}
    assert sync.changes("python", OLD, new, have)[0] == [("dependencies", "httpx", "httpx>=0.27")]


def test_a_project_from_before_the_record_gets_what_it_lacks() -> None:
    have = {"dependencies": {"fastapi": "fastapi>=0.100"}, "dev": {}}
    edits, kept = sync.changes("node", None, {"dependencies": {"fastapi": "x", "redis": "^5"},
                                              "dev": {"vitest": "~3.2.4"}}, have)
    assert edits == [("dependencies", "redis", "^5"), ("dev", "vitest", "~3.2.4")] and kept == []


@pytest.mark.parametrize(("language", "spec", "command"), [
    ("python", "uvicorn>=0.32", ["uv", "add", "--frozen", "uvicorn>=0.32"]),
    ("python", None, ["uv", "remove", "--frozen", "uvicorn"]),
    ("node", "^5.7.0", ["npm", "pkg", "set", "dependencies.uvicorn=^5.7.0"]),
    ("node", None, ["npm", "pkg", "delete", "dependencies.uvicorn"]),
])
def test_changes_go_through_the_tools(language: str, spec: str | None, command: list[str]) -> None:
    assert sync._command(language, "dependencies", "uvicorn", spec) == command


def test_dev_dependencies_go_to_the_dev_group() -> None:
    assert sync._command("python", "dev", "ruff", "ruff>=1") == ["uv", "add", "--frozen", "--dev", "ruff>=1"]
    assert sync._command("node", "dev", "vitest", None) == ["npm", "pkg", "delete", "devDependencies.vitest"]


@pytest.mark.parametrize("name", ["multi-github-pg-redis-mixed", "single-gitea-node-api"])
def test_the_manifests_an_update_compares_come_from_the_table(render, name: str) -> None:
    """Every manifest the update compares (its services', the multi layout's root) declares
    exactly the table's dependencies: what an update reads as the template's."""
    import yaml

    project = render(name)
    components = yaml.safe_load((project / ".copier-answers.yml").read_text())["components"]
    services = {s["name"]: s for s in registry(project)["services"]}
    found = sync.manifests(project)
    assert set(found) == set(services) | (
        {deps.STACK_TESTS} if registry(project)["layout"] == "multi" else set())
    for name, (path, language) in found.items():
        table = (deps.stack_test_dependencies(components) if name == deps.STACK_TESTS
                 else deps.dependencies(services[name], components))
        assert sync.current(project / path, language) == table, path


def test_llm_gives_the_api_its_sse_library_and_the_worker_the_openai_client() -> None:
    comps = ["postgres", "redis", "llm"]
    runtime = {kind: deps.dependencies({"language": "python", "kind": kind}, comps)["dependencies"]
               for kind in ("api", "worker", "scheduler")}
    assert "sse-starlette" in runtime["api"] and "openai" not in runtime["api"]
    assert "openai" in runtime["worker"] and "sse-starlette" not in runtime["worker"]
    assert not {"openai", "sse-starlette"} & set(runtime["scheduler"])
    without = deps.dependencies({"language": "python", "kind": "worker"}, ["postgres", "redis"])
    assert "openai" not in without["dependencies"]
    node = deps.dependencies({"language": "node", "kind": "worker"}, comps)
    assert "openai" not in node["dependencies"]  # node services get the variables only


def test_python_apis_and_workers_on_postgres_pool_their_connections() -> None:
    pooled = {kind: "psycopg-pool" in deps.dependencies(
        {"language": "python", "kind": kind}, ["postgres", "redis"])["dependencies"]
        for kind in ("api", "worker", "scheduler")}
    assert pooled == {"api": True, "worker": True, "scheduler": False}
    assert "psycopg-pool" not in deps.dependencies({"language": "python", "kind": "api"},
                                                   ["redis"])["dependencies"]
