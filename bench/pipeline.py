#!/usr/bin/env python3
"""Times the docker stages of a generated 3-service project (python api,
python worker, node api; postgres + redis): stage 2 per service and stage 3,
with a cold and a warm build cache, and stage 3 again with the naive settings
the seeds warn against (disk-backed postgres with fsync on, 30 s healthcheck
intervals), all in one run. Prints a table and the naive/tuned ratio; asserts
nothing.

The cold run empties the engine's build cache (`docker builder prune -af`):
pass --no-cold on a machine whose cache you want to keep.

usage: .venv/bin/python bench/pipeline.py [--no-cold]
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def env(instance: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "TEST_", "VIRTUAL_ENV"))}
    return {**clean, "TEST_INSTANCE_ID": instance, "PATH": f"{Path(sys.executable).parent}:{clean['PATH']}"}


def timed(cmd: list[str], project: Path, instance: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=project, env=env(instance), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cold", action="store_true", help="keep the build cache")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    tuned = tmp / "tuned"
    run_copy(str(TEMPLATE), str(tuned), data=ANSWERS, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    # The images install the lock files; the copy task skips them under SKIP_LOCK=1.
    # uv from the bench's own venv, as make finds it (env()).
    subprocess.run([sys.executable, "scripts/lock.py", "--missing"], cwd=tuned, check=True, env=env("bench-lock"))
    slow = tmp / "naive"
    shutil.copytree(tuned, slow)
    naive(slow / "deploy/test/docker-compose.yml")
    rows: list[tuple[str, str, float]] = []
    try:
        runs = (["cold"] if not args.no_cold else []) + ["warm"]
        for cache in runs:
            if cache == "cold":
                subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True, check=True)
            instance = f"bench-{cache}"
            for name in SERVICES:
                rows.append((f"stage 2: {name}", cache, timed(["scripts/test-service.sh", name], tuned, instance)))
            rows.append(("stage 3: full stack", cache, timed(["scripts/run-integration-tests.sh"], tuned, instance)))
            subprocess.run(["scripts/run-integration-tests.sh", "--clean-all"], cwd=tuned, env=env(instance),
                           capture_output=True)
        naive_time = timed(["scripts/run-integration-tests.sh"], slow, "bench-naive")
        rows.append(("stage 3: naive settings", "warm", naive_time))
    finally:
        for project, instance in ((tuned, "bench-warm"), (slow, "bench-naive")):
            subprocess.run(["scripts/run-integration-tests.sh", "--clean-all"], cwd=project, env=env(instance),
                           capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'what':<26} {'cache':<6} {'seconds':>8}")
    for what, cache, seconds in rows:
        print(f"{what:<26} {cache:<6} {seconds:>8.1f}")
    tuned_warm = next(s for w, c, s in rows if w == "stage 3: full stack" and c == "warm")
    print(f"\nstage 3, naive / tuned (warm cache): {naive_time / tuned_warm:.2f}x")


if __name__ == "__main__":
    main()
