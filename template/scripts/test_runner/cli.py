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

EXIT_USAGE = 2


def split_list(values: Sequence[str] | None) -> list[str]:
    """['unit,service', 'integration'] -> ['unit', 'service', 'integration']"""
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="test-runner.py",
        description="Run the unit, service and integration test stages with a live view.",
        epilog="Exit codes: 0 passed, 1 failed, 2 usage error, 130 interrupted.",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="stream every output line, prefixed by target"
    )
    parser.add_argument(
        "--stage",
        action="append",
        metavar="STAGE",
        help=f"run only this stage ({', '.join(STAGES)}); repeat or separate with commas",
    )
    parser.add_argument(
        "--service",
        action="append",
        metavar="NAME",
        help="run only these targets (services, or 'stack' for integration); repeatable",
    )
    parser.add_argument(
        "--suite",
        action="append",
        metavar="NAME",
        help="integration suites (folders of tests/integration/) to run, each on a stack "
        "of its own, in parallel; repeat or separate with commas",
    )
    parser.add_argument(
        "--with",
        action="append",
        dest="members",
        metavar="NAME",
        help="optional stack members the integration stage starts (default: every one)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="targets of a stage run at the same time (default: number of CPUs)",
    )
    parser.add_argument(
        "--no-live",
        action="store_true",
        help="plain lines instead of the live display (automatic when stdout is not a terminal)",
    )
    parser.add_argument("--root", default=".", help="project root (default: current directory)")
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="after Ctrl-C, time targets get to clean up before they are killed (default: 30)",
    )
    args = parser.parse_args(argv)
    args.stage = split_list(args.stage)
    args.service = split_list(args.service)
    args.suite = list(dict.fromkeys(split_list(args.suite)))
    args.members = split_list(args.members)
    for stage in args.stage:
        if stage not in STAGES:
            choices = ", ".join(STAGES)
            parser.error(f"argument --stage: invalid choice {stage!r} (choose from {choices})")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.root).resolve()
    if not root.is_dir():
        print(f"test-runner.py: error: --root {args.root}: no such directory", file=sys.stderr)
        return EXIT_USAGE
    try:
        state = plan(root, args.stage, args.service, suites=args.suite, members=args.members)
    except PlanError as exc:
        print(f"test-runner.py: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not state.targets:
        print("test-runner.py: error: nothing to run", file=sys.stderr)
        return EXIT_USAGE
    console = Console(highlight=False)
    live = not args.no_live and sys.stdout.isatty()
    runner = Runner(
        state, console, jobs=args.jobs, live=live, verbose=args.verbose, grace=args.grace
    )
    return runner.run()
