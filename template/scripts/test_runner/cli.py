"""Options, usage errors and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from .planning import PlanError, plan
from .process import Runner
from .state import STAGES


def split_list(values: Sequence[str] | None) -> list[str]:
    """['unit,service', 'integration'] -> ['unit', 'service', 'integration']"""
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def positive_int(value: str) -> int:
    if int(value) < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return int(value)


def count(value: str) -> int:
    if int(value) < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return int(value)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="test-runner.py",
        description="Run the unit, service and integration test stages with a live view.",
        epilog="Exit codes: 0 passed, 1 failed, 2 usage error, 130 interrupted.",
    )
    add = parser.add_argument
    add("-v", "--verbose", action="store_true", help="stream every output line, prefixed by target")
    add("--stage", action="append", metavar="STAGE",
        help=f"run only this stage ({', '.join(STAGES)}); repeat or separate with commas")
    add("--service", action="append", metavar="NAME",
        help="run only these targets (services, or 'stack' for integration); repeatable")
    add("--suite", action="append", metavar="NAME",
        help="integration suites (folders of tests/integration/) to run, each on a stack "
        "of its own, in parallel; repeat or separate with commas")
    add("--with", action="append", dest="members", metavar="NAME",
        help="optional stack members the integration stage starts (default: every one)")
    add("-j", "--jobs", type=positive_int, default=os.cpu_count() or 1,
        help="targets of a stage run at the same time (default: number of CPUs)")
    add("--stacks", type=count, default=0, metavar="N",
        help="start a stage's test stacks (service and integration targets) while the stage "
        "before it runs, at most N up at once; each tests once its stage's turn comes "
        "(default: 0, each stack starts when its turn comes; 4 suits a machine with cores "
        "to spare)")
    add("--no-live", action="store_true",
        help="plain lines instead of the live display (automatic when stdout is not a terminal)")
    add("--root", default=".", help="project root (default: current directory)")
    add("--grace", type=float, default=30.0, metavar="SECONDS",
        help="after Ctrl-C, time targets get to clean up before they are killed (default: 30)")
    args = parser.parse_args(argv)
    args.stage, args.service = split_list(args.stage), split_list(args.service)
    args.suite, args.members = list(dict.fromkeys(split_list(args.suite))), split_list(args.members)
    for stage in args.stage:
        if stage not in STAGES:
            choices = ", ".join(STAGES)
            parser.error(f"argument --stage: invalid choice {stage!r} (choose from {choices})")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.root).resolve()
    try:
        if not root.is_dir():
            raise PlanError(f"--root {args.root}: no such directory")
        state = plan(root, args.stage, args.service, suites=args.suite, members=args.members)
        if not state.targets:
            raise PlanError("nothing to run")
    except PlanError as exc:
        print(f"test-runner.py: error: {exc}", file=sys.stderr)
        return 2
    live = not args.no_live and sys.stdout.isatty()
    return Runner(state, Console(highlight=False), args.jobs, live, args.verbose, args.grace,
                  args.stacks).run()
