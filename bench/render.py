#!/usr/bin/env python3
"""Median `copier copy` time for 1, 3, 20 and 50 services, and the cost per
extra service, beside the floor: a trivial one-file Copier template (made
in a temp git repo here) rendered by the same Copier in the same run.
Prints a table and the ratios to the floor; asserts nothing (this machine
is noisy). Copier's tasks are skipped: the first-copy lock step asks the
package index, which is network time, not rendering, and the floor has none. The targets of issue 9: 3 services <= 1.6x the floor, 50
services <= 6x, each extra service <= 0.1x.

usage: .venv/bin/python bench/render.py [--repeat N] [--profile N]
  --profile N   also print a cProfile of one N-service render (top 25 by
                cumulative time), to see what is the template's and what Copier's
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import ModuleType

from copier import run_copy

TEMPLATE = Path(__file__).resolve().parent.parent
KINDS = ["", ":worker", ":node", ":node:worker"]


def _services_module() -> ModuleType:
    path = TEMPLATE / "hooks" / "services.py"
    spec = importlib.util.spec_from_file_location("bench_hooks_services", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SERVICES = _services_module()


def services(count: int) -> str:
    """count services of every language and kind; names whose default dev
    ports would collide (hooks/services.py default_port) are skipped."""
    words: list[str] = []
    i = 0
    while len(words) < count:
        word = f"svc{i}{KINDS[len(words) % len(KINDS)]}"
        i += 1
        if not SERVICES.services_error(" ".join([*words, word])):
            words.append(word)
    return " ".join(words)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (git)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(template: Path, data: dict[str, object]) -> tuple[float, float]:
    """(wall s, cpu s) of one `copier copy` of template at HEAD."""
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        wall, cpu = time.perf_counter(), _cpu()
        run_copy(str(template), str(Path(tmp) / "p"), data=data,
                 defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD", skip_tasks=True)
        return time.perf_counter() - wall, _cpu() - cpu


def render_seconds(count: int) -> tuple[float, float]:
    return timed(TEMPLATE, {"project_name": "Bench", "services": services(count),
                            "components": ["postgres", "redis"], "ci_provider": "both"})


def file_count(count: int) -> int:
    """How many files a count-service project has."""
    with tempfile.TemporaryDirectory(prefix="bench-count-") as tmp:
        run_copy(str(TEMPLATE), str(Path(tmp) / "p"), data={
            "project_name": "Bench", "services": services(count),
            "components": ["postgres", "redis"], "ci_provider": "both",
        }, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD", skip_tasks=True)
        return sum(1 for path in (Path(tmp) / "p").rglob("*") if path.is_file())


def trivial_template(root: Path, files: int = 0) -> Path:
    """A committed one-question, one-file Copier template (plus its answers file): what any render costs.
    With files, as many more one-line files, 20 to a folder: what Copier costs per file."""
    root.mkdir()
    (root / "copier.yml").write_text('project_name:\n  type: str\n  default: Bench\n')
    (root / "README.md.jinja").write_text("# {{ project_name }}\n")
    for i in range(files):
        folder = root / "f" / str(i // 20)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.txt.jinja").write_text("{{ project_name }}\n")
    # The answers file every Copier project has (and `copier update` needs).
    (root / "{{ _copier_conf.answers_file }}.jinja").write_text("{{ _copier_answers | to_nice_yaml }}")
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "trivial"]):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *cmd],
                       cwd=root, check=True, capture_output=True)
    return root


def floor_seconds(template: Path) -> tuple[float, float]:
    return timed(template, {"project_name": "Bench"})


def profile(count: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    render_seconds(count)
    profiler.disable()
    print(f"\ncProfile of one {count}-service render (cumulative, top 25):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def report(clock: str, samples: dict[object, list[float]], counts: tuple[int, ...]) -> None:
    """The table and issue 9's ratios for one clock (wall: elapsed; cpu: this
    process and its git children, steadier on a shared machine)."""
    floor = statistics.median(samples["floor"])
    median = {count: statistics.median(samples[count]) for count in counts}
    print(f"\n{clock} clock")
    print(f"{'services':>8}  {'median s':>9}  {'min s':>7}  {'max s':>7}  {'x floor':>7}  "
          f"{'per extra service ms':>21}")
    print(f"{'floor':>8}  {floor:>9.3f}  {min(samples['floor']):>7.3f}  {max(samples['floor']):>7.3f}  "
          f"{1:>7.2f}")
    for count in counts:
        times = samples[count]
        extra = "" if count == 1 else f"{(median[count] - median[1]) / (count - 1) * 1000:.1f}"
        print(f"{count:>8}  {median[count]:>9.3f}  {min(times):>7.3f}  {max(times):>7.3f}  "
              f"{median[count] / floor:>7.2f}  {extra:>21}")
    per_extra = (median[50] - median[3]) / 47 / floor
    print(f"ratios to the floor ({clock}; a trivial one-file template, same Copier, same run):")
    print(f"  3 services / floor            {median[3] / floor:6.2f}x   (target <= 1.6x)")
    print(f"  50 services / floor           {median[50] / floor:6.2f}x   (target <= 6x)")
    print(f"  each extra service / floor    {per_extra:6.3f}x   (target <= 0.1x; from 3 to 50)")
    same = statistics.median(samples["same-size floor"])
    print(f"Copier's own cost per file: a trivial template with as many files as the 50-service\n"
          f"project takes {same:.3f} s; 50 services / that     {median[50] / same:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="bench-trivial-") as tmp:
        trivial = trivial_template(Path(tmp) / "trivial")
        # Minus the one file and the answers file the trivial template has anyway.
        same_size = trivial_template(Path(tmp) / "same-size", files=file_count(50) - 2)
        render_seconds(1)  # warm-up: imports, git
        floor_seconds(trivial)
        # Interleaved, so that a busy moment of the machine hits every row alike.
        counts = (1, 3, 20, 50)
        samples: dict[object, list[tuple[float, float]]] = {
            "floor": [], "same-size floor": [], **{c: [] for c in counts}}
        for _ in range(args.repeat):
            samples["floor"].append(floor_seconds(trivial))
            samples["same-size floor"].append(floor_seconds(same_size))
            for count in counts:
                samples[count].append(render_seconds(count))
    print(f"copier copy, {args.repeat} runs per row, services of every language and kind, "
          "multi layout, both forges, postgres and redis")
    for index, clock in enumerate(("wall", "cpu")):
        report(clock, {key: [sample[index] for sample in values] for key, values in samples.items()},
               counts)
    if args.profile:
        profile(args.profile)


if __name__ == "__main__":
    main()
