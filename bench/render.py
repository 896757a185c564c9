#!/usr/bin/env python3
"""Median `copier copy` time for 1, 3, 20 and 50 services, and the cost per
extra service. Prints a table; asserts nothing (this machine is noisy).

usage: .venv/bin/python bench/render.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from copier import run_copy

TEMPLATE = Path(__file__).resolve().parent.parent
KINDS = ["", ":worker", ":node", ":node:worker"]


def services(count: int) -> str:
    return " ".join(f"svc{i}{KINDS[i % len(KINDS)]}" for i in range(count))


def render_seconds(count: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        start = time.perf_counter()
        run_copy(str(TEMPLATE), str(Path(tmp) / "p"), data={
            "project_name": "Bench", "services": services(count),
            "components": ["postgres", "redis"], "ci_provider": "both",
        }, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    render_seconds(1)  # warm-up: imports, git clone cache
    rows = []
    for count in (1, 3, 20, 50):
        times = [render_seconds(count) for _ in range(args.repeat)]
        rows.append((count, statistics.median(times), min(times), max(times)))
    base = rows[0][1]
    print(f"{'services':>8}  {'median s':>9}  {'min s':>7}  {'max s':>7}  {'per extra service ms':>21}")
    for count, median, low, high in rows:
        extra = "" if count == 1 else f"{(median - base) / (count - 1) * 1000:.1f}"
        print(f"{count:>8}  {median:>9.3f}  {low:>7.3f}  {high:>7.3f}  {extra:>21}")


if __name__ == "__main__":
    main()
