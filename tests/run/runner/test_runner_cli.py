"""The runner as users run it, against a fake project whose scripts replay real output.

Each fake target logs its start (with how many targets run at that moment) and
end to events.log; see runner_fakes.FAKE_TARGET for the behaviours.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable

import pytest
from runner_fakes import FakeProject, Result, plain_env, wait_until
from test_runner import parsing

MakeProject = Callable[..., FakeProject]
ALL_TARGETS = [
    ("unit", "api"),
    ("unit", "web"),
    ("unit", "worker"),
    ("service", "api"),
    ("service", "web"),
    ("service", "worker"),
    ("integration", "stack"),
]


def explain(result: Result) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def plain_lines(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("[")]


# ------------------------------------------------------------------ outcomes


def test_all_stages_pass(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("unit", "web", "pass", "vitest3-passing.txt")
    result = project.run("--no-live")
    assert result.returncode == 0, explain(result)
    assert sorted(project.started()) == sorted(ALL_TARGETS)
    # Stages in order: every unit target ended before the first service target started.
    events = project.events()
    first_service = next(i for i, e in enumerate(events) if e.stage == "service")
    assert all(e.stage == "unit" for e in events[:first_service])
    assert "✓ all 7 targets passed" in result.stdout
    assert "FAILURES" not in result.stdout


def test_plain_lines_one_per_start_and_finish(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("unit", "web", "pass", "vitest3-passing.txt")
    result = project.run("--no-live", "--stage", "unit")
    assert result.returncode == 0, explain(result)
    lines = plain_lines(result)
    assert len(lines) == 6, explain(result)
    for name in ("api", "web", "worker"):
        assert f"[unit] ● {name} started: scripts/unit-tests.sh services/{name}" in lines
    assert "[unit] ✓ web passed in" in result.stdout
    finished = {line.split()[2]: line for line in lines if line.split()[1] == "✓"}
    assert finished["api"].endswith(": 7 passed, 1 skipped")
    assert finished["web"].endswith(": 4 passed, 1 skipped")


def test_not_a_tty_means_plain_mode(fake_project: MakeProject) -> None:
    """Without --no-live, a pipe for stdout still gets plain lines and no cursor tricks."""
    project = fake_project()
    result = project.run("--stage", "unit")
    assert result.returncode == 0, explain(result)
    assert len(plain_lines(result)) == 6, explain(result)
    assert "\x1b[" not in result.stdout  # no cursor movement, no colours
    assert "Test summary" in result.stdout


def test_unit_failure_stops_before_the_service_stage(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("unit", "api", "fail", "pytest9-mixed.txt")
    project.behave("unit", "web", "pass", "vitest3-passing.txt")
    result = project.run("--no-live")
    assert result.returncode == 1, explain(result)
    assert sorted(project.started()) == [("unit", "api"), ("unit", "web"), ("unit", "worker")]
    out = result.stdout
    # The failing target's failure sections, and nothing of the passing noise.
    assert "unit/api failed: scripts/unit-tests.sh services/api exited 1" in out
    for wanted in ("= ERRORS =", "= FAILURES =", "short test summary info", "database unreachable"):
        assert wanted in out, explain(result)
    for noise in ("test_passes PASSED", "test session starts", "slowest durations", " RUN "):
        assert noise not in out, f"{noise!r} printed:\n{out}"
    assert "test_words[alpha] PASSED" not in out  # worker passed: its output stays quiet
    assert out.count(" failed: scripts/") == 1
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("✗ 1 of 7 targets failed (unit/api)")
    assert verdict.endswith("not run: service, integration")


def test_vitest_failure_shows_its_failure_blocks(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("unit", "web", "fail", "vitest3-mixed.txt")
    result = project.run("--no-live", "--stage", "unit")
    assert result.returncode == 1, explain(result)
    assert "Failed Tests 2" in result.stdout
    assert "Tests  2 failed | 10 passed | 1 skipped | 1 todo (14)" in result.stdout
    assert "✓ src/math.test.js > math > adds" not in result.stdout


def test_script_failure_shows_the_tail(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("service", "api", "crash")
    result = project.run("--no-live", "--stage", "service")
    assert result.returncode == 1, explain(result)
    assert "service/api failed: scripts/test-service.sh api exited 3" in result.stdout
    assert "Cannot connect to the Docker daemon" in result.stdout


def test_failure_in_service_stage_skips_integration(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("service", "worker", "fail", "pytest8-mixed.txt")
    result = project.run("--no-live")
    assert result.returncode == 1, explain(result)
    assert ("integration", "stack") not in project.started()
    assert "service/worker failed" in result.stdout


def test_missing_script_fails_the_target(fake_project: MakeProject) -> None:
    project = fake_project()
    (project.root / "scripts" / "run-integration-tests.sh").unlink()
    result = project.run("--no-live", "--stage", "integration")
    assert result.returncode == 1, explain(result)
    assert "cannot run scripts/run-integration-tests.sh" in result.stdout


# ---------------------------------------------------------------- parallelism


def test_jobs_1_runs_one_target_at_a_time(fake_project: MakeProject) -> None:
    project = fake_project({name: "python" for name in ("a", "b", "c", "d")})
    result = project.run("--no-live", "--stage", "unit", "--jobs", "1")
    assert result.returncode == 0, explain(result)
    events = project.events()
    assert [e.running for e in events if e.kind == "start"] == [1, 1, 1, 1]
    # Every start follows the previous target's end.
    kinds = [e.kind for e in events]
    assert kinds == ["start", "end"] * 4, events


def test_jobs_2_runs_targets_together(fake_project: MakeProject) -> None:
    """api and worker each wait for the other to start: they pass only in parallel."""
    project = fake_project({"api": "python", "worker": "python"})
    project.behave("unit", "api", "barrier", "worker")
    project.behave("unit", "worker", "barrier", "api")
    result = project.run("--no-live", "--stage", "unit", "--jobs", "2")
    assert result.returncode == 0, explain(result)
    assert max(e.running for e in project.events() if e.kind == "start") == 2


# ------------------------------------------------------- stacks ahead of their stage

CONTAINER_TARGETS = sorted(t for t in ALL_TARGETS if t[0] != "unit")


def test_stacks_start_ahead_and_test_only_on_their_turn(fake_project: MakeProject) -> None:
    """A stage's stacks start while the stage before it runs: unit/api passes only if the
    service stack of web started meanwhile, service/api only if the integration stack did."""
    project = fake_project()
    project.behave("unit", "api", "await", "service-web.prepared")
    project.behave("service", "api", "await", "integration-stack.prepared")
    result = project.run("--no-live", "--stacks", "4")
    assert result.returncode == 0, explain(result)
    held = project.held()
    assert sorted((e.stage, e.key) for e in held if e.kind == "prepared") == CONTAINER_TARGETS
    assert sorted((e.stage, e.key) for e in held if e.kind == "go") == CONTAINER_TARGETS
    # Each tested only on its turn: after every unit target ended, stage by stage.
    events = project.events()
    unit_end = max(e.at for e in events if e.stage == "unit" and e.kind == "end")
    service_end = max(e.at for e in events if e.stage == "service" and e.kind == "end")
    goes = {(e.stage, e.key): e.at for e in held if e.kind == "go"}
    assert all(at >= unit_end for (stage, _), at in goes.items()), (goes, unit_end)
    assert goes["integration", "stack"] >= service_end
    # ... and only once the stage before their own started.
    prepared = {(e.stage, e.key): e.at for e in held if e.kind == "prepared"}
    assert prepared["integration", "stack"] >= unit_end


def test_a_failed_stage_tears_the_stacks_ahead_down_untested(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("unit", "worker", "fail", "pytest8-mixed.txt")
    result = project.run("--no-live", "--stacks", "4")
    assert result.returncode == 1, explain(result)
    # The service stacks, started during the unit stage, got the end of their input before
    # the runner returned; the integration stack never started (its turn never came).
    held = project.held()
    services = [t for t in CONTAINER_TARGETS if t[0] == "service"]
    assert sorted((e.stage, e.key) for e in held if e.kind == "eof") == services
    assert sorted((e.stage, e.key) for e in held if e.kind == "prepared") == services
    assert not [e for e in project.events() if e.stage != "unit"]
    assert "not run: service, integration" in result.stdout


def test_stacks_limits_the_stacks_up_at_once(fake_project: MakeProject) -> None:
    """--stacks 1: the integration stack starts only once the last service stack is gone."""
    project = fake_project()
    result = project.run("--no-live", "--stacks", "1")
    assert result.returncode == 0, explain(result)
    prepared = {(e.stage, e.key): e.at for e in project.held() if e.kind == "prepared"}
    service_end = max(e.at for e in project.events() if e.stage == "service" and e.kind == "end")
    assert prepared["integration", "stack"] >= service_end


def test_by_default_each_stack_starts_on_its_turn(fake_project: MakeProject) -> None:
    project = fake_project()
    result = project.run("--no-live")
    assert result.returncode == 0, explain(result)
    assert sorted(project.started()) == sorted(ALL_TARGETS)
    assert project.held() == []


# ---------------------------------------------------------------- environment


def test_test_args_per_framework(fake_project: MakeProject) -> None:
    project = fake_project()
    result = project.run("--no-live", "--stage", "unit")
    assert result.returncode == 0, explain(result)
    assert project.marker("unit", "api", "test_args").read_text().strip() == parsing.PYTEST_ARGS
    assert project.marker("unit", "web", "test_args").read_text().strip() == parsing.VITEST_ARGS
    assert parsing.PYTEST_ARGS == "-v --durations=0 --color=no -p no:cacheprovider"
    assert parsing.VITEST_ARGS == "--reporter=verbose --no-color"
    # No colours forced on (vitest reads even FORCE_COLOR=0 as "on").
    assert project.marker("unit", "web", "colors").read_text().split() == ["1", "unset"]


def test_user_test_args_are_appended(fake_project: MakeProject) -> None:
    project = fake_project({"api": "python"})
    cmd = project.command("--no-live", "--stage", "unit")
    env = {**plain_env(), "TEST_ARGS": "-k smoke", "FORCE_COLOR": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = project.marker("unit", "api", "test_args").read_text().strip()
    assert args == f"{parsing.PYTEST_ARGS} -k smoke"
    assert project.marker("unit", "api", "colors").read_text().split() == ["1", "unset"]


def test_verbose_streams_prefixed_lines(fake_project: MakeProject) -> None:
    project = fake_project({"api": "python", "web": "node"})
    project.behave("unit", "web", "pass", "vitest3-passing.txt")
    result = project.run("--no-live", "--stage", "unit", "-v")
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    assert any(line.startswith("api | tests/test_ok.py::test_one PASSED") for line in lines)
    assert any(line.startswith("web |  ✓ src/ok.test.js > ok > works ") for line in lines)
    assert "No such file" not in result.stdout


# -------------------------------------------------------------------- options


def test_stage_and_service_filters(fake_project: MakeProject) -> None:
    project = fake_project()
    result = project.run("--no-live", "--stage", "service", "--service", "api,worker")
    assert result.returncode == 0, explain(result)
    assert sorted(project.started()) == [("service", "api"), ("service", "worker")]


def test_repeated_stages_keep_their_order(fake_project: MakeProject) -> None:
    project = fake_project({"api": "python"})
    result = project.run("--no-live", "--stage", "integration", "--stage", "unit", "-j", "1")
    assert result.returncode == 0, explain(result)
    assert project.started() == [("unit", "api"), ("integration", "stack")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "e2e"], "invalid choice 'e2e'"),
        (["--service", "nope"], "no target named nope; the targets are api, stack, web, worker"),
        (["--jobs", "0"], "must be at least 1"),
    ],
    ids=["unknown-stage", "unknown-service", "zero-jobs"],
)
def test_usage_errors_exit_2(fake_project: MakeProject, args: list[str], message: str) -> None:
    project = fake_project()
    result = project.run("--no-live", *args)
    assert result.returncode == 2, explain(result)
    assert message in result.stderr
    assert project.started() == []


def test_single_layout(fake_project: MakeProject) -> None:
    project = fake_project({"web": "node"}, layout="single")
    project.behave("unit", "root", "pass", "vitest3-passing.txt")
    result = project.run("--no-live")
    assert result.returncode == 0, explain(result)
    assert project.started() == [("unit", "root"), ("integration", "stack")]
    assert "[unit] ● web started: scripts/unit-tests.sh ." in result.stdout
    assert "[integration] ● web started: scripts/run-integration-tests.sh" in result.stdout
    assert project.run("--no-live", "--stage", "service").returncode == 2


def test_without_a_registry_the_folders_are_scanned(fake_project: MakeProject) -> None:
    """A project mid-update from a template version without scripts/services.json."""
    project = fake_project(registry=False)
    project.behave("unit", "web", "pass", "vitest3-passing.txt")
    result = project.run("--no-live", "--stage", "unit")
    assert result.returncode == 0, explain(result)
    assert not (project.root / "scripts" / "services.json").exists()
    assert sorted(project.started()) == [("unit", "api"), ("unit", "web"), ("unit", "worker")]
    assert project.marker("unit", "web", "test_args").read_text().strip() == parsing.VITEST_ARGS


def test_a_broken_registry_is_a_usage_error(fake_project: MakeProject) -> None:
    project = fake_project()
    registry = project.root / "scripts" / "services.json"
    registry.write_text('{"layout": "multi", "services": [{"name": "api"}]}\n')
    result = project.run("--no-live")
    assert result.returncode == 2, explain(result)
    assert result.stderr == (
        "test-runner.py: error: scripts/services.json: every service needs a 'name' and a 'path'\n"
    )
    assert project.started() == []


# ------------------------------------------------------------------ interrupts


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_reaches_the_target_and_exits_130(
    fake_project: MakeProject, signum: signal.Signals
) -> None:
    project = fake_project({"api": "python", "worker": "python"})
    project.behave("unit", "api", "trap")
    project.behave("unit", "worker", "trap")
    proc = project.start("--no-live", "--grace", "20")
    for key in ("api", "worker"):
        ready = project.marker("unit", key, "ready")
        wait_until(ready.exists, what=f"{key} to start")
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, f"{stdout}\n{stderr}"
    for key in ("api", "worker"):
        # The target's own trap ran (it got SIGINT, in its process group).
        assert project.marker("unit", key, "interrupted").read_text().strip() == "got SIGINT"
    assert [e.stage for e in project.events() if e.kind == "start"] == ["unit", "unit"]
    assert "interrupted" in stdout.strip().splitlines()[-1]


def test_target_ignoring_sigint_is_killed_after_the_grace(fake_project: MakeProject) -> None:
    project = fake_project({"api": "python"})
    project.behave("unit", "api", "stubborn")
    proc = project.start("--no-live", "--grace", "0.5")
    wait_until(project.marker("unit", "api", "ready").exists, what="api to start")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, f"{stdout}\n{stderr}"
    child = int(project.marker("unit", "api", "child").read_text())

    def child_gone() -> bool:
        try:
            with open(f"/proc/{child}/stat") as stat:
                return stat.read().split(") ")[1].startswith("Z")  # a zombie is gone
        except FileNotFoundError:
            return True

    wait_until(child_gone, timeout=10, what="the target's child to be killed")


def test_second_interrupt_kills_at_once(fake_project: MakeProject) -> None:
    project = fake_project({"api": "python"})
    project.behave("unit", "api", "stubborn")
    proc = project.start("--no-live", "--grace", "600")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    wait_until(project.marker("unit", "api", "ready").exists, what="api to start")
    proc.send_signal(signal.SIGINT)
    # Signals that arrive together count once: wait until the first one was handled.
    wait_until(lambda: any("Interrupted" in line for line in lines), what="the first SIGINT")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 130
    reader.join(timeout=10)
    assert "interrupted" in lines[-1]


# ------------------------------------------------------------------ suites


def make_suites(project: FakeProject, *names: str) -> None:
    for name in names:
        (project.root / "tests" / "integration" / name).mkdir(parents=True)


def test_suites_run_in_parallel_as_targets_of_their_own(fake_project: MakeProject) -> None:
    project = fake_project()
    make_suites(project, "orders", "billing")
    # Each passes only while the other runs: both stacks at the same time.
    project.behave("integration", "stack:orders", "barrier", "stack:billing")
    project.behave("integration", "stack:billing", "barrier", "stack:orders")
    result = project.run("--no-live", "-j", "2", "--stage", "integration", "--suite", "orders,billing")
    assert result.returncode == 0, explain(result)
    assert sorted(project.started()) == [("integration", "stack:billing"), ("integration", "stack:orders")]
    assert "[integration] ✓ stack:orders passed" in result.stdout
    assert "[integration] ✓ stack:billing passed" in result.stdout


def test_an_unknown_suite_is_a_usage_error(fake_project: MakeProject) -> None:
    project = fake_project()
    make_suites(project, "orders")
    result = project.run("--no-live", "--suite", "billing")
    assert result.returncode == 2, explain(result)
    assert "no suite billing (a folder tests/integration/NAME/); the suites are orders" in result.stderr
    assert project.started() == []


def test_a_container_killed_for_memory_is_named(fake_project: MakeProject) -> None:
    project = fake_project()
    project.behave("integration", "stack", "oom")
    result = project.run("--no-live", "--stage", "integration")
    assert result.returncode == 1, explain(result)
    finish = [line for line in plain_lines(result) if "stack failed" in line]
    assert finish and finish[0].endswith("exit 1; api: killed: out of memory (limit 256m)"), finish
    report = result.stdout.split("integration/stack failed", 1)[1]
    assert report.splitlines()[1] == "api: killed: out of memory (limit 256m)", report
