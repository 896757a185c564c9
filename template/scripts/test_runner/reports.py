"""Final counts and failures from the junit XML the stage scripts write.

scripts/lib/stack.sh (run_suite) asks pytest (--junitxml) and vitest (the
junit reporter) for a report in the target's .artifacts folder. Once a target
ends, its report says what ran, without parsing summary lines: pytest 8/9 and
vitest 3 write the same <testcase> elements with a <failure>, <error> or
<skipped> child.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

# Lines of a failure's text kept per test in a report without the tool's sections.
FAILURE_LINES = 15


@dataclass
class Failure:
    test: str
    outcome: str  # failed | error
    message: str
    text: str


# Tests named after a scenario id (`test_int_001_smoke_run_completes` -> INT-001): the
# summary lists them by id, passed or not.
SCENARIO = re.compile(r"(?:^|[^a-z])test_([a-z]{2,5})_(\d{3})(?:_|\b)")


@dataclass
class JunitReport:
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    # scenario id -> (outcome, test name), in the report's order
    scenarios: dict[str, tuple[str, str]] = field(default_factory=dict)

    def failure_lines(self) -> list[str]:
        """The failed tests, their message and the start of their traceback."""
        lines: list[str] = []
        for failure in self.failures:
            head = f"{failure.outcome.upper()} {failure.test}"
            lines.append(f"{head}: {failure.message}" if failure.message else head)
            body = [line for line in failure.text.splitlines() if line.strip()]
            lines += [f"    {line}" for line in body[:FAILURE_LINES]]
            if len(body) > FAILURE_LINES:
                lines.append(f"    ... {len(body) - FAILURE_LINES} more lines")
        return lines


def outcome_of(case: ElementTree.Element) -> str:
    for tag in ("failure", "error"):
        if case.find(tag) is not None:
            return "failed" if tag == "failure" else "error"
    skipped = case.find("skipped")
    if skipped is not None:
        return "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
    return "passed"


def test_name(case: ElementTree.Element) -> str:
    classname, name = case.get("classname", ""), case.get("name", "")
    if not classname or not name or classname == name:
        return name or classname  # a file that failed to load
    return f"{classname}::{name}"


def first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def parse_junit(text: str) -> JunitReport:
    """Counts by outcome and the failures of one junit document."""
    root = ElementTree.fromstring(text)
    report = JunitReport()
    for case in root.iter("testcase"):
        outcome = outcome_of(case)
        report.counts[outcome] = report.counts.get(outcome, 0) + 1
        scenario = SCENARIO.search(case.get("name", ""))
        if scenario:
            scenario_id = f"{scenario.group(1).upper()}-{scenario.group(2)}"
            report.scenarios[scenario_id] = (outcome, case.get("name", ""))
        if outcome in ("failed", "error"):
            element = case.find("failure" if outcome == "failed" else "error")
            assert element is not None
            message = first_line(element.get("message"))
            report.failures.append(Failure(test_name(case), outcome, message, element.text or ""))
    return report


def read_junit(path: Path | None, since: float | None) -> JunitReport | None:
    """The report at path if it was written at or after `since` (time.time()), else None.

    A report from an earlier run, or one that does not parse (the tool was
    killed while writing it), is no report: the streamed output counts then.
    """
    if path is None or since is None:
        return None
    try:
        if path.stat().st_mtime < since - 1.0:  # coarse file-system clocks
            return None
        return parse_junit(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ElementTree.ParseError):
        return None
