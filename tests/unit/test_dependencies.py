"""hooks/dependencies.py: the one table of the template's dependencies; and what an update
applies (hooks/update/dependencies.py)."""

from __future__ import annotations

import json
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
def test_manifests_and_record_come_from_the_table(render, name: str) -> None:
    import tomllib

    project = render(name)
    record = json.loads((project / "scripts/dependencies.json").read_text())
    layout = registry(project)["layout"]
    assert set(record) == {s["name"] for s in registry(project)["services"]} | (
        {deps.STACK_TESTS} if layout == "multi" else set())
    for entry in record.values():
        folder = project / entry["path"]
        if entry["language"] == "python":
            data = tomllib.loads((folder / "pyproject.toml").read_text())
            declared = {"dependencies": data["project"]["dependencies"],
                        "dev": data["dependency-groups"]["dev"]}
            assert declared == {g: list(entry[g].values()) for g in deps.GROUPS}, entry["path"]
        else:
            data = json.loads((folder / "package.json").read_text())
            assert data["dependencies"] == entry["dependencies"], entry["path"]
            assert data["devDependencies"] == entry["dev"], entry["path"]


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
