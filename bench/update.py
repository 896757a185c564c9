"""How long `copier update` takes for a project with 3 and with 20 services.

Builds the synthetic template history of the update tests
(tests/update/template_history.py) in a temp dir, renders a multi-layout
project at an old tag, commits it, and times the `copier update` CLI to the
newest tag, resetting the project between runs. From v0.2.0 the update is
a plain one; from v0.1.0 it also runs the rename migration (which renders
the old version once more). Prints a table; asserts nothing.

usage: .venv/bin/python bench/update.py [--runs N] [--services 3,20] [--from v0.2.0,v0.1.0]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "update"))

import template_history as th  # noqa: E402

IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com"]


def services(count: int) -> str:
    """count services: every third a node service, every fourth a worker."""
    words = []
    for i in range(1, count + 1):
        options = (":node" if i % 3 == 0 else "") + (":worker" if i % 4 == 0 else "")
        words.append(f"svc{i:02d}{options}")
    return " ".join(words)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *IDENTITY, *args], cwd=cwd, check=True, capture_output=True)


def project(template: Path, tag: str, count: int, dst: Path) -> Path:
    from copier import run_copy

    run_copy(
        str(template), str(dst), vcs_ref=tag, defaults=True, unsafe=True, quiet=True,
        data={"project_name": "Bench", "layout": "multi", "services": services(count),
              "components": ["postgres", "redis"], "ci_provider": "both"},
    )
    git(dst, "init", "--quiet", "--initial-branch=main")
    git(dst, "add", "--all")
    git(dst, "commit", "--quiet", "-m", f"generated from {tag}")
    return dst


def time_updates(copier: list[str], path: Path, to: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        git(path, "reset", "--quiet", "--hard")
        git(path, "clean", "--quiet", "-fdx")
        start = time.perf_counter()
        result = subprocess.run(
            [*copier, "update", "--trust", "--defaults", "--quiet", "--conflict=inline", f"--vcs-ref={to}"],
            cwd=path, capture_output=True, text=True,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"copier update failed in {path}:\n{result.stderr}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="updates per row (default 5)")
    parser.add_argument("--services", default="3,20", help="service counts (default 3,20)")
    parser.add_argument("--from", dest="tags", default="v0.2.0,v0.1.0", help="old tags to update from")
    args = parser.parse_args()
    copier = shlex.split(os.environ.get("COPIER", str(Path(sys.executable).parent / "copier")))
    counts = [int(c) for c in args.services.split(",")]
    tags = args.tags.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        history = th.build(ROOT, Path(tmp) / "template")
        rows = []
        for count in counts:
            for tag in tags:
                path = project(history.path, tag, count, Path(tmp) / f"p{count}-{tag}")
                times = time_updates(copier, path, history.head, args.runs)
                rows.append((count, tag, history.head, len(times), statistics.median(times), min(times), max(times)))
    print(f"copier update (CLI), multi layout, {args.runs} runs per row")
    print(f"{'services':>8}  {'from':<7} {'to':<7} {'runs':>4}  {'median s':>8}  {'min s':>6}  {'max s':>6}")
    for count, tag, head, runs, median, low, high in rows:
        print(f"{count:>8}  {tag:<7} {head:<7} {runs:>4}  {median:>8.2f}  {low:>6.2f}  {high:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
