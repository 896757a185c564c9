#!/usr/bin/env python3
"""Median `copier copy` time of a 3- and a 50-service project beside the
floor: a trivial Copier template with the SAME output files (same paths, so
the same folders and path depth; a one-line `.jinja` where the project's file
comes from a `.jinja`, a one-line plain file where it is copied), made in a
temp git repo here and rendered by the same Copier in the same run. What the
floor costs is Copier's own per-file and per-path-part work (rendering each
part of each path, `git config` per file written since Copier 9.15, writing);
what the project costs above it is ours (hooks, `_exclude`, our templates).
Beside it, the floor the issue measured first: as many one-line .jinja files,
20 to a folder (fewer path parts per file than a project has, so less of
Copier's per-part work). Prints a table and the ratios; asserts nothing (this
machine is noisy).
Copier's tasks are skipped: the first-copy lock step asks the package index,
which is network time, not rendering, and the floor has none. Target: at most
1.2x the floor for both sizes.

usage: .venv/bin/python bench/render.py [--repeat N] [--profile N] [--services N ...]
  --profile N   also print a cProfile of one N-service render (top 25 by
                cumulative time), to see what is the template's and what Copier's
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from copier import run_copy

TEMPLATE = Path(__file__).resolve().parent.parent
KINDS = ["", ":worker", ":node", ":node:worker"]
ANSWERS_FILE = ".copier-answers.yml"
ANY_PART, ANY_PATH = "[^/]+", "[^/]+(?:/[^/]+)*"


# hooks/services.py by its plain name, as the migrations import it (hooks/ is not a package).
sys.path.insert(0, str(TEMPLATE / "hooks"))
import services as SERVICES  # noqa: E402, N812


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


def answers(count: int) -> dict[str, object]:
    return {"project_name": "Bench", "services": services(count),
            "components": ["postgres", "redis"], "ci_provider": "both"}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (git)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def copy(template: Path, dst: Path, data: dict[str, object]) -> None:
    """One `copier copy` of template at HEAD."""
    run_copy(str(template), str(dst), data=data,
             defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD", skip_tasks=True)


def timed(template: Path, data: dict[str, object]) -> tuple[float, float]:
    """(wall s, cpu s) of one `copier copy` of template at HEAD."""
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        wall, cpu = time.perf_counter(), _cpu()
        copy(template, Path(tmp) / "p", data)
        return time.perf_counter() - wall, _cpu() - cpu


def _source_patterns() -> list[tuple[re.Pattern[str], bool]]:
    """Each file under template/ as a pattern of the output paths it renders to
    (a templated path part matches any one part), and whether it is a .jinja."""
    root = TEMPLATE / "template"
    patterns = []
    for src in root.rglob("*"):
        if not src.is_file():
            continue
        rel = src.relative_to(root).as_posix()
        templated = rel.endswith(".jinja")
        rel = rel.removesuffix(".jinja")
        # A yield folder may render to a path of several parts (svc.path: services/<name>).
        parts = [ANY_PATH if "{% yield" in part else ANY_PART if "{" in part else re.escape(part)
                 for part in rel.split("/")]
        patterns.append((re.compile("/".join(parts)), templated))
    # The most literal pattern first: `services/x/Makefile` before `x/Makefile`.
    patterns.sort(key=lambda item: -len(item[0].pattern.replace(ANY_PATH, "").replace(ANY_PART, "")))
    return patterns


def rendered_files(count: int) -> list[tuple[str, bool]]:
    """The files of a count-service project (output path, rendered from a .jinja)."""
    patterns = _source_patterns()
    with tempfile.TemporaryDirectory(prefix="bench-count-") as tmp:
        project = Path(tmp) / "p"
        copy(TEMPLATE, project, answers(count))
        files = []
        for path in sorted(project.rglob("*")):
            rel = path.relative_to(project).as_posix()
            if path.is_file() and rel != ANSWERS_FILE:
                templated = next(jinja for pattern, jinja in patterns if pattern.fullmatch(rel))
                files.append((rel, templated))
        return files


def trivial_template(root: Path, files: list[tuple[str, bool]]) -> Path:
    """A committed one-question Copier template with these output files (one
    line each: `{{ project_name }}` in a .jinja, plain text otherwise) and the
    answers file every Copier project has (and `copier update` needs)."""
    root.mkdir()
    (root / "copier.yml").write_text("project_name:\n  type: str\n  default: Bench\n")
    for rel, templated in files:
        path = root / (f"{rel}.jinja" if templated else rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{{ project_name }}\n" if templated else "Bench\n")
    (root / "{{ _copier_conf.answers_file }}.jinja").write_text("{{ _copier_answers | to_nice_yaml }}")
    # -f: the mirrored .gitignore files must not hide mirrored files from git.
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A", "-f"], ["commit", "-qm", "trivial"]):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *cmd],
                       cwd=root, check=True, capture_output=True)
    return root


def flat_files(count: int) -> list[tuple[str, bool]]:
    """count one-line .jinja files, 20 to a folder: the issue's first floor."""
    return [(f"f/{i // 20}/{i}.txt", True) for i in range(count)]


def profile(count: int) -> None:
    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        profiler.enable()
        copy(TEMPLATE, Path(tmp) / "p", answers(count))
        profiler.disable()
    print(f"\ncProfile of one {count}-service render (cumulative, top 25):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def report(clock: str, samples: dict[tuple[str, int], list[float]], counts: tuple[int, ...],
           sizes: dict[int, int]) -> None:
    """The table for one clock (wall: elapsed; cpu: this process and its git
    children, steadier on a shared machine)."""
    print(f"\n{clock} clock (median s; ratio: ours / floor)")
    print(f"{'services':>8}  {'files':>5}  {'ours':>6}  {'floor':>6}  {'ratio':>6}  "
          f"{'flat floor':>10}  {'ratio':>6}  {'ours min-max':>12}  {'floor min-max':>13}")
    for count in counts:
        ours, floor, flat = (samples[(kind, count)] for kind in ("ours", "floor", "flat"))
        median = statistics.median(ours)
        print(f"{count:>8}  {sizes[count]:>5}  {median:>6.3f}  {statistics.median(floor):>6.3f}  "
              f"{median / statistics.median(floor):>5.2f}x  {statistics.median(flat):>10.3f}  "
              f"{median / statistics.median(flat):>5.2f}x  "
              f"{min(ours):>5.2f}-{max(ours):<6.2f}  {min(floor):>6.2f}-{max(floor):<6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--services", type=int, nargs="+", default=[3, 50], metavar="N")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    counts = tuple(args.services)
    with tempfile.TemporaryDirectory(prefix="bench-trivial-") as tmp:
        floors: dict[tuple[str, int], Path] = {}
        sizes: dict[int, int] = {}
        for count in counts:  # also the warm-up: imports, git
            files = rendered_files(count)
            # The answers file: the trivial template has its own.
            sizes[count] = len(files) + 1
            floors[("floor", count)] = trivial_template(Path(tmp) / f"floor-{count}", files)
            floors[("flat", count)] = trivial_template(Path(tmp) / f"flat-{count}", flat_files(len(files)))
        for template in floors.values():
            timed(template, {"project_name": "Bench"})
        # Interleaved, so that a busy moment of the machine hits every row alike.
        samples: dict[tuple[str, int], list[tuple[float, float]]] = {
            (kind, count): [] for kind in ("ours", "floor", "flat") for count in counts}
        for _ in range(args.repeat):
            for count in counts:
                for kind in ("floor", "flat"):
                    samples[(kind, count)].append(timed(floors[(kind, count)], {"project_name": "Bench"}))
                samples[("ours", count)].append(timed(TEMPLATE, answers(count)))
    print(f"copier copy, {args.repeat} runs per cell (medians), services of every language and "
          "kind, multi layout, both forges, postgres and redis; floor: a trivial template with "
          "the same output paths; flat floor: as many files, 20 to a folder; target ratio <= 1.2x")
    for index, clock in enumerate(("wall", "cpu")):
        report(clock, {key: [sample[index] for sample in values] for key, values in samples.items()},
               counts, sizes)
    if args.profile:
        profile(args.profile)


if __name__ == "__main__":
    main()
