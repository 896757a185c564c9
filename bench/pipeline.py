#!/usr/bin/env python3
"""Times the docker stages of a generated 3-service project (python api,
python worker, node api; postgres + redis): stage 2 per service and stage 3,
with a cold and a warm build cache, and stage 3 again with the naive settings
the seeds warn against (disk-backed postgres with fsync on, 30 s healthcheck
intervals), all in one run. Prints a table and the naive/tuned ratio; asserts
nothing.

The cold run empties the engine's build cache (`docker builder prune -af`):
pass --no-cold on a machine whose cache you want to keep.

--baseline REF renders the template at git ref REF too (a commit before a
change) and times both projects row by row in the same run, alternating, so
load on the machine hits both alike; the table then shows both figures and
their ratio (HEAD / REF).

--repeat N times each row N times (alternating between the projects) and
shows the median: a shared machine's load swings more than the differences.

Two more rows (HEAD only, warm cache): two integration suites (copies of
tests/integration/test_stack.py in tests/integration/alpha/ and beta/), each
on a stack of its own, run by the test runner in parallel (-j 2) and in
series (-j 1); the parallel / series ratio is printed.

usage: .venv/bin/python bench/pipeline.py [--no-cold] [--baseline REF] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import yaml
from copier import run_copy

TEMPLATE = Path(__file__).resolve().parent.parent
ANSWERS = {"project_name": "Bench Pipeline", "layout": "multi", "services": "api worker:worker web:node",
           "components": ["postgres", "redis"], "ci_provider": "none"}
SERVICES = ("api", "worker", "web")
SUITES = ("alpha", "beta")


def env(instance: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "TEST_", "VIRTUAL_ENV"))}
    return {**clean, "TEST_INSTANCE_ID": instance, "PATH": f"{Path(sys.executable).parent}:{clean['PATH']}"}


# Runs that failed: (command, project): their times are marked "!" in the table.
FAILED: list[str] = []


def timed(cmd: list[str], project: Path, instance: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=project, env=env(instance), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        FAILED.append(f"{' '.join(cmd)} ({project.name})")
        summary = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        print(f"{' '.join(cmd)} failed in {project.name} after {elapsed:.1f} s:\n" + "\n".join(summary)
              + f"\n{result.stderr[-1500:]}", file=sys.stderr)
    return elapsed


def naive(compose_file: Path) -> None:
    """Rewrite a test compose file with the settings the seeds warn against."""
    doc = yaml.safe_load(compose_file.read_text())
    pg = doc["services"]["postgres"]
    pg.pop("tmpfs", None)
    pg.pop("command", None)  # fsync, synchronous_commit, full_page_writes back on
    pg["volumes"] = ["pgdata:/var/lib/postgresql/data"]
    doc.setdefault("volumes", {})["pgdata"] = None
    doc["services"]["redis"].pop("tmpfs", None)
    doc["services"]["redis"].pop("command", None)
    for svc in doc["services"].values():
        svc.setdefault("healthcheck", {}).update({"interval": "30s", "retries": 3})
    compose_file.write_text(yaml.safe_dump(doc, sort_keys=False))


def render(dest: Path, ref: str) -> Path:
    """The bench project rendered from the template at git ref REF, its lock files written."""
    run_copy(str(TEMPLATE), str(dest), data=ANSWERS, defaults=True, unsafe=True, quiet=True, vcs_ref=ref)
    # The images install the lock files; the copy task skips them under SKIP_LOCK=1.
    # uv from the bench's own venv, as make finds it (env()). Older refs have no locks.
    if (dest / "scripts/lock.py").exists():
        subprocess.run([sys.executable, "scripts/lock.py", "--missing"], cwd=dest, check=True,
                       env=env("bench-lock"))
    return dest


def add_suites(project: Path) -> None:
    """Two suites of the sample cross-service tests: tests/integration/{alpha,beta}/."""
    sample = project / "tests/integration/test_stack.py"
    for name in SUITES:
        folder = project / "tests/integration" / name
        folder.mkdir()
        shutil.copy(sample, folder / f"test_stack_{name}.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cold", action="store_true", help="keep the build cache")
    parser.add_argument("--baseline", metavar="REF", help="also time the template at git ref REF")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="median of N runs per row")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    # (label, project, instance prefix): HEAD first, the baseline second.
    projects = [("HEAD", render(tmp / "tuned", "HEAD"), "bench")]
    if args.baseline:
        projects.append((args.baseline, render(tmp / "baseline", args.baseline), "bench-base"))
    tuned = projects[0][1]
    slow = tmp / "naive"
    shutil.copytree(tuned, slow)
    naive(slow / "deploy/test/docker-compose.yml")
    # rows: (what, cache, seconds per project label)
    rows: list[tuple[str, str, dict[str, float]]] = []
    instances: list[tuple[Path, str]] = [(slow, "bench-naive")]
    try:
        runs = (["cold"] if not args.no_cold else []) + ["warm"]
        for cache in runs:
            if cache == "cold":
                subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True, check=True)
            steps = [(f"stage 2: {name}", ["scripts/test-service.sh", name]) for name in SERVICES]
            steps.append(("stage 3: full stack", ["scripts/run-integration-tests.sh"]))
            for what, cmd in steps:
                runs_of: dict[str, list[float]] = {label: [] for label, _, _ in projects}
                # The first run of a cold cache builds; later ones would not be cold.
                for _ in range(args.repeat if cache == "warm" else 1):
                    for label, project, prefix in projects:
                        runs_of[label].append(timed(cmd, project, f"{prefix}-{cache}"))
                rows.append((what, cache, {label: statistics.median(t) for label, t in runs_of.items()}))
            for _, project, prefix in projects:
                instances.append((project, f"{prefix}-{cache}"))
                subprocess.run(["scripts/run-integration-tests.sh", "--clean-all"], cwd=project,
                               env=env(f"{prefix}-{cache}"), capture_output=True)
        naive_time = timed(["scripts/run-integration-tests.sh"], slow, "bench-naive")
        rows.append(("stage 3: naive settings", "warm", {"HEAD": naive_time}))
        # Suites only now: the rows above time tests/integration as it was rendered.
        add_suites(tuned)
        instances.append((tuned, "bench-suites"))
        suites = {jobs: ["uv", "run", "--quiet", "scripts/test-runner.py", "--no-live", "--stage",
                         "integration", "--suite", ",".join(SUITES), "-j", jobs] for jobs in ("1", "2")}
        # Once untimed: each suite's stack builds images of its own (from the warm cache),
        # which the first timed row would pay for alone.
        timed(suites["1"], tuned, "bench-suites")
        times: dict[str, list[float]] = {"1": [], "2": []}
        for run in range(args.repeat):
            # Alternating which goes first, so load on the machine hits both alike.
            for jobs in ("2", "1") if run % 2 == 0 else ("1", "2"):
                times[jobs].append(timed(suites[jobs], tuned, "bench-suites"))
        for what, jobs in (("2 suites: in parallel", "2"), ("2 suites: in series", "1")):
            rows.append((what, "warm", {"HEAD": statistics.median(times[jobs])}))
    finally:
        for project, instance in instances:
            subprocess.run(["scripts/run-integration-tests.sh", "--clean-all"], cwd=project, env=env(instance),
                           capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    labels = [label for label, _, _ in projects]
    header = f"{'what':<26} {'cache':<6}" + "".join(f" {label[:12]:>12}" for label in labels)
    print(header + (f" {'ratio':>7}" if args.baseline else ""))
    for what, cache, seconds in rows:
        line = f"{what:<26} {cache:<6}" + "".join(
            f" {seconds[label]:>12.1f}" if label in seconds else f" {'-':>12}" for label in labels)
        if args.baseline and len(seconds) == 2:
            line += f" {seconds['HEAD'] / seconds[args.baseline]:>6.2f}x"
        print(line)
    if FAILED:
        print("\nfailed runs (their times count anyway):\n  " + "\n  ".join(FAILED))
    tuned_warm = next(s["HEAD"] for w, c, s in rows if w == "stage 3: full stack" and c == "warm")
    print(f"\nstage 3, naive / tuned (warm cache): {naive_time / tuned_warm:.2f}x")
    parallel, series = (next(s["HEAD"] for w, _, s in rows if w == f"2 suites: in {how}")
                        for how in ("parallel", "series"))
    print(f"2 suites, parallel / series: {parallel / series:.2f}x")


if __name__ == "__main__":
    main()
