"""What a target's output and its junit report say: progress, counts, failures."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

# What the runner asks of each tool through TEST_ARGS: a line per test, durations, no colours.
PYTEST_ARGS = "-v --durations=0 --color=no -p no:cacheprovider"
VITEST_ARGS = "--reporter=verbose --no-color"
TOOL_ARGS = {"pytest": PYTEST_ARGS, "vitest": VITEST_ARGS}
MAX_PARTIAL, TAIL_LINES, FAILURE_LINES = 65_536, 40, 15
# The coverage reports scripts/stack asks the unit tests for (Cobertura XML), by tool.
COVERAGE_REPORTS = ("coverage.xml", "cobertura-coverage.xml")

# Colours and terminal titles; "api-1  | " in front of lines from `docker compose up`.
ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
COMPOSE_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*-\d+\s+\| ")
OUTCOMES = {"PASSED": "passed", "FAILED": "failed", "ERROR": "error", "SKIPPED": "skipped",
            "XFAIL": "xfailed", "XPASS": "xpassed", "RERUN": "rerun"}
_OUT = "|".join(OUTCOMES)
SECTION_RE = re.compile(r"^=+ (?P<title>.*?) =+$")
# Sections where pytest prints a line per test, and those a failure report shows.
RESULT_SECTIONS = ("", "test session starts")
FAILURE_SECTIONS = ("ERRORS", "FAILURES", "short test summary info")
# tests/test_x.py::test_y[a b] PASSED   [ 45%]   or, with xdist:   [gw0] [ 45%] PASSED tests/...
RESULT_RE = re.compile(
    rf"^(?P<id>[^\s=\[!_]\S*?(?:::.*?)?) (?P<out>{_OUT})\b.*?(?:\[\s*(?P<pct>\d+)%\])?\s*$"
)
XDIST_RE = re.compile(rf"^\[gw\d+\] \[\s*(?P<pct>\d+)%\] (?P<out>{_OUT}) (?P<id>\S.*?)\s*$")
RUNNING_RE = re.compile(r"^(?P<id>[^\s=\[!_]\S*?::.+?)\s*$")
# "collected 10 items / 2 deselected / 8 selected", or with xdist "2 workers [8 items]"
TOTAL_RE = re.compile(r"\bcollected (\d+) items?\b(?:.*/ (\d+) selected\b)?|^\d+ workers? \[(\d+) ")
SUMMARY_RE = re.compile(r"^=+ (?P<body>no tests ran|\d+ \w+(?:, \d+ \w+)*) in [\d.]+s\b.*? =+$")
NUM = r"\d+(?:\.\d+)?"
DURATION_RE = re.compile(rf"^(?P<s>{NUM})s (?P<phase>setup|call|teardown)\s+(?P<name>\S.*?)\s*$")
# ✓ src/a.test.ts > suite > name 12ms   (not a file's line: "✓ src/a.test.ts (5 tests) 3ms")
VITEST_RE = re.compile(
    rf"^\s*(?P<mark>[✓×✗↓])\s+(?P<name>\S.*?)(?:\s+(?P<n>{NUM})(?P<ms>m?)s)?\s*$"
)
VITEST_MARKS = {"✓": "passed", "×": "failed", "✗": "failed", "↓": "skipped"}
VITEST_FILE_RE = re.compile(r"\(\d+ tests?(?: \| [^)]*)?\)$")
VITEST_TESTS_RE = re.compile(r"^\s*Tests\s+(?:no tests|(?P<body>.+?)\s+\((?P<total>\d+)\))\s*$")
VITEST_FAILURES_RE = re.compile(r"^⎯+ (?:Failed (?:Tests|Suites)|Unhandled (?:Error|Rejection))")


def clean(line: str) -> str:
    """A captured line as a terminal shows it: no colours, no overwritten parts."""
    return COMPOSE_PREFIX_RE.sub("", ANSI_RE.sub("", line).rstrip("\r").rsplit("\r", 1)[-1])


def counted(parts: Sequence[str]) -> dict[str, int]:
    """['2 failed', '15 passed', '1 errors'] -> {'failed': 2, 'passed': 15, 'error': 1}"""
    pairs = (part.strip().partition(" ")[::2] for part in parts)
    names = {"errors": "error", "warning": "warnings"}
    return {names.get(w.strip(), w.strip()): int(n) for n, w in pairs if n.isdigit()}


def trim(lines: Sequence[str]) -> list[str]:
    """Without the blank lines at either end."""
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    end = next((i for i in range(len(lines), start, -1) if lines[i - 1].strip()), start)
    return list(lines[start:end])


class TimedTest(NamedTuple):
    seconds: float
    name: str
    phase: str = ""


@dataclass
class Parser:
    """A tool's progress, read as its output arrives; without a tool, only the last line."""

    total: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    current: str = ""  # the test running (pytest) or the last one done (vitest)
    durations: list[TimedTest] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # the tool's failure report
    finished: bool = False  # the tool printed its summary
    last_line: str = ""
    seen: set[str] = field(default_factory=set)  # the tests done
    pct: int | None = None  # pytest's "[ 45%]"
    section: str = ""
    _partial: str = ""

    def feed(self, text: str) -> list[str]:
        """Take a chunk of output; return the lines it completed, cleaned."""
        *complete, self._partial = (self._partial + text).split("\n")
        if len(self._partial) > MAX_PARTIAL:  # no newline for ages: take it as a line
            complete, self._partial = [*complete, self._partial], ""
        lines = [clean(line) for line in complete]
        for line in lines:
            self.last_line = line.strip() or self.last_line
            self.line(line)
        self.peek(clean(self._partial))
        return lines

    def close(self) -> list[str]:
        return self.feed("\n") if self._partial else []

    def line(self, line: str) -> None: ...

    def peek(self, partial: str) -> None: ...

    def count(self, test: str, outcome: str) -> None:
        if test not in self.seen:
            self.seen.add(test)
            self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def done(self) -> int:
        return len(self.seen)

    @property
    def percent(self) -> float | None:
        if self.pct is not None:
            return float(self.pct)
        return min(100.0, 100.0 * self.done / self.total) if self.total else None

    @property
    def activity(self) -> str:
        """The running test, else the last output line (an image build, a teardown)."""
        return self.current if self.current and not self.finished else self.last_line


class PytestParser(Parser):
    """pytest -v: '[ 45%]', a line per test, the summary line, the slowest durations."""

    def line(self, line: str) -> None:
        if summary := SUMMARY_RE.match(line):
            body, self.finished, self.current, self.section = summary["body"], True, "", ""
            self.counts = {} if body == "no tests ran" else counted(body.split(", "))
            self.failures += [line] if self.failures else []
        elif section := SECTION_RE.match(line):
            self.section = section["title"]
            self.failures += [line] if self.section in FAILURE_SECTIONS else []
        elif self.section in FAILURE_SECTIONS:
            self.failures.append(line)
        elif self.section.startswith("slowest"):
            if timed := DURATION_RE.match(line):
                self.durations.append(TimedTest(float(timed["s"]), timed["name"], timed["phase"]))
        elif self.section not in RESULT_SECTIONS:
            return  # failure reports and summaries repeat outcome words
        elif result := XDIST_RE.match(line) or RESULT_RE.match(line):
            self.result(result)
        elif total := TOTAL_RE.search(line):
            self.total = int(next(n for n in total.groups()[::-1] if n))

    def peek(self, partial: str) -> None:
        """pytest -v writes a test's name, runs it, then writes the outcome and '[ 45%]'."""
        if self.finished or not partial or self.section not in RESULT_SECTIONS:
            return
        if result := RESULT_RE.match(partial):
            self.result(result)
        elif running := RUNNING_RE.match(partial):
            self.current = running["id"]

    def result(self, result: re.Match[str]) -> None:
        self.count(result["id"], OUTCOMES[result["out"]])
        self.pct = int(result["pct"]) if result["pct"] else self.pct


class VitestParser(Parser):
    """vitest --reporter=verbose: a line per finished test, failure blocks, the summary."""

    def line(self, line: str) -> None:
        if (self.failures or VITEST_FAILURES_RE.match(line)) and self.section != "done":
            self.failures.append(line)  # from the first failure block to the summary's end
            self.section = "done" if self.finished and not line.strip() else ""
        if (result := VITEST_RE.match(line)) and not VITEST_FILE_RE.search(result["name"]):
            self.current = name = result["name"]
            self.count(f"{len(self.seen)} {name}", VITEST_MARKS[result["mark"]])
            if result["n"] is not None:
                seconds = float(result["n"]) / (1000 if result["ms"] else 1)
                self.durations.append(TimedTest(seconds, name))
        elif tests := VITEST_TESTS_RE.match(line):
            self.counts = counted(tests["body"].split("|")) if tests["body"] else {}
            self.total, self.finished, self.current = int(tests["total"] or 0), True, ""


def make_parser(framework: str | None) -> Parser:
    return {"pytest": PytestParser, "vitest": VitestParser}.get(framework or "", Parser)()


def failure_report(parser: Parser, lines: Sequence[str], junit: Sequence[str] = ()) -> list[str]:
    """The tool's failure report, else the junit report's failures, else the output's tail."""
    return trim(parser.failures) or list(junit) or trim(trim(lines)[-TAIL_LINES:])


class Failure(NamedTuple):
    test: str
    outcome: str  # failed | error
    message: str
    text: str


# Tests named after a scenario id (test_int_001_smoke_run_completes -> INT-001).
SCENARIO = re.compile(r"(?:^|[^a-z])test_([a-z]{2,5})_(\d{3})(?:_|\b)")


@dataclass
class JunitReport:
    """What ran, from the junit XML the stage scripts ask pytest and vitest for."""

    counts: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    scenarios: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (outcome, test)

    def failure_lines(self) -> list[str]:
        """The failed tests, their message and the start of their traceback."""
        lines: list[str] = []
        for test, outcome, message, text in self.failures:
            lines.append(f"{outcome.upper()} {test}" + (f": {message}" if message else ""))
            body = [f"    {line}" for line in text.splitlines() if line.strip()]
            lines += body[:FAILURE_LINES]
            if len(body) > FAILURE_LINES:
                lines.append(f"    ... {len(body) - FAILURE_LINES} more lines")
        return lines


def parse_junit(text: str) -> JunitReport:
    report = JunitReport()
    for case in ElementTree.fromstring(text).iter("testcase"):
        problem = next((e for tag in ("failure", "error") for e in case.iter(tag)), None)
        skipped = case.find("skipped")
        if problem is not None:
            outcome = "failed" if problem.tag == "failure" else "error"
        elif skipped is not None:
            outcome = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
        else:
            outcome = "passed"
        report.counts[outcome] = report.counts.get(outcome, 0) + 1
        classname, name = case.get("classname", ""), case.get("name", "")
        if scenario := SCENARIO.search(name):
            report.scenarios[f"{scenario[1].upper()}-{scenario[2]}"] = (outcome, name)
        if problem is not None:  # a file that failed to load has one name, or the same twice
            whole = name and classname not in ("", name)
            test = f"{classname}::{name}" if whole else name or classname
            message = ((problem.get("message") or "").strip().splitlines() or [""])[0].strip()
            report.failures.append(Failure(test, outcome, message, problem.text or ""))
    return report


def fresh_xml(path: Path | None, since: float | None) -> str | None:
    """The text of the XML report at path if written since `since` (time.time()), else None."""
    try:
        if path is None or since is None or path.stat().st_mtime < since - 1.0:  # coarse clocks
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def read_junit(path: Path | None, since: float | None) -> JunitReport | None:
    """The junit report at path if written since `since` and whole, else None."""
    try:
        text = fresh_xml(path, since)
        return None if text is None else parse_junit(text)
    except ElementTree.ParseError:
        return None


def read_coverage(folder: Path, since: float | None) -> float | None:
    """The share of lines the unit tests ran, in percent, from the Cobertura report in
    folder (coverage.py's coverage.xml, vitest's cobertura-coverage.xml) if written since
    `since`; None without one."""
    for name in COVERAGE_REPORTS:
        try:
            text = fresh_xml(folder / name, since)
            rate = None if text is None else ElementTree.fromstring(text).get("line-rate")
            if rate is not None:
                return 100.0 * float(rate)
        except (ElementTree.ParseError, ValueError):
            continue
    return None
