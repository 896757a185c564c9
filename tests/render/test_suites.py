"""Integration suites and bounded test stacks, without containers (issue 13).

The docker side (two suites on two stacks at once) is tests/docker/test_docker_suites.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import COMBOS, compose_binary, project_env


def stacks_of(project: Path) -> list[Path]:
    return sorted(project.glob("deploy/test/docker-compose.yml")) + sorted(
        project.glob("services/*/deploy/test/docker-compose.yml"))


def compose_json(project: Path, compose_file: Path, **env: str) -> dict:
    result = subprocess.run(
        [compose_binary(), "-f", str(compose_file), "--profile", "*", "config", "--format", "json"],
        cwd=project, capture_output=True, text=True, timeout=60,
        env=project_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", ["multi-none-pg-redis-llm-scheduler", "multi-both-pg-redis-frontend",
                                  "multi-both-redis-node-alpine", "single-gitea-node-api"])
def test_every_member_of_every_test_stack_is_bounded(render, name: str) -> None:
    """TEST_MEMORY / TEST_CPUS: one default, every member, stage 2 stacks too; overridable."""
    project = render(name)
    stacks = stacks_of(project)
    assert len(stacks) == (1 if COMBOS[name]["layout"] == "single" else 1 + len(COMBOS[name]["services"].split()))
    for stack in stacks:
        services = compose_json(project, stack)["services"]
        unbounded = {svc: (conf.get("mem_limit"), conf.get("cpus")) for svc, conf in services.items()
                     if (str(conf.get("mem_limit")), conf.get("cpus")) != (str(512 * 2**20), 1)}
        assert not unbounded, f"{stack.relative_to(project)}: members without the default limits: {unbounded}"
        services = compose_json(project, stack, TEST_MEMORY="256m", TEST_CPUS="0.5")["services"]
        assert {(str(c["mem_limit"]), c["cpus"]) for c in services.values()} == {(str(256 * 2**20), 0.5)}
        services = compose_json(project, stack, TEST_MEMORY="0", TEST_CPUS="0")["services"]
        assert not [s for s, c in services.items() if "mem_limit" in c or "cpus" in c], "0: no limit"


@pytest.fixture
def project(render, tmp_path: Path) -> Path:
    copy = Path(shutil.copytree(render("multi-github-pg-redis-mixed"), tmp_path / "p"))
    for suite in ("orders", "billing", "__pycache__"):
        (copy / "tests/integration" / suite).mkdir()
    return copy


def script(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scripts/run-integration-tests.sh", *args], cwd=project, capture_output=True,
                          text=True, env=project_env(TEST_INSTANCE_ID="lint"), timeout=60)


@pytest.mark.parametrize(("suite", "message"), [
    ("nope", "run-integration-tests.sh: no suite 'nope' (a folder tests/integration/nope/); "
             "the suites are: billing orders"),
    ("Orders", "run-integration-tests.sh: suite 'Orders': lowercase letters, digits, '-' and '_' only "
               "(it names a compose project)"),
])
def test_an_unknown_suite_is_refused_in_one_line(project: Path, suite: str, message: str) -> None:
    result = script(project, "--suite", suite)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == message


def test_suites_are_started_by_the_runner_and_nothing_else_changes(project: Path) -> None:
    """make test-integration SUITES="a b": the runner with a --suite each; no SUITES: as before."""
    def dry_run(*args: str) -> str:
        result = subprocess.run(["make", "--no-print-directory", "-n", "test-integration", *args], cwd=project,
                                capture_output=True, text=True, env=project_env(), timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert dry_run() == "scripts/run-integration-tests.sh"
    assert dry_run("WITH=beat") == "scripts/run-integration-tests.sh '--with-beat'"
    assert dry_run("SUITES=orders billing", "WITH=beat").endswith(
        "scripts/test-runner.py --stage integration '--suite=orders' '--suite=billing' '--with=beat'")


# A docker whose stack has three containers, two of them killed for memory.
OOM_DOCKER = """#!/usr/bin/env bash
case $1 in
  compose) printf '%s\\n' c1 c2 c3 ;;
  inspect) printf '%s\\n' /p-api-1' false 536870912' /p-worker-2' true 268435456' /p-db-x-1' true 0' ;;
esac
"""
OOM_PY = "import sys; sys.path.insert(0, 'scripts'); from stack import run; run.PROG = 'bash'; run.report_oom_kills()"


def test_a_container_killed_for_memory_is_named_with_its_limit(project: Path, tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/docker").write_text(OOM_DOCKER)
    (tmp_path / "bin/docker").chmod(0o755)
    env = project_env(TEST_INSTANCE_ID="lint", COMPOSE_PROJECT_NAME="p")
    result = subprocess.run([sys.executable, "-c", OOM_PY], cwd=project, capture_output=True, text=True,
                            env={**env, "PATH": f"{tmp_path / 'bin'}:{env['PATH']}"}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "bash: worker: killed: out of memory (limit 256m)",
        "bash: db-x: killed: out of memory (limit none)",
    ]
