"""The run's state: stages of targets, each with its status, parser and output."""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .parsing import Parser, TimedTest
from .reports import JunitReport

STAGES = ("unit", "service", "integration")
LAYOUT_STAGES = {"multi": STAGES, "single": ("unit", "integration")}
# Tests slower than this (seconds) are listed in the summary for review.
SLOW_THRESHOLD = {"unit": 1.0, "service": 5.0, "integration": 5.0}
MAX_CAPTURED_LINES = 50_000


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
    report: Path | None = None  # the junit XML its stage script writes
    started_at: float | None = None  # time.time(), to tell this run's report from older ones
    junit: JunitReport | None = None  # read once the target ended

    @property
    def counts(self) -> dict[str, int]:
        """Tests by outcome: the junit report's once there is one, else the output's."""
        return self.junit.counts if self.junit is not None else self.parser.counts

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

