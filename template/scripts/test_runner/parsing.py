"""Progress, counts and failure sections of pytest and vitest, read from their output."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# What the runner asks of each test tool, through TEST_ARGS. Verbose lines give
# one line per test (name, outcome, "[ 45%]"); durations feed the slow-test
# review; no colours, so the output parses.
PYTEST_ARGS = "-v --durations=0 --color=no -p no:cacheprovider"
VITEST_ARGS = "--reporter=verbose --no-color"
TOOL_ARGS = {"pytest": PYTEST_ARGS, "vitest": VITEST_ARGS}

MAX_PARTIAL = 65_536
TAIL_LINES = 40

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


def failure_report(
    framework: str | None, lines: Sequence[str], junit: Sequence[str] = ()
) -> list[str]:
    """What to show of a failed target: its tool's failure sections, else the
    failures its junit report lists, else the tail of its output."""
    if framework == "pytest":
        report = pytest_failures(lines)
    elif framework == "vitest":
        report = vitest_failures(lines)
    else:
        report = []
    if report:
        return report
    if junit:
        return list(junit)
    tail = list(lines)
    while tail and not tail[-1].strip():
        tail.pop()
    tail = tail[-TAIL_LINES:]
    while tail and not tail[0].strip():
        tail.pop(0)
    return tail

