"""Layer 6: generated projects on a real Docker engine.

Every test here runs real containers (marked `docker`; skipped with the reason
where no engine answers, failed instead under REQUIRE_DOCKER=1). `make test`
runs pytest with `--dist loadgroup`: conftest.py makes every docker test its own
unit, so the two workers run two isolated stacks at once, and every test
removes what it built with the project's own `make test-clean-all`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from dockertools import (
    Project,
    assert_passed,
    docker,
    healthy_services,
    images,
    nothing_left,
    resources,
    wait_for,
)
from support import COMBOS, run

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FULL = COMBOS["multi-github-pg-redis-mixed"]  # python api, python worker, node api; postgres + redis
SINGLE = COMBOS["single-github-python-api"]


# --- 1. make test passes all stages ------------------------------------------------------


def assert_every_stage_passed(project: Project, result: subprocess.CompletedProcess[str]) -> None:
    """FULL's `make test`: all three stages ran, images built from the Dockerfiles, every container healthy."""
    assert_passed(result)
    out = result.stdout
    for stage in ("unit", "service", "integration"):
        assert stage in out, f"stage {stage} missing from runner output:\n{out}"
    artifacts = project.root / ".artifacts" / project.instance_id()
    for name in ("api", "worker", "web"):
        assert (artifacts / f"service-{name}/junit.xml").is_file()
        assert healthy_services(artifacts / f"service-{name}/ps.txt"), f"stage 2 {name}: nothing healthy"
    healthy = healthy_services(artifacts / "integration/ps.txt")
    assert len(healthy) == 5, f"stage 3 healthy containers: {healthy}"
    built = images(project.prefix)
    for name in ("api", "worker", "web"):
        assert f"{project.prefix}-{name}" in built, built
    assert not nothing_left(project.prefix)


@pytest.mark.parametrize(
    "combo", ["single-github-python-api", "single-gitea-node-api", "single-both-python-worker"]
)
def test_single_project_make_test_passes_both_stages(make_project, combo: str) -> None:
    """python api, node api and (alpine flavour) python worker, each with its components."""
    answers = COMBOS[combo]
    project = make_project(answers)
    result = project.make("test")
    assert_passed(result)
    artifacts = project.root / ".artifacts" / project.instance_id()
    assert (artifacts / "integration/junit.xml").is_file()
    assert len(healthy_services(artifacts / "integration/ps.txt")) == 1 + len(answers["components"])
    assert not list(artifacts.glob("service-*")), "the single layout has no service stage"
    assert not nothing_left(project.prefix)


# --- 2. two instances side by side, each the multi project's whole make test --------------------


def test_two_worktrees_run_make_test_at_the_same_time(make_project, tmp_path: Path) -> None:
    main = make_project(FULL, name="main", instance=None)
    worktree = tmp_path / "feature"
    run(["git", "worktree", "add", "-q", "-b", "feature/login", str(worktree)], cwd=main.root)
    feature = Project(worktree, None)
    ids = {main.instance_id(), feature.instance_id()}
    assert len(ids) == 2 and all(re.fullmatch(r"(main|feature-login)-\d{6}", i) for i in ids), ids
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    # The engine's events, streamed while both run: replayed afterwards with --since they come
    # from the engine's bounded buffer, which two whole `make test` runs overflow.
    log = tmp_path / "events.jsonl"
    with log.open("w") as sink:
        watcher = subprocess.Popen(["docker", "events", "--format", "{{json .}}"], stdout=sink,
                                   stderr=subprocess.DEVNULL)
    try:
        # The stream is live once it shows a volume made after it started (one more each try).
        markers: list[str] = []

        def streamed() -> bool:
            markers.append(f"events-{uuid.uuid4().hex[:8]}")
            docker("volume", "create", markers[-1])
            return any(marker in log.read_text() for marker in markers)

        wait_for(streamed, timeout=60, what="docker events to stream")
        docker("volume", "rm", *markers)
        threads = [threading.Thread(target=lambda p=p: results.__setitem__(p.instance_id(), p.make("test")))
                   for p in (main, feature)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=1500)
        # Each is the default multi project's whole `make test` (it was a test of its own too).
        for project in (main, feature):
            assert_every_stage_passed(project, results[project.instance_id()])
        names = set()
        watcher.terminate()
        watcher.wait(timeout=30)
        for line in log.read_text().splitlines():
            event = json.loads(line)
            if event.get("Type") in ("container", "network", "volume"):
                actor = event.get("Actor", {})
                names.add(actor.get("Attributes", {}).get("name") or actor.get("ID", ""))
        # Only test stacks without an instance of their own (these two use their branch's): other
        # tests of this session run dev stacks and test stacks of instance pytest-<hex> meanwhile.
        names = {n for n in names if n.startswith(f"{main.slug}-test-")
                 and not n.startswith(f"{main.slug}-test-pytest-")}
        assert names, "no docker events recorded"
        by_instance = {i: {n for n in names if i in n} for i in ids}
        assert all(by_instance.values()), by_instance
        both = set.intersection(*by_instance.values())
        neither = names - set.union(*by_instance.values())
        assert not both and not neither, f"shared: {both}, unscoped: {neither}"
        for project in (main, feature):
            other = (ids - {project.instance_id()}).pop()
            assert not [i for i in images(project.prefix) if other in i]
            assert not nothing_left(project.prefix)
    finally:
        if watcher.poll() is None:
            watcher.kill()
        feature.clean()


# --- 3. nothing is left behind --------------------------------------------------------------


def test_failing_integration_test_still_tears_down(make_project) -> None:
    project = make_project(FULL)
    stack_test = project.root / "tests/integration/test_stack.py"
    stack_test.write_text(stack_test.read_text() + "\n\ndef test_deliberately_broken() -> None:\n    assert False\n")
    result = project.make("test-integration")
    assert result.returncode != 0, result.stdout
    assert "test_deliberately_broken" in result.stdout
    assert not nothing_left(project.prefix)
    logs = project.root / ".artifacts" / project.instance_id() / "integration"
    assert (logs / "api.log").read_text().strip(), "container logs are collected on failure"
    assert (logs / "junit.xml").is_file()


def test_sigint_during_stage_3_tears_down(make_project) -> None:
    project = make_project(FULL)
    prefix = project.prefix
    proc = subprocess.Popen(["make", "test-integration"], cwd=project.root, env=project.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        # Interrupt once the stack's containers are up, as Ctrl-C would (the whole process group).
        wait_for(lambda: len(resources(prefix)["containers"]) >= 5 or proc.poll() is not None,
                 timeout=600, what="stage 3 containers")
        assert proc.poll() is None, "stage 3 finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0, out
    assert not nothing_left(prefix), out


def assert_ports_loopback_and_discovered(project: Project) -> None:
    """The running test stack publishes dynamic loopback ports only, found with `docker compose port`."""
    env = {**project.env(), "COMPOSE_PROJECT_NAME": project.prefix,
           "COMPOSE_FILE": str(project.root / "deploy/test/docker-compose.yml")}
    ports = {}
    for service, port in (("app", "8000"), ("postgres", "5432"), ("redis", "6379")):
        address = subprocess.run(["docker", "compose", "port", service, port], cwd=project.root, env=env,
                                 capture_output=True, text=True, check=True).stdout.strip()
        host, _, host_port = address.rpartition(":")
        assert host == "127.0.0.1", address
        ports[service] = int(host_port)
    assert len(set(ports.values())) == 3
    for container in resources(project.prefix)["containers"]:
        for binding in json.loads(docker("inspect", "--format", "{{json .HostConfig.PortBindings}}", container)
                                  or "{}").values() or []:
            for entry in binding:
                assert entry["HostIp"] == "127.0.0.1" and entry["HostPort"] in ("", "0"), (container, entry)


def test_infra_up_ports_down_and_clean_all_touch_only_their_own_instance(make_project) -> None:
    """test-infra-up leaves loopback ports to discover; test-clean-all removes its own instance (images
    too) and nothing of another; test-infra-down removes the other's stack."""
    mine = make_project(SINGLE, name="mine")
    other = make_project(SINGLE, name="other")
    for project in (mine, other):
        assert_passed(project.make("test-infra-up"))
    assert_ports_loopback_and_discovered(mine)
    theirs = resources(other.prefix)["containers"]
    assert resources(mine.prefix)["containers"] and theirs
    assert_passed(mine.make("test-clean-all"))
    assert not nothing_left(mine.prefix)
    assert not images(mine.prefix), "clean-all removes the instance's images"
    assert resources(other.prefix)["containers"] == theirs, "the other instance is untouched"
    assert images(other.prefix)
    assert_passed(other.make("test-infra-down"))
    assert not nothing_left(other.prefix)


# --- the other stacks ------------------------------------------------------------------------


# --- 5. the data, job and run lifecycle (issues 11, 12)----------------------------------------

# The default project plus a scheduler and the llm component (issue 12): the python data,
# job and run lifecycle in one project, one `make test`.
LIFECYCLE = {**FULL, "services": f"{FULL['services']} beat:scheduler", "components": ["postgres", "redis", "llm"]}


def migrate_again(project, names: tuple[str, ...]) -> dict[str, str]:  # noqa: ANN001
    """Run the named services' one-shot migrate steps once more on the running stage-3
    stack (up, then down again): each step's output, which must have exited 0."""
    assert_passed(project.make("test-infra-up"))
    compose = ["docker", "compose", "-p", project.prefix, "-f", "deploy/test/docker-compose.yml",
               "-f", "deploy/test/docker-compose.override.yml"]
    outputs = {}
    for name in names:
        again = subprocess.run([*compose, "run", "--rm", "--no-deps", f"{name}-migrate"], cwd=project.root,
                               env=project.env(), capture_output=True, text=True, timeout=300)
        outputs[name] = again.stdout + again.stderr
        assert again.returncode == 0, outputs[name]
    assert_passed(project.make("test-infra-down"))
    return outputs


def test_migrations_seeds_jobs_and_llm_runs_in_every_stage(make_project) -> None:
    """The default project plus a scheduler and the llm component (one `make test` proves both):

    each stack migrates and seeds before its services start (stages 2 and 3), beat's job is
    processed by the Celery worker and lands in postgres, and migrating and seeding again
    changes nothing; the worker's stage 2 calls the llm stand-in, INT-001..INT-006 pass in
    stage 3 (INT-005: a worker killed mid-run, INT-006: redis stopped at POST /runs) and the
    runner's summary names them, and the stand-in's request log is kept with the artifacts."""
    project = make_project(LIFECYCLE, name="lifecycle")
    result = project.make("test")
    assert_passed(result)
    artifacts = project.root / ".artifacts" / project.instance_id()
    for stage in ("service-api", "service-worker", "integration"):
        for name in ("api", "worker"):
            if stage.startswith("service-") and stage != f"service-{name}":
                continue
            log = (artifacts / stage / f"{name}-migrate.log").read_text()
            assert "Running upgrade  -> 0001" in log, f"{stage}: {name} not migrated:\n{log}"
            assert "No new upgrade operations detected" in log, f"{stage}: alembic check:\n{log}"
            # In stage 3 the node api `web` seeds the same fixed row of the shared `items`
            # table, and the migrate steps run in either order (one advisory lock): the
            # second finds the row there. Alone (stage 2), the api's seed inserts it.
            shared = stage == "integration" and name == "api"
            seeded = re.search(r"seed: ([01]) row\(s\) inserted" if shared else r"seed: (1) row\(s\) inserted", log)
            assert seeded, f"{stage}: {name} not seeded:\n{log}"
    web_log = (artifacts / "integration" / "web-migrate.log").read_text()
    assert "web: seed: " in web_log, f"integration: web not seeded:\n{web_log}"
    junit = (artifacts / "integration" / "junit.xml").read_text()
    assert 'name="test_scheduled_job_is_processed_by_a_worker"' in junit, junit
    assert "<failure" not in junit and "<error" not in junit, junit
    assert "celery" in (artifacts / "integration" / "beat.log").read_text().lower()

    # The llm runs.
    summary = result.stdout[result.stdout.rfind("Test summary"):]
    for scenario in ("INT-001", "INT-002", "INT-003", "INT-004", "INT-005", "INT-006"):
        line = next((row for row in summary.splitlines() if scenario in row), "")
        assert "passed" in line, f"{scenario} not passed in the summary:\n{summary}"
    junit = (artifacts / "service-worker" / "junit.xml").read_text()
    assert 'name="test_fail_once_fails_the_first_call_of_a_run_only"' in junit, junit
    assert "<failure" not in junit and "<error" not in junit, junit
    migrate = (artifacts / "integration" / "api-migrate.log").read_text()
    assert "Running upgrade 0001 -> llm_0001" in migrate, migrate
    assert "Running upgrade llm_0001 -> llm_0002" in migrate, migrate
    requests = [json.loads(line) for line in
                (artifacts / "integration" / "llm-requests.jsonl").read_text().splitlines()
                if line.startswith("{")]
    calls = [(r["model"], r["status"]) for r in requests if r.get("path") == "/v1/chat/completions"]
    assert ("gpt-3.5-turbo-fail-once-int004", 500) in calls, calls
    assert ("gpt-3.5-turbo-fail-once-int004", 200) in calls, calls
    assert calls.count(("gpt-3.5-turbo-always-fail-int002", 500)) == 3, calls
    assert calls.count(("gpt-3.5-turbo-slow-int005", 200)) == 2, calls

    # Again on a running stack: migrate and seed are no-ops.
    for name, out in migrate_again(project, ("api", "worker")).items():
        assert "Running upgrade" not in out, f"{name}: migrated twice:\n{out}"
        assert "seed: 0 row(s) inserted" in out, f"{name}: seeded twice:\n{out}"


NODE_LIFECYCLE = COMBOS["multi-none-pg-redis-node-lifecycle"]


def test_node_project_migrates_seeds_and_runs_bullmq_jobs_in_every_stage(make_project) -> None:
    """A node-only project (api, BullMQ worker, BullMQ scheduler): each stack runs the one
    node process of migrate.js (node-pg-migrate up, then the seed) before its service
    starts, the api's job is processed by the worker and read back with its postgres row,
    the scheduler's job lands in postgres, and migrating and seeding again changes nothing."""
    project = make_project(NODE_LIFECYCLE, name="node-lifecycle")
    result = project.make("test")
    assert_passed(result)
    artifacts = project.root / ".artifacts" / project.instance_id()
    for stage, names in (("service-api", ["api"]), ("service-worker", ["worker"]),
                         ("integration", ["api", "worker"])):
        for name in names:
            log = (artifacts / stage / f"{name}-migrate.log").read_text()
            assert "1700000000000_initial" in log, f"{stage}: {name} not migrated:\n{log}"
            assert f"{name}: 1 migration(s) applied" in log, f"{stage}: {name}:\n{log}"
            assert f"{name}: seed: 1 row(s) inserted" in log, f"{stage}: {name} not seeded:\n{log}"
    junit = (artifacts / "integration" / "junit.xml").read_text()
    for test in ("test_job_from_node_api_is_processed_by_node_worker",
                 "test_scheduled_job_is_processed_by_a_worker"):
        assert f'name="{test}"' in junit, junit
    assert "<failure" not in junit and "<error" not in junit, junit
    assert "processed job repeat:sample-job" in (artifacts / "integration" / "worker.log").read_text()

    # Again on a running stack: migrate and seed are no-ops.
    for name, out in migrate_again(project, ("api", "worker")).items():
        assert f"{name}: 0 migration(s) applied" in out, f"{name}: migrated twice:\n{out}"
        assert f"{name}: seed: 0 row(s) inserted" in out, f"{name}: seeded twice:\n{out}"


def test_optional_members_start_when_asked_and_settings_edits_are_honoured(make_project) -> None:
    """The scheduler is an optional member of the stage-3 stack: left out by default, in
    with --with-beat or COMPOSE_PROFILES in .env.integration (written on the first run,
    then read: JOB_EVERY_SECONDS reaches the container); down removes it either way."""
    project = make_project(COMBOS["multi-none-pg-redis-scheduler"], name="profiles")

    def script(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["scripts/run-integration-tests.sh", *args], cwd=project.root,
                                env={**project.env(), **env}, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result

    def running() -> dict[str, str]:
        """service -> its JOB_EVERY_SECONDS (empty when it has none)."""
        ids = docker("ps", "--quiet", "--filter", f"label=com.docker.compose.project={project.prefix}").split()
        found = {}
        for line in docker("inspect", "--format", '{{index .Config.Labels "com.docker.compose.service"}} '
                           "{{range .Config.Env}}{{println .}}{{end}}", *ids).split("\n\n") if ids else []:
            name, _, env = line.strip().partition(" ")
            found[name] = next((v.split("=", 1)[1] for v in env.split() if v.startswith("JOB_EVERY_SECONDS=")), "")
        return found

    script("--up")
    settings = project.root / ".env.integration"
    assert settings.is_file(), "the first run writes .env.integration"
    assert "beat" not in running() and {"api", "worker"} <= set(running()), running()
    script("--up", "--with-beat")
    assert running().get("beat") == "2", running()
    script("--down")
    assert not running(), running()
    settings.write_text(settings.read_text().replace("\nCOMPOSE_PROFILES=\n", "\nCOMPOSE_PROFILES=beat\n")
                        .replace("#JOB_EVERY_SECONDS=2", "JOB_EVERY_SECONDS=7"))
    result = script("--up")
    assert "optional members: beat" in result.stderr, result.stderr
    assert running().get("beat") == "7", running()
    # The scheduled-job test runs (not skipped) when its member is in the stack.
    tested = script("--test", TEST_ARGS="-k scheduled_job -rs")
    assert " 1 passed" in tested.stdout and "skipped" not in tested.stdout, tested.stdout[-2000:]
    script("--down")
    assert not running(), running()
