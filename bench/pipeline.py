#!/usr/bin/env python3
"""`make test` of the default project (services api, worker:worker, web:node;
postgres + redis), cold and warm, with the time split by phase.

Renders the template at git ref --ref (default HEAD), and at --baseline REF
too when given (the ref a change branched from: `git merge-base HEAD main`),
then runs each project's `make test` twice: cold (the project's images
removed first with its own `make test-clean-all`; base images stay, and the
engine's build cache stays unless --prune-cache, which empties it for every
project on the engine) and warm (right after, its images built). Projects
run alternately, cold A, cold B, warm A, warm B, so the machine's load hits
both alike; --repeat N runs the warm row N times and keeps the median.

Each project is locked once: rendered with SKIP_LOCK=1, then scripts/lock.py;
the baseline reuses HEAD's lock files when its manifests are the same.

The phases come from what can be seen without touching the project: the
runner's "[stage] ● name started" / "✓ name passed" lines, timestamped as
they arrive, and `docker events` of the run's compose projects:
  build     target started -> first container created (compose's build check)
  create    -> first container started (containers and network created)
  infra     -> postgres and redis healthy
  migrate   -> the last migrate step exited (migrations + seed data)
  apps      -> the last service healthy (their start, the healthcheck waits)
  wait      -> the runner's go (a stack started ahead of its stage waits for its turn)
  tests     -> first container stopped (URLs found, tests, logs collected)
  teardown  -> network removed
  exit      -> target reported done
A stack the runner started ahead of its stage (while the stage before ran) has
its "started" line only at its go: its build shows as 0, its total counts from
its first container.
Prints a table per run and the warm ratio; asserts nothing.

usage: .venv/bin/python bench/pipeline.py [--ref REF] [--baseline REF] [--no-cold] [--prune-cache]
                                         [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

# Before copier: its tasks see the environment of its import (plumbum's local.env).
# The render skips the lock task; render() locks once.
os.environ["SKIP_LOCK"] = "1"
from copier import run_copy  # noqa: E402

TEMPLATE = Path(__file__).resolve().parent.parent
ANSWERS = {"project_name": "Bench Pipeline", "layout": "multi", "services": "api worker:worker web:node",
           "components": ["postgres", "redis"], "ci_provider": "none"}
SLUG = "bench-pipeline"
LOCKS = ("uv.lock", "package-lock.json")
MANIFESTS = ("pyproject.toml", "package.json")
RUNNER_LINE = re.compile(r"^\[(\w+)\] \S+ (\S+) (started|passed|failed)\b")
PHASES = ("build", "create", "infra", "migrate", "apps", "wait", "tests", "teardown", "exit")


def env(instance: str) -> dict[str, str]:
    """A user's shell in the project: no venv, compose or outer make leftovers."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "TEST_", "VIRTUAL_ENV"))
             and k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    return {**clean, "TEST_INSTANCE_ID": instance, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
            "PATH": f"{Path(sys.executable).parent}:{clean['PATH']}"}


def render(dest: Path, ref: str, locked_from: Path | None, answers: dict[str, object] = ANSWERS) -> Path:
    """The bench project at git ref REF, locked once, a git repository (the instance id reads it)."""
    run_copy(str(TEMPLATE), str(dest), data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref=ref)
    same = locked_from is not None and all(
        (dest / m.relative_to(locked_from)).is_file()
        and (dest / m.relative_to(locked_from)).read_bytes() == m.read_bytes()
        for name in MANIFESTS for m in locked_from.rglob(name) if "node_modules" not in m.parts)
    if same:
        for name in LOCKS:
            for lock in locked_from.rglob(name):
                if "node_modules" not in lock.parts:
                    shutil.copy(lock, dest / lock.relative_to(locked_from))
    else:
        subprocess.run([sys.executable, "scripts/lock.py"], cwd=dest, env=env("bench-lock"), check=True,
                       capture_output=True)
    subprocess.run("git init -q -b main && git add -A && git -c user.name=b -c user.email=b@example.com "
                   "commit -qm bench", shell=True, cwd=dest, check=True)
    return dest


class Events:
    """`docker events` of the whole bench, read in a thread: (seconds, project, service, action)."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, str, str, str]] = []
        self.proc = subprocess.Popen(["docker", "events", "--format", "{{json .}}"], stdout=subprocess.PIPE,
                                     text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            event = json.loads(line)
            attrs = event.get("Actor", {}).get("Attributes", {})
            action = event.get("Action", "")
            if event.get("Type") == "container" and not action.startswith("exec_"):
                self.rows.append((event["timeNano"] / 1e9, attrs.get("com.docker.compose.project", ""),
                                  attrs.get("com.docker.compose.service", ""), action))
            elif event.get("Type") == "network" and action == "destroy":
                self.rows.append((event["timeNano"] / 1e9, attrs.get("name", "").removesuffix("_default"),
                                  "", "network destroy"))

    def wait_for(self, project: str, since: int, timeout: float = 10) -> None:
        """Until project's network removal (its last event) has come through the pipe."""
        deadline = time.monotonic() + timeout
        while not any(p == project and a == "network destroy" for _, p, _, a in self.rows[since:]):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def make_test(project: Path, instance: str) -> tuple[float, dict[tuple[str, str], list[float]], bool]:
    """`make test`: its wall time, the runner's (stage, target) -> [started, done] times, success."""
    marks: dict[tuple[str, str], list[float]] = {}
    start = time.time()
    proc = subprocess.Popen(["make", "test"], cwd=project, env=env(instance), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    for line in proc.stdout:
        tail = [*tail[-40:], line]
        if match := RUNNER_LINE.match(line):
            marks.setdefault((match[1], match[2]), []).append(time.time())
    ok = proc.wait() == 0
    if not ok:
        print(f"make test failed in {project.name}:\n{''.join(tail)}", file=sys.stderr)
    return time.time() - start, marks, ok


def phases(events: list[tuple[float, str, str, str]], begin: float, end: float) -> dict[str, float]:
    """One target's phase split from its compose project's events, between its runner marks:
    contiguous, so the phases add up to the target's time."""
    def when(pred, pick=min) -> float | None:  # noqa: ANN001
        times = [t for t, _, s, a in events if pred(s, a)]
        return pick(times) if times else None

    infra = {"postgres", "redis"}
    created = when(lambda s, a: a == "create")
    started = when(lambda s, a: a == "start")
    infra_up = when(lambda s, a: s in infra and a == "health_status: healthy", max) or started
    migrated = when(lambda s, a: s.endswith("-migrate") and a == "die", max) or infra_up
    healthy = when(lambda s, a: a == "health_status: healthy", max)
    stopping = when(lambda s, a: a == "kill")
    gone = when(lambda s, a: a == "network destroy", max)
    if None in (created, started, healthy, stopping, gone):
        return {}
    go = max(begin, healthy)  # a stack started ahead is tested from the runner's go on
    marks = {"build": min(begin, created), "create": created, "infra": started, "migrate": infra_up,
             "apps": migrated, "wait": healthy, "tests": go, "teardown": stopping, "exit": gone}
    ends = [*list(marks.values())[1:], end]
    return {phase: finish - start for (phase, start), finish in zip(marks.items(), ends, strict=True)}


def report(label: str, cache: str, wall: float, marks: dict, events: list, instance: str) -> None:
    prefix = f"{SLUG}-test-{instance}"
    print(f"\n{label[:12]} {cache}: make test {wall:.1f} s")
    stages: dict[str, list[float]] = {}
    for (stage, _), times in marks.items():
        lo, hi = stages.get(stage, [times[0], times[-1]])
        stages[stage] = [min(lo, times[0]), max(hi, times[-1])]
    print("  " + "  ".join(f"{stage} {hi - lo:.1f} s" for stage, (lo, hi) in stages.items()))
    print(f"  {'target':<18} {'total':>6}" + "".join(f" {p:>8}" for p in PHASES))
    for (stage, target), times in marks.items():
        if stage == "unit" or len(times) < 2:
            continue
        project = prefix if stage == "integration" else f"{prefix}-svc-{target}"
        mine = [e for e in events if e[1] == project and e[0] <= times[-1] + 1]
        split = phases(mine, times[0], times[-1])
        cells = "".join(f" {split[p]:>8.1f}" for p in PHASES) if split else "  (no events)"
        first = min([times[0], *(e[0] for e in mine)])
        print(f"  {stage + ' ' + target:<18} {times[-1] - first:>6.1f}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the template's git ref to measure (default HEAD)")
    parser.add_argument("--baseline", metavar="REF", help="also measure the template at git ref REF")
    parser.add_argument("--no-cold", action="store_true", help="only the warm runs")
    parser.add_argument("--prune-cache", action="store_true",
                        help="empty the engine's build cache before the cold runs (every project's)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="median of N warm runs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    head = render(tmp / "ref", args.ref, None)
    projects = [(args.ref, head, "bench-ref")]
    if args.baseline:
        projects.append((args.baseline, render(tmp / "baseline", args.baseline, head), "bench-base"))
    events = Events()
    walls: dict[tuple[str, str], list[float]] = {}
    try:
        caches = (["cold"] if not args.no_cold else []) + ["warm"] * args.repeat
        for i, cache in enumerate(caches):
            if cache == "cold" and args.prune_cache:
                subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True, check=True)
            # Alternating which goes first between warm repeats.
            for label, project, instance in projects if i % 2 == 0 else projects[::-1]:
                if cache == "cold":
                    subprocess.run(["make", "test-clean-all"], cwd=project, env=env(instance), capture_output=True)
                seen = len(events.rows)
                wall, marks, ok = make_test(project, instance)
                events.wait_for(f"{SLUG}-test-{instance}", seen)
                walls.setdefault((label, cache), []).append(wall if ok else float("nan"))
                report(label, cache + ("" if ok else " (FAILED)"), wall, marks, events.rows[seen:], instance)
    finally:
        events.stop()
        for _, project, instance in projects:
            subprocess.run(["make", "test-clean-all"], cwd=project, env=env(instance), capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'make test':<10}" + "".join(f" {label[:14]:>14}" for label, _, _ in projects))
    for cache in dict.fromkeys(caches):
        row = [statistics.median(walls[(label, cache)]) for label, _, _ in projects]
        ratio = f" {row[0] / row[1]:>6.2f}x" if len(row) == 2 else ""
        print(f"{cache:<10}" + "".join(f" {t:>14.1f}" for t in row) + ratio)


if __name__ == "__main__":
    main()
