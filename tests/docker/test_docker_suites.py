"""Layer 6, issue 13: integration suites in parallel on isolated stacks; bounded test stacks.

Each suite (a folder of tests/integration/) runs on a stack of its own; the
runner starts them at once. The suites below record, while they run, the
names of their own stack's containers, networks and volumes and each
container's memory limit, and wait for each other (a barrier with a
deadline), which proves both stacks were up at the same time.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from dockertools import Project, assert_passed, images, nothing_left
from support import COMBOS

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SUITES = ("alpha", "beta")

# One suite's test: its stack answers, it records what it sees of its own
# compose project, then waits until the other suite ran as far (a barrier).
SUITE_TEST = '''\
"""Suite {name}: runs on a stack of its own (scripts/run-integration-tests.sh --suite {name})."""

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

MARKS = Path(__file__).resolve().parents[3] / ".suite-marks"


def docker(*args: str) -> list[str]:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_{name}_runs_on_its_own_stack() -> None:
    project = os.environ["COMPOSE_PROJECT_NAME"]
    with urllib.request.urlopen(os.environ["TEST_API_URL"] + "/health", timeout=10) as answer:
        assert answer.status == 200
    label = f"label=com.docker.compose.project={{project}}"
    ids = docker("ps", "--quiet", "--filter", label)
    seen = {{
        "project": project,
        "containers": docker("ps", "-a", "--filter", label, "--format", "{{{{.Names}}}}"),
        "networks": docker("network", "ls", "--filter", label, "--format", "{{{{.Name}}}}"),
        "volumes": docker("volume", "ls", "--filter", label, "--format", "{{{{.Name}}}}"),
        "memory": docker("inspect", "--format", "{{{{.HostConfig.Memory}}}}", *ids),
    }}
    MARKS.mkdir(exist_ok=True)
    (MARKS / "{name}.json").write_text(json.dumps(seen))
    deadline = time.monotonic() + 600
    while not (MARKS / "{other}.json").exists():
        assert time.monotonic() < deadline, "suite {other} never ran while {name} did"
        time.sleep(0.2)
'''


def add_suites(project: Project) -> None:
    for name, other in (SUITES, SUITES[::-1]):
        folder = project.root / "tests" / "integration" / name
        folder.mkdir()
        (folder / f"test_{name}.py").write_text(SUITE_TEST.format(name=name, other=other))


def make(project: Project, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", *args], cwd=project.root, env={**project.env(), **env},
                          capture_output=True, text=True, timeout=1500)


def test_two_suites_run_in_parallel_on_isolated_stacks(make_project) -> None:
    project = make_project(COMBOS["multi-gitea-pg-python"])
    add_suites(project)
    result = make(project, "test-integration", "SUITES=alpha beta", TEST_MEMORY="384m")
    assert_passed(result)
    for name in SUITES:
        assert f"✓ stack:{name} passed" in result.stdout, result.stdout
        junit = project.root / ".artifacts" / project.instance_id() / f"integration-{name}" / "junit.xml"
        assert f"test_{name}_runs_on_its_own_stack" in junit.read_text()
    seen = {name: json.loads((project.root / ".suite-marks" / f"{name}.json").read_text()) for name in SUITES}
    assert {s["project"] for s in seen.values()} == {f"{project.prefix}-suite-{n}" for n in SUITES}
    for name, other in (SUITES, SUITES[::-1]):
        mine, theirs = seen[name], seen[other]
        # postgres, api, jobs (the migrate step ran and exited: ps -a lists it too).
        assert len(mine["containers"]) >= 3 and mine["networks"], mine
        names = mine["containers"] + mine["networks"] + mine["volumes"]
        assert all(n.startswith(mine["project"]) for n in names), names
        leaked = [n for n in names if theirs["project"] in n or n in
                  theirs["containers"] + theirs["networks"] + theirs["volumes"]]
        assert not leaked, f"suite {name} sees names of suite {other}: {leaked}"
        # TEST_MEMORY reached every running member.
        assert set(mine["memory"]) == {str(384 * 2**20)}, mine["memory"]
    assert not nothing_left(project.prefix), "the suites' stacks must be gone after the run"
    built = images(f"{project.prefix}-suite-")
    assert built, "the suite stacks built their images"
    cleaned = make(project, "test-clean-all")
    assert_passed(cleaned)
    assert not images(f"{project.prefix}-suite-"), "test-clean-all left suite images"


def test_a_member_killed_for_memory_is_reported(make_project) -> None:
    """TEST_MEMORY too small for the api: its container dies OOMKilled, and the run says so."""
    project = make_project(COMBOS["multi-none-nocomp"])
    result = make(project, "test-integration", TEST_MEMORY="24m", TEST_WAIT_TIMEOUT="60")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "run-integration-tests.sh: api: killed: out of memory (limit 24m)" in result.stderr, (
        result.stdout + result.stderr)
    assert not nothing_left(project.prefix)
