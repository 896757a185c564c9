"""How long `copier update` takes for a project with 3 and with 20 services.

Builds the synthetic template history of the update tests
(tests/update/template_history.py) in a temp dir, renders a multi-layout
project at an old tag, commits it, and times the `copier update` CLI to the
newest tag, resetting the project between runs. From v0.2.0 the update is
a plain one; from v0.1.0 it also runs the rename migration (which renders
the old version once more).

Then a no-op update (from the newest tag to itself) of a 3-service project
beside the `copier copy` of the same project, both with the CLI, and the
same pair for a trivial one-file template as the floor (Copier's own cost
of an update over a copy), and `make update` (the project's
scripts/update.py, what a team runs) of the same project: it asks Copier
whether a newer release exists first. The target: a no-op update of 3
services <= 1.5x its copy. The copies skip the tasks (no locks) and the
updates run with SKIP_LOCK=1, so neither locks. Prints tables; asserts
nothing.

usage: .venv/bin/python bench/update.py [--runs N] [--services 3,20] [--from v0.2.0,v0.1.0]
                                       [--noop-services N]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
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
    """count services: every third a node service, every fourth a worker; names
    whose default dev ports would collide (hooks/services.py default_port) are
    skipped, as the services question refuses them."""
    sys.path.insert(0, str(ROOT / "hooks"))
    from services import services_error

    words: list[str] = []
    i = 0
    while len(words) < count:
        i += 1
        options = (":node" if i % 3 == 0 else "") + (":worker" if i % 4 == 0 else "")
        word = f"svc{i:02d}{options}"
        if not services_error(" ".join([*words, word])):
            words.append(word)
    return " ".join(words)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *IDENTITY, *args], cwd=cwd, check=True, capture_output=True)


def project(template: Path, tag: str, count: int, dst: Path) -> Path:
    from copier import run_copy

    run_copy(
        str(template), str(dst), vcs_ref=tag, defaults=True, unsafe=True, quiet=True, skip_tasks=True,
        data={"project_name": "Bench", "layout": "multi", "services": services(count),
              "components": ["postgres", "redis"], "ci_provider": "both"},
    )
    git(dst, "init", "--quiet", "--initial-branch=main")
    git(dst, "add", "--all")
    git(dst, "commit", "--quiet", "-m", f"generated from {tag}")
    return dst


# The copies skip the tasks: the updates do not lock either (scripts/lock.py).
UPDATE_ENV = {**os.environ, "SKIP_LOCK": "1"}


def time_updates(copier: list[str], path: Path, to: str, runs: int, command: list[str] | None = None) -> list[float]:
    """`copier update` to `to` (or command, run in the project) runs times, resetting the project between runs."""
    times = []
    for _ in range(runs):
        git(path, "reset", "--quiet", "--hard")
        git(path, "clean", "--quiet", "-fdx")
        start = time.perf_counter()
        result = subprocess.run(
            command or [*copier, "update", "--trust", "--defaults", "--quiet", "--conflict=inline", f"--vcs-ref={to}"],
            cwd=path, capture_output=True, text=True, env={**UPDATE_ENV, "COPIER": shlex.join(copier)},
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"copier update failed in {path}:\n{result.stderr}")
    return times


def time_copies(copier: list[str], template: Path, tag: str, data: dict[str, object],
                dst: Path, runs: int) -> list[float]:
    """The `copier copy` CLI of template at tag into a fresh dst, runs times."""
    data_file = dst.parent / f"{dst.name}-data.json"
    data_file.write_text(json.dumps(data))
    times = []
    for i in range(runs):
        target = dst.parent / f"{dst.name}-{i}"
        start = time.perf_counter()
        result = subprocess.run(
            [*copier, "copy", "--trust", "--defaults", "--quiet", "--skip-tasks", f"--vcs-ref={tag}",
             f"--data-file={data_file}", str(template), str(target)],
            capture_output=True, text=True,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"copier copy failed in {target}:\n{result.stderr}")
        shutil.rmtree(target)
    return times


def trivial_template(root: Path) -> Path:
    """A committed one-question, one-file Copier template (plus its answers file): the floor."""
    root.mkdir()
    (root / "copier.yml").write_text("project_name:\n  type: str\n  default: Bench\n")
    (root / "README.md.jinja").write_text("# {{ project_name }}\n")
    # The answers file every Copier project has (and `copier update` needs).
    (root / "{{ _copier_conf.answers_file }}.jinja").write_text("{{ _copier_answers | to_nice_yaml }}")
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "trivial")
    git(root, "tag", "v1.0.0")
    return root


def noop_rows(copier: list[str], tmp: Path, history_path: Path, head: str, count: int,
              runs: int) -> list[tuple[str, float, float]]:
    """(what, median copy s, median no-op update s) for the template and the floor."""
    data = {"project_name": "Bench", "layout": "multi", "services": services(count),
            "components": ["postgres", "redis"], "ci_provider": "both"}
    copies = time_copies(copier, history_path, head, data, tmp / f"copy{count}", runs)
    path = project(history_path, head, count, tmp / f"noop{count}")
    updates = time_updates(copier, path, head, runs)
    make_updates = time_updates(copier, path, head, runs, [sys.executable, "scripts/update.py", "update"])
    trivial = trivial_template(tmp / "trivial")
    floor_copies = time_copies(copier, trivial, "v1.0.0", {"project_name": "Bench"},
                               tmp / "floor-copy", runs)
    floor_project = tmp / "floor-project"
    subprocess.run([*copier, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref=v1.0.0",
                    str(trivial), str(floor_project)], check=True, capture_output=True)
    git(floor_project, "init", "--quiet", "--initial-branch=main")
    git(floor_project, "add", "--all")
    git(floor_project, "commit", "--quiet", "-m", "generated")
    floor_updates = time_updates(copier, floor_project, "v1.0.0", runs)
    return [(f"{count} services", statistics.median(copies), statistics.median(updates)),
            ("make update", statistics.median(copies), statistics.median(make_updates)),
            ("floor", statistics.median(floor_copies), statistics.median(floor_updates))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="updates per row (default 5)")
    parser.add_argument("--services", default="3,20", help="service counts (default 3,20)")
    parser.add_argument("--from", dest="tags", default="v0.2.0,v0.1.0", help="old tags to update from")
    parser.add_argument("--noop-services", type=int, default=3,
                        help="services of the no-op update and its copy (default 3; 0: skip)")
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
        noop = (noop_rows(copier, Path(tmp), history.path, history.head, args.noop_services, args.runs)
                if args.noop_services else [])
    print(f"copier update (CLI), multi layout, {args.runs} runs per row")
    print(f"{'services':>8}  {'from':<7} {'to':<7} {'runs':>4}  {'median s':>8}  {'min s':>6}  {'max s':>6}")
    for count, tag, head, runs, median, low, high in rows:
        print(f"{count:>8}  {tag:<7} {head:<7} {runs:>4}  {median:>8.2f}  {low:>6.2f}  {high:>6.2f}")
    if noop:
        print(f"\nno-op update (newest tag to itself) vs copy, CLI, medians of {args.runs}")
        print("(make update: the same project's `make update`, beside the same copy)")
        print(f"{'project':<12}  {'copy s':>7}  {'update s':>8}  {'update / copy':>13}")
        for what, copy, update in noop:
            print(f"{what:<12}  {copy:>7.2f}  {update:>8.2f}  {update / copy:>12.2f}x")
        print("target: no-op update of 3 services <= 1.5x its copy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
