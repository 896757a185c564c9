#!/usr/bin/env python3
"""Unit stage through scripts/test-runner.py vs. the same unit commands run directly.

Times, in a generated project, `uv run scripts/test-runner.py --stage unit
--no-live --jobs 1` and `--jobs N` (N = CPU count) against running
`scripts/unit-tests.sh services/<name>` for each service one after another
(as a user would, without TEST_ARGS; a second direct row adds the runner's
TEST_ARGS and environment, to separate the runner's own cost from that of the
verbose test-tool options). Median of --repeat runs after one warm-up run of
each (which also installs node modules and the uv environments); the modes
take turns, so a change in the machine's load hits them alike. Prints a
table with the ratio to the direct serial run; asserts nothing (this machine
is noisy). Goals: runner --jobs 1 at most 1.10, --jobs N below 1.00.

usage: .venv/bin/python bench/runner.py [PROJECT] [--repeat N] [--runner FILE]
  PROJECT  a generated project; default: render one into a temp dir with
           copier (services "api worker:worker web:node", postgres + redis)
  --runner run this test-runner.py (from the project root) instead of the
           project's own, e.g. a working copy against the committed one
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

TEMPLATE = Path(__file__).resolve().parent.parent
BENCH_DATA = {
    "project_name": "Bench",
    "services": "api worker:worker web:node",
    "components": ["postgres", "redis"],
}

# uv, from the template's venv, comes first (as in tests/conftest.py).
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def render(dst: Path) -> Path:
    from copier import run_copy

    run_copy(
        str(TEMPLATE),
        str(dst),
        data=BENCH_DATA,
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="HEAD",
    )
    return dst


def load_runner(path: Path) -> tuple[ModuleType, ModuleType]:
    """The planning and process modules of the test_runner package beside a test-runner.py."""
    sys.path.insert(0, str(path.parent))
    try:
        planning = importlib.import_module("test_runner.planning")
        process = importlib.import_module("test_runner.process")
    except ImportError as exc:
        sys.exit(f"bench/runner.py: no test_runner package beside {path}: {exc}")
    finally:
        sys.path.pop(0)
    return planning, process


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds one command takes; exit with its output when it fails."""
    start = time.perf_counter()
    result = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(
            f"bench/runner.py: `{' '.join(cmd)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return seconds


def measure(runs: list[Callable[[], float]], repeat: int) -> list[list[float]]:
    """One warm-up of each, then the modes take turns, so load drift hits all alike."""
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, found in zip(runs, times, strict=True):
            found.append(run())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, help="a generated project")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per mode (default 3)")
    parser.add_argument("--runner", type=Path, help="a test-runner.py to use instead")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
        if args.project is None:
            project = render(Path(tmp) / "bench")
        else:
            project = args.project.resolve()
        if not (project / "scripts" / "unit-tests.sh").is_file():
            sys.exit(f"bench/runner.py: {project} has no scripts/unit-tests.sh")
        runner_file = (args.runner or project / "scripts" / "test-runner.py").resolve()
        planning, process = load_runner(runner_file)
        targets = planning.plan(project, ["unit"]).targets
        commands = [process.resolve_command(project, t.command) for t in targets]
        cpus = os.cpu_count() or 1

        def direct(with_runner_env: bool) -> Callable[[], float]:
            def run() -> float:
                total = 0.0
                for target, command in zip(targets, commands, strict=True):
                    env = process.child_env(target.framework) if with_runner_env else None
                    total += timed(command, project, env)
                return total

            return run

        def through_runner(jobs: int) -> Callable[[], float]:
            cmd = ["uv", "run", "--quiet", str(runner_file)]
            cmd += ["--stage", "unit", "--no-live", "--jobs", str(jobs)]
            return lambda: timed(cmd, project)

        modes: list[tuple[str, Callable[[], float], str]] = [
            ("direct, one after another", direct(False), ""),
            ("direct, with the runner's TEST_ARGS", direct(True), ""),
            ("runner --jobs 1", through_runner(1), "<= 1.10"),
        ]
        if cpus > 1:
            modes.append((f"runner --jobs {cpus}", through_runner(cpus), "< 1.00"))

        print(f"project: {project}\nrunner: {runner_file}")
        print(f"unit targets: {', '.join(t.name for t in targets)}; CPUs: {cpus}")
        print(f"median of {args.repeat} runs after one warm-up\n")
        measured = measure([run for _, run, _ in modes], args.repeat)
        rows = [(name, times, goal) for (name, _, goal), times in zip(modes, measured, strict=True)]
        base = statistics.median(rows[0][1])
        header = f"{'mode':<38}{'median s':>9}{'min s':>8}{'max s':>8}{'ratio':>7}  goal"
        print(header)
        print("-" * len(header))
        for name, times, goal in rows:
            median = statistics.median(times)
            ratio = median / base
            print(
                f"{name:<38}{median:>9.2f}{min(times):>8.2f}{max(times):>8.2f}"
                f"{ratio:>7.2f}  {goal}"
            )


if __name__ == "__main__":
    main()
