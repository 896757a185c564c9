"""The run's state: stages of targets, each with its status, parser and output."""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .parsing import JunitReport, Parser, TimedTest

STAGES = ("unit", "service", "integration")
LAYOUT_STAGES = {"multi": STAGES, "single": ("unit", "integration")}
CONTAINER_STAGES = ("service", "integration")  # a stack of containers per target
# Tests slower than this (seconds) are listed in the summary for review.
SLOW_THRESHOLD = {"unit": 1.0, "service": 5.0, "integration": 5.0}


class Status(enum.Enum):
    """In the order a stage shows the first its targets have."""

    RUNNING = "running"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    PENDING = "pending"
    SKIPPED = "not run"
    PASSED = "passed"


@dataclass
class Target:
    """One command of a stage: a service's tests, or the whole stack's."""

    stage: str
    name: str
    command: list[str]
    framework: str | None
    parser: Parser = field(default_factory=Parser)
    status: Status = Status.PENDING
    started: float | None = None  # time.monotonic()
    ended: float | None = None
    returncode: int | None = None
    output: deque[str] = field(default_factory=lambda: deque(maxlen=50_000))
    report: Path | None = None  # the junit XML its stage script writes
    junit: JunitReport | None = None  # read once the target ended
    coverage: float | None = None  # percent of lines its unit tests ran (their report)

    @property
    def counts(self) -> dict[str, int]:
        return self.junit.counts if self.junit is not None else self.parser.counts

    def elapsed(self, now: float) -> float | None:
        end = now if self.ended is None else self.ended
        return None if self.started is None else end - self.started

    def slow_tests(self) -> list[TimedTest]:
        slow = [t for t in self.parser.durations if t.seconds > SLOW_THRESHOLD[self.stage]]
        return sorted(slow, key=lambda t: t.seconds, reverse=True)


@dataclass
class Stage:
    name: str
    targets: list[Target]

    @property
    def status(self) -> Status:
        statuses = {t.status for t in self.targets}
        return next((status for status in Status if status in statuses), Status.SKIPPED)


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
