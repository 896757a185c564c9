#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["rich>=13"]
# ///
"""Run the project's test stages, with a live view of every target.

Usage: uv run scripts/test-runner.py [-v] [--stage STAGE] [--service NAME]
                                     [--jobs N] [--no-live] [--root DIR]

Stages run in order, each only when every target of the previous one passed:

  multi layout (services/<name>/Dockerfile):  unit -> service -> integration
  single layout (one service at the root):    unit -> integration

  unit         scripts/unit-tests.sh services/<name>   (single: scripts/unit-tests.sh .)
  service      scripts/test-service.sh <name>
  integration  scripts/run-integration-tests.sh        (target "stack"; single: the service)

Targets of a stage run in parallel (at most --jobs at once), each in its own
process group with its output captured. Extra arguments for pytest or vitest
reach the scripts through the TEST_ARGS environment variable; a TEST_ARGS you
set yourself is appended to the runner's.

Exit codes: 0 every target passed, 1 a target failed, 2 usage error,
130 interrupted (Ctrl-C or SIGTERM: targets get SIGINT, --grace seconds to
clean up, then SIGKILL).
"""

from __future__ import annotations

import argparse
import codecs
import enum
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

# ----------------------------------------------------------------- settings

# What the runner asks of each test tool, through TEST_ARGS. Verbose lines give
# one line per test (name, outcome, "[ 45%]"); durations feed the slow-test
# review; no colours, so the output parses.
PYTEST_ARGS = "-v --durations=0 --color=no -p no:cacheprovider"
VITEST_ARGS = "--reporter=verbose --no-color"
TOOL_ARGS = {"pytest": PYTEST_ARGS, "vitest": VITEST_ARGS}

STAGES = ("unit", "service", "integration")
LAYOUT_STAGES = {"multi": STAGES, "single": ("unit", "integration")}
# Tests slower than this (seconds) are listed in the summary for review.
SLOW_THRESHOLD = {"unit": 1.0, "service": 5.0, "integration": 5.0}

# Variables that force colours on; vitest even reads FORCE_COLOR=0 as "on".
COLOR_FORCING = ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE")
MAX_CAPTURED_LINES = 50_000
MAX_PARTIAL = 65_536
TAIL_LINES = 40
BAR_WIDTH = 24
MAX_SLOW_LISTED = 20

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# -------------------------------------------------------------- output parsing

ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# "api-1  | " in front of lines that came through `docker compose up`.
COMPOSE_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*-\d+\s+\| ")


def clean(line: str) -> str:
    """A captured line as shown on a terminal: no colours, no overwritten parts."""
    line = ANSI_RE.sub("", line).rstrip("\r")
    line = line.rsplit("\r", 1)[-1]
    return COMPOSE_PREFIX_RE.sub("", line)


@dataclass
class TimedTest:
    """One measured test (or pytest phase of a test)."""

    seconds: float
    name: str
    phase: str = ""


@dataclass
class Parser:
    """Progress of a test tool, read from its output as it arrives.

    The base class knows no tool: it only remembers the last line, which the
    display shows while nothing better is known (e.g. during an image build).
    """

    total: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    current: str = ""
    durations: list[TimedTest] = field(default_factory=list)
    finished: bool = False
    last_line: str = ""
    _partial: str = ""

    def feed(self, text: str) -> list[str]:
        """Take a chunk of output; return the lines it completed, cleaned."""
        *complete, self._partial = (self._partial + text).split("\n")
        if len(self._partial) > MAX_PARTIAL:  # no newline for ages: take it as a line
            complete.append(self._partial)
            self._partial = ""
        lines = [clean(line) for line in complete]
        for line in lines:
            if line.strip():
                self.last_line = line.strip()
            self._line(line)
        self._peek(clean(self._partial))
        return lines

    def close(self) -> list[str]:
        """End of output: the unterminated last line, if any, as a line."""
        if not self._partial:
            return []
        return self.feed("\n")

    def _line(self, line: str) -> None:
        """One complete line."""

    def _peek(self, partial: str) -> None:
        """The line being written (tools print a test's name before running it)."""

    @property
    def done(self) -> int:
        return 0

    @property
    def percent(self) -> float | None:
        if self.total:
            return min(100.0, 100.0 * self.done / self.total)
        return None

    @property
    def activity(self) -> str:
        """What the target is doing: the running test, else its last output line
        (an image build before the tests, a teardown after them)."""
        if self.current and not self.finished:
            return self.current
        return self.last_line


PYTEST_OUTCOMES = {
    "PASSED": "passed",
    "FAILED": "failed",
    "ERROR": "error",
    "SKIPPED": "skipped",
    "XFAIL": "xfailed",
    "XPASS": "xpassed",
    "RERUN": "rerun",
}
_OUTCOME = "|".join(PYTEST_OUTCOMES)
PYTEST_SECTION_RE = re.compile(r"^=+ (?P<title>.*?) =+$")
# tests/test_x.py::test_y[a b] PASSED                     [ 45%]
PYTEST_RESULT_RE = re.compile(
    rf"^(?P<nodeid>[^\s=\[!_][^\s]*?(?:::.*?)?) (?P<outcome>{_OUTCOME})\b.*?"
    r"(?:\[\s*(?P<pct>\d+)%\])?\s*$"
)
# [gw0] [ 45%] PASSED tests/test_x.py::test_y             (pytest-xdist)
PYTEST_XDIST_RE = re.compile(
    rf"^\[gw\d+\] \[\s*(?P<pct>\d+)%\] (?P<outcome>{_OUTCOME}) (?P<nodeid>\S.*?)\s*$"
)
PYTEST_RUNNING_RE = re.compile(r"^(?P<nodeid>[^\s=\[!_][^\s]*?::.+?)\s*$")
PYTEST_COLLECTED_RE = re.compile(r"\bcollected (?P<n>\d+) items?\b(?P<rest>.*)$")
PYTEST_SELECTED_RE = re.compile(r"/ (?P<n>\d+) selected\b")
PYTEST_XDIST_ITEMS_RE = re.compile(r"^\d+ workers? \[(?P<n>\d+) items?\]")
PYTEST_SUMMARY_RE = re.compile(
    r"^=+ (?P<body>no tests ran|\d+ \w+(?:, \d+ \w+)*) in (?P<secs>\d+(?:\.\d+)?)s\b.*? =+$"
)
PYTEST_DURATION_RE = re.compile(
    r"^(?P<secs>\d+(?:\.\d+)?)s (?P<phase>setup|call|teardown)\s+(?P<name>\S.*?)\s*$"
)
# Result lines appear only before the first report section.
PYTEST_RESULT_SECTIONS = ("", "test session starts")
PYTEST_COUNT_NAMES = {"error": "error", "errors": "error", "warning": "warnings"}


def pytest_counts(body: str) -> dict[str, int]:
    """'2 failed, 15 passed, 1 error' -> {'failed': 2, 'passed': 15, 'error': 1}"""
    counts: dict[str, int] = {}
    for part in body.split(", "):
        number, _, word = part.partition(" ")
        if number.isdigit():
            counts[PYTEST_COUNT_NAMES.get(word, word)] = int(number)
    return counts


@dataclass
class PytestParser(Parser):
    """pytest -v: '[ 45%]' progress, per-test lines, summary, slowest durations."""

    _seen: set[str] = field(default_factory=set)
    _pct: int | None = None
    _pending: tuple[str, int | None] | None = None
    _section: str = ""

    def _line(self, line: str) -> None:
        if summary := PYTEST_SUMMARY_RE.match(line):
            if summary["body"] != "no tests ran":
                self.counts = pytest_counts(summary["body"])
            else:
                self.counts = {}
            self.finished = True
            self.current = ""
            self._section = ""
            return
        if section := PYTEST_SECTION_RE.match(line):
            self._section = section["title"]
            return
        if self._section.startswith("slowest"):
            if duration := PYTEST_DURATION_RE.match(line):
                self.durations.append(
                    TimedTest(float(duration["secs"]), duration["name"], duration["phase"])
                )
            return
        if self._section not in PYTEST_RESULT_SECTIONS:
            return  # failure reports and summaries repeat outcome words
        if result := PYTEST_XDIST_RE.match(line) or PYTEST_RESULT_RE.match(line):
            self._record(result["nodeid"], result["outcome"], result["pct"])
            return
        if collected := PYTEST_COLLECTED_RE.search(line):
            selected = PYTEST_SELECTED_RE.search(collected["rest"])
            self.total = int((selected or collected)["n"])
        elif items := PYTEST_XDIST_ITEMS_RE.match(line):
            self.total = int(items["n"])

    def _record(self, nodeid: str, outcome: str, pct: str | None) -> None:
        self._pending = None
        if nodeid not in self._seen:
            self._seen.add(nodeid)
            key = PYTEST_OUTCOMES[outcome]
            self.counts[key] = self.counts.get(key, 0) + 1
        if pct is not None:
            self._pct = int(pct)

    def _peek(self, partial: str) -> None:
        self._pending = None
        if self.finished or not partial or self._section not in PYTEST_RESULT_SECTIONS:
            return
        if result := PYTEST_RESULT_RE.match(partial):
            pct = result["pct"]
            self._pending = (result["nodeid"], int(pct) if pct is not None else None)
        elif running := PYTEST_RUNNING_RE.match(partial):
            self.current = running["nodeid"]

    @property
    def done(self) -> int:
        pending = self._pending is not None and self._pending[0] not in self._seen
        return len(self._seen) + int(pending)

    @property
    def percent(self) -> float | None:
        if self._pending is not None and self._pending[1] is not None:
            return float(self._pending[1])
        if self._pct is not None:
            return float(self._pct)
        return super().percent


VITEST_MARKS = {"✓": "passed", "×": "failed", "✗": "failed", "↓": "skipped"}
# ✓ src/a.test.ts > suite > name 12ms
VITEST_RESULT_RE = re.compile(
    r"^\s*(?P<mark>[✓×✗↓])\s+(?P<name>\S.*?)(?:\s+(?P<dur>\d+(?:\.\d+)?)(?P<unit>ms|s))?\s*$"
)
VITEST_FILE_LINE_RE = re.compile(r"\(\d+ tests?(?: \| [^)]*)?\)$")
VITEST_TESTS_RE = re.compile(r"^\s*Tests\s+(?P<body>.+?)\s+\((?P<total>\d+)\)\s*$")
VITEST_NO_TESTS_RE = re.compile(r"^\s*Tests\s+no tests\s*$")


@dataclass
class VitestParser(Parser):
    """vitest --reporter=verbose: a line per finished test, then the summary."""

    _done: int = 0

    def _line(self, line: str) -> None:
        if result := VITEST_RESULT_RE.match(line):
            name = result["name"]
            if VITEST_FILE_LINE_RE.search(name):
                return  # a file's summary line, not a test
            key = VITEST_MARKS[result["mark"]]
            self.counts[key] = self.counts.get(key, 0) + 1
            self._done += 1
            self.current = name
            if result["dur"] is not None:
                seconds = float(result["dur"]) / (1000 if result["unit"] == "ms" else 1)
                self.durations.append(TimedTest(seconds, name))
            return
        if tests := VITEST_TESTS_RE.match(line):
            counts: dict[str, int] = {}
            for part in tests["body"].split("|"):
                number, _, word = part.strip().partition(" ")
                if number.isdigit():
                    counts[word.strip()] = int(number)
            self.counts = counts
            self.total = int(tests["total"])
            self.finished = True
            self.current = ""
        elif VITEST_NO_TESTS_RE.match(line):
            self.total = 0
            self.finished = True
            self.current = ""

    @property
    def done(self) -> int:
        return self._done


def make_parser(framework: str | None) -> Parser:
    if framework == "pytest":
        return PytestParser()
    if framework == "vitest":
        return VitestParser()
    return Parser()


PYTEST_KEPT_SECTIONS = ("ERRORS", "FAILURES", "short test summary info")


def pytest_failures(lines: Sequence[str]) -> list[str]:
    """The ERRORS and FAILURES sections up to the short summary and the result line."""
    kept: list[str] = []
    keep = False
    for line in lines:
        if PYTEST_SUMMARY_RE.match(line):
            if kept:
                kept.append(line)
            keep = False
        elif section := PYTEST_SECTION_RE.match(line):
            keep = section["title"] in PYTEST_KEPT_SECTIONS
            if keep:
                kept.append(line)
        elif keep:
            kept.append(line)
    return kept


VITEST_FAILURE_HEADER_RE = re.compile(
    r"^⎯+ (?:Failed Tests|Failed Suites|Unhandled (?:Errors?|Rejection))"
)
VITEST_SUMMARY_START_RE = re.compile(r"^\s*Test Files\s")


def vitest_failures(lines: Sequence[str]) -> list[str]:
    """From the first failure block through the Test Files / Tests summary."""
    start = next((i for i, line in enumerate(lines) if VITEST_FAILURE_HEADER_RE.match(line)), None)
    if start is None:
        return []
    kept: list[str] = []
    in_summary = False
    for line in lines[start:]:
        if VITEST_SUMMARY_START_RE.match(line):
            in_summary = True
        elif in_summary and not line.strip():
            break
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def failure_report(framework: str | None, lines: Sequence[str]) -> list[str]:
    """What to show of a failed target: its tool's failure sections, else the tail."""
    if framework == "pytest":
        report = pytest_failures(lines)
    elif framework == "vitest":
        report = vitest_failures(lines)
    else:
        report = []
    if report:
        return report
    tail = list(lines)
    while tail and not tail[-1].strip():
        tail.pop()
    tail = tail[-TAIL_LINES:]
    while tail and not tail[0].strip():
        tail.pop(0)
    return tail


# ----------------------------------------------------------------------- state


class Status(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "not run"
    INTERRUPTED = "interrupted"


@dataclass
class Target:
    """One command of a stage: a service's tests, or the whole stack's."""

    stage: str
    name: str
    command: list[str]
    framework: str | None
    parser: Parser = field(default_factory=Parser)
    status: Status = Status.PENDING
    started: float | None = None
    ended: float | None = None
    returncode: int | None = None
    output: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_CAPTURED_LINES))

    def elapsed(self, now: float) -> float | None:
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else now) - self.started

    def slow_tests(self) -> list[TimedTest]:
        threshold = SLOW_THRESHOLD.get(self.stage, 1.0)
        slow = [t for t in self.parser.durations if t.seconds > threshold]
        return sorted(slow, key=lambda t: t.seconds, reverse=True)


@dataclass
class Stage:
    name: str
    targets: list[Target]

    @property
    def status(self) -> Status:
        statuses = {t.status for t in self.targets}
        for status in (Status.RUNNING, Status.INTERRUPTED, Status.FAILED):
            if status in statuses:
                return status
        if statuses == {Status.PASSED}:
            return Status.PASSED
        if Status.PENDING in statuses:
            return Status.PENDING
        return Status.SKIPPED


@dataclass
class RunState:
    root: Path
    layout: str
    stages: list[Stage]
    started: float | None = None
    ended: float | None = None
    interrupted: bool = False

    @property
    def targets(self) -> list[Target]:
        return [t for stage in self.stages for t in stage.targets]


# ------------------------------------------------------------------- planning


class PlanError(Exception):
    """The options ask for something the project does not have."""


@dataclass
class Service:
    name: str
    path: str  # relative to the root
    framework: str | None


def framework_of(folder: Path) -> str | None:
    if (folder / "pyproject.toml").is_file():
        return "pytest"
    if (folder / "package.json").is_file():
        return "vitest"
    return None


def answered_service(root: Path) -> str | None:
    """First service name in .copier-answers.yml ('services: web:node' -> 'web')."""
    try:
        text = (root / ".copier-answers.yml").read_text(encoding="utf-8")
    except OSError:
        return None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^services:[ \t]*(.*?)\s*$", line)
        if not match:
            continue
        value = match[1]
        if value in ("", ">", ">-", "|", "|-") and i + 1 < len(lines):
            value = lines[i + 1].strip()  # a folded or literal block
        words = value.strip("'\"").split()
        if not words:
            return None
        return words[0].split(":")[0] or None
    return None


def discover(root: Path) -> tuple[str, list[Service]]:
    """('multi', services under services/) or ('single', [the root service])."""
    services_dir = root / "services"
    if services_dir.is_dir():
        found = [
            Service(d.name, f"services/{d.name}", framework_of(d))
            for d in sorted(services_dir.iterdir(), key=lambda d: d.name)
            if d.is_dir() and (d / "Dockerfile").is_file()
        ]
        if found:
            return "multi", found
    name = answered_service(root) or root.resolve().name
    return "single", [Service(name, ".", framework_of(root))]


def plan(root: Path, stages: Sequence[str] = (), services: Sequence[str] = ()) -> RunState:
    """Every stage and target to run, in order, before any filter is applied."""
    layout, found = discover(root)
    allowed = LAYOUT_STAGES[layout]
    for stage in stages:
        if stage not in allowed:
            raise PlanError(
                f"stage {stage!r} does not exist in the {layout} layout; "
                f"choose from {', '.join(allowed)}"
            )
    planned: list[Stage] = []
    for stage in allowed:
        if stage == "unit":
            targets = [
                Target("unit", s.name, ["scripts/unit-tests.sh", s.path], s.framework)
                for s in found
            ]
        elif stage == "service":
            targets = [
                Target("service", s.name, ["scripts/test-service.sh", s.name], s.framework)
                for s in found
            ]
        else:
            name = "stack" if layout == "multi" else found[0].name
            if layout == "multi":
                framework = "pytest" if (root / "pyproject.toml").is_file() else "vitest"
            else:
                framework = framework_of(root)
            targets = [Target("integration", name, ["scripts/run-integration-tests.sh"], framework)]
        planned.append(Stage(stage, targets))
    if stages:
        planned = [s for s in planned if s.name in stages]
    if services:
        known = sorted({t.name for s in planned for t in s.targets})
        unknown = [name for name in services if name not in known]
        if unknown:
            raise PlanError(
                f"no target named {', '.join(unknown)}; the targets are {', '.join(known)}"
            )
        for stage in planned:
            stage.targets = [t for t in stage.targets if t.name in services]
        planned = [s for s in planned if s.targets]
    for target in (t for s in planned for t in s.targets):
        target.parser = make_parser(target.framework)
    return RunState(root=root, layout=layout, stages=planned)


def child_env(framework: str | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a target: no forced colours, TEST_ARGS for its tool."""
    base = dict(os.environ if base is None else base)
    env = {k: v for k, v in base.items() if k not in COLOR_FORCING}
    env["NO_COLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # progress arrives as it happens, not in 8 KiB blocks
    args = [TOOL_ARGS.get(framework or "", ""), base.get("TEST_ARGS", "").strip()]
    env["TEST_ARGS"] = " ".join(a for a in args if a)
    return env


def resolve_command(root: Path, command: list[str]) -> list[str]:
    """Run a script through bash when it lost its executable bit."""
    script = root / command[0]
    if script.is_file() and not os.access(script, os.X_OK):
        return ["bash", *command]
    return command


# ------------------------------------------------------------------- rendering

MARKS = {
    Status.PENDING: ("○", "dim"),
    Status.RUNNING: ("●", "bold cyan"),
    Status.PASSED: ("✓", "bold green"),
    Status.FAILED: ("✗", "bold red"),
    Status.SKIPPED: ("○", "dim"),
    Status.INTERRUPTED: ("✗", "bold yellow"),
}
COUNT_ORDER = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "todo")


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def fmt_count(parser: Parser) -> str:
    if parser.total is not None:
        return f"{parser.done}/{parser.total}"
    return str(parser.done) if parser.done else ""


def fmt_counts(counts: dict[str, int]) -> str:
    ordered = [k for k in COUNT_ORDER if counts.get(k)]
    ordered += [k for k in counts if k not in COUNT_ORDER and counts[k] and k != "warnings"]
    return ", ".join(f"{counts[k]} {k}" for k in ordered)


def bar(percent: float | None, elapsed: float, width: int = BAR_WIDTH) -> Text:
    """━━━━━━━░░░ for a known percentage; a moving ━━━ segment while unknown."""
    if percent is None:
        segment = 4
        start = int(elapsed * 8) % width
        cells = [(i - start) % width < segment for i in range(width)]
        return Text.assemble(*(("━", "cyan") if on else ("░", "dim") for on in cells))
    filled = round(width * max(0.0, min(percent, 100.0)) / 100)
    return Text.assemble(("━" * filled, "green"), ("░" * (width - filled), "dim"))


def target_rows(target: Target, name_width: int, now: float) -> list[Text]:
    """One line per target (two while it runs: the test it is on under it)."""
    mark, style = MARKS[target.status]
    parser = target.parser
    head = Text.assemble("  ", (mark, style), " ", (target.name.ljust(name_width), "bold"), "  ")
    elapsed = target.elapsed(now)
    if target.status in (Status.PENDING, Status.SKIPPED):
        head.append(target.status.value, "dim")
        return [head]
    if target.status is Status.RUNNING:
        percent = parser.percent
        head.append_text(bar(percent, elapsed or 0.0))
        head.append(f" {percent:3.0f}%" if percent is not None else "     ")
        head.append(f"  {fmt_count(parser):>9}  {fmt_seconds(elapsed):>6}")
        rows = [head]
        if activity := parser.activity:
            rows.append(Text(f"      {activity}", style="dim", no_wrap=True, overflow="ellipsis"))
        return rows
    if target.status is Status.FAILED:
        failed = parser.counts.get("failed", 0) + parser.counts.get("error", 0)
        head.append(f"{failed} failed  " if failed else f"exit {target.returncode}  ", "red")
    elif target.status is Status.INTERRUPTED:
        head.append("interrupted  ", "yellow")
    head.append(f"{fmt_count(parser)}  {fmt_seconds(elapsed)}".strip())
    return [head]


def render(state: RunState, now: float | None = None) -> Group:
    """The live display: a header per stage and a row per target."""
    now = time.monotonic() if now is None else now
    name_width = max((len(t.name) for t in state.targets), default=0)
    parts: list[RenderableType] = []
    for stage in state.stages:
        status = stage.status
        header = Text.assemble((stage.name, "bold"))
        if status is not Status.PENDING:
            header.append(f"  {status.value}", MARKS[status][1])
        parts.append(header)
        for target in stage.targets:
            parts.extend(target_rows(target, name_width, now))
    return Group(*parts)


def render_summary(state: RunState) -> Group:
    """The table printed at the end, slow tests to review, and the verdict."""
    now = state.ended if state.ended is not None else time.monotonic()
    table = Table(title="Test summary", title_justify="left", expand=False)
    table.add_column("Stage")
    table.add_column("Target")
    table.add_column("Result")
    table.add_column("Tests")
    table.add_column("Time", justify="right")
    for target in state.targets:
        mark, style = MARKS[target.status]
        table.add_row(
            target.stage,
            target.name,
            Text(f"{mark} {target.status.value}", style=style),
            fmt_counts(target.parser.counts),
            fmt_seconds(target.elapsed(now)),
        )
    parts: list[RenderableType] = [table]

    slow = [(t, timed) for t in state.targets for timed in t.slow_tests()]
    if slow:
        slow.sort(key=lambda pair: pair[1].seconds, reverse=True)
        review = Table(title="Slow tests to review", title_justify="left")
        review.add_column("Stage")
        review.add_column("Target")
        review.add_column("Time", justify="right")
        review.add_column("Test")
        for target, timed in slow[:MAX_SLOW_LISTED]:
            name = f"{timed.name} ({timed.phase})" if timed.phase else timed.name
            review.add_row(target.stage, target.name, f"{timed.seconds:.2f}s", name)
        parts.append(review)
        unit, other = SLOW_THRESHOLD["unit"], SLOW_THRESHOLD["service"]
        note = f"(over {unit:g} s in unit, over {other:g} s in service and integration)"
        parts.append(Text(note, style="dim"))
        if len(slow) > MAX_SLOW_LISTED:
            parts.append(Text(f"... and {len(slow) - MAX_SLOW_LISTED} more", style="dim"))

    parts.append(verdict(state))
    return Group(*parts)


def verdict(state: RunState) -> Text:
    elapsed = fmt_seconds(
        (state.ended - state.started) if state.started is not None and state.ended else None
    )
    targets = state.targets
    failed = [t for t in targets if t.status is Status.FAILED]
    not_run = [s.name for s in state.stages if s.status is Status.SKIPPED]
    suffix = f" in {elapsed}" if elapsed else ""
    if state.interrupted:
        return Text(f"✗ interrupted{suffix}", style="bold yellow")
    if failed:
        names = ", ".join(f"{t.stage}/{t.name}" for t in failed)
        text = f"✗ {len(failed)} of {len(targets)} targets failed ({names}){suffix}"
        if not_run:
            text += f"; not run: {', '.join(not_run)}"
        return Text(text, style="bold red")
    return Text(f"✓ all {len(targets)} targets passed{suffix}", style="bold green")


# --------------------------------------------------------------------- running


class Runner:
    """Runs the stages of a RunState, keeping it up to date for the display."""

    def __init__(
        self,
        state: RunState,
        console: Console,
        jobs: int,
        live: bool,
        verbose: bool = False,
        grace: float = 30.0,
    ) -> None:
        self.state = state
        self.console = console
        self.jobs = max(1, jobs)
        self.live = live
        self.verbose = verbose
        self.grace = grace
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._interrupts = 0
        self._procs: dict[int, tuple[Target, subprocess.Popen[bytes]]] = {}
        self._name_width = max((len(t.name) for t in state.targets), default=0)

    # -- signals

    def interrupt(self, signum: int = signal.SIGINT, frame: object = None) -> None:
        """Signal handler: the first stops the targets, the second kills them."""
        self._interrupts += 1
        self._wake.set()

    def _install_handlers(self) -> dict[int, object]:
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self.interrupt)
        return previous

    # -- output

    def _renderable(self) -> Group:
        with self._lock:
            return render(self.state, time.monotonic())

    def _print(self, renderable: RenderableType) -> None:
        self.console.print(renderable, soft_wrap=True, highlight=False)

    def _log_start(self, target: Target) -> None:
        if self.live:
            return
        command = shlex.join(target.command)
        self._print(Text(f"[{target.stage}] ● {target.name} started: {command}"))

    def _log_finish(self, target: Target) -> None:
        if self.live:
            return
        mark, style = MARKS[target.status]
        parser = target.parser
        details = [fmt_counts(parser.counts)]
        if target.status is not Status.PASSED and target.returncode is not None:
            details.append(f"exit {target.returncode}")
        detail = "; ".join(d for d in details if d)
        elapsed = fmt_seconds(target.elapsed(time.monotonic()))
        line = Text.assemble(
            f"[{target.stage}] ",
            (mark, style),
            f" {target.name} {target.status.value} in {elapsed}",
            f": {detail}" if detail else "",
        )
        self._print(line)

    def _log_lines(self, target: Target, lines: Iterable[str]) -> None:
        prefix = f"{target.name.ljust(self._name_width)} | "
        for line in lines:
            self._print(Text.assemble((prefix, "dim"), line))

    # -- one target

    def _consume(self, target: Target, text: str, final: bool = False) -> None:
        with self._lock:
            lines = target.parser.feed(text) if text else []
            if final:
                lines += target.parser.close()
            target.output.extend(lines)
        if self.verbose and lines:
            self._log_lines(target, lines)

    def _run_target(self, target: Target) -> None:
        env = child_env(target.framework)
        command = resolve_command(self.state.root, target.command)
        with self._lock:
            if self._interrupts:
                target.status = Status.SKIPPED
                self._wake.set()
                return
            target.status = Status.RUNNING
            target.started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=self.state.root,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    bufsize=0,
                    start_new_session=True,  # its own process group, for SIGINT
                )
            except OSError as exc:
                target.output.append(f"cannot run {shlex.join(command)}: {exc}")
                target.returncode = 127
                target.ended = time.monotonic()
                target.status = Status.FAILED
                proc = None
            else:
                self._procs[id(target)] = (target, proc)
        if proc is None:
            self._log_finish(target)
            self._wake.set()
            return
        self._log_start(target)
        self._pump(target, proc)
        returncode = proc.wait()
        with self._lock:
            self._procs.pop(id(target), None)
            target.returncode = returncode
            target.ended = time.monotonic()
            if returncode == 0:
                target.status = Status.PASSED
            elif self._interrupts:
                target.status = Status.INTERRUPTED
            else:
                target.status = Status.FAILED
        self._log_finish(target)
        self._wake.set()

    def _pump(self, target: Target, proc: subprocess.Popen[bytes]) -> None:
        """Read the target's output until it ends (or it exits and goes quiet)."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                data = os.read(fd, 65536)
                if not data:
                    break
                self._consume(target, decoder.decode(data))
            elif proc.poll() is not None:
                break  # exited; a leftover background process may hold the pipe open
        self._consume(target, decoder.decode(b"", final=True), final=True)
        proc.stdout.close()

    # -- stopping

    def _signal_running(self, signum: int) -> None:
        with self._lock:
            running = [proc for _, proc in self._procs.values()]
        for proc in running:
            try:
                os.killpg(proc.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass

    # -- stages

    def _run_stage(self, stage: Stage) -> None:
        sigint_sent: float | None = None
        killed = False
        with ThreadPoolExecutor(
            max_workers=min(self.jobs, len(stage.targets)), thread_name_prefix=stage.name
        ) as pool:
            futures = [pool.submit(self._run_target, t) for t in stage.targets]
            for future in futures:
                future.add_done_callback(lambda _: self._wake.set())
            while True:
                self._wake.clear()
                if all(f.done() for f in futures):
                    break
                if self._interrupts and sigint_sent is None:
                    sigint_sent = time.monotonic()
                    self._signal_running(signal.SIGINT)
                    self._print(
                        Text(
                            f"Interrupted: stopping the running targets "
                            f"(up to {self.grace:g}s; interrupt again to kill them now)",
                            style="bold yellow",
                        )
                    )
                if (
                    not killed
                    and sigint_sent is not None
                    and (self._interrupts > 1 or time.monotonic() - sigint_sent > self.grace)
                ):
                    killed = True
                    self._signal_running(signal.SIGKILL)
                self._wake.wait(0.2)
            for future in futures:
                future.result()  # re-raise a bug in the runner itself

    def run(self) -> int:
        previous = self._install_handlers()
        self.state.started = time.monotonic()
        try:
            display = (
                Live(
                    get_renderable=self._renderable,
                    console=self.console,
                    refresh_per_second=8,
                    redirect_stdout=False,
                    redirect_stderr=False,
                )
                if self.live
                else nullcontext()
            )
            with display as live:
                if live is not None:
                    self.console = live.console  # log above the live display
                failed = False
                for stage in self.state.stages:
                    if failed or self._interrupts:
                        for target in stage.targets:
                            target.status = Status.SKIPPED
                        continue
                    self._run_stage(stage)
                    failed = any(t.status is not Status.PASSED for t in stage.targets)
                if live is not None:
                    live.refresh()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.state.ended = time.monotonic()
        self.state.interrupted = self._interrupts > 0
        self.report()
        if self.state.interrupted:
            return EXIT_INTERRUPTED
        if any(t.status is not Status.PASSED for t in self.state.targets):
            return EXIT_FAILED
        return EXIT_OK

    def report(self) -> None:
        """Failure sections of the failed targets, then the summary table."""
        for target in self.state.targets:
            if target.status is not Status.FAILED:
                continue
            title = (
                f"{target.stage}/{target.name} failed: "
                f"{shlex.join(target.command)} exited {target.returncode}"
            )
            self.console.print(Rule(Text(title, style="bold red"), style="red"))
            report = failure_report(target.framework, list(target.output))
            self._print(Text("\n".join(report) if report else "(no output)"))
        self.console.print()
        self.console.print(render_summary(self.state))


# ------------------------------------------------------------------------- cli


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
        state = plan(root, args.stage, args.service)
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


if __name__ == "__main__":
    sys.exit(main())
