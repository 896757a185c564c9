"""The live display, the summary table and the verdict: pure functions of the state."""

from __future__ import annotations

import time

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .parsing import Parser
from .state import SLOW_THRESHOLD, RunState, Status, Target

BAR_WIDTH = 24
MAX_SLOW_LISTED = 20

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


def bar(percent: float | None, elapsed: float, width: int = BAR_WIDTH) -> ProgressBar:
    """rich's bar: filled to a known percentage, a pulse while the total is unknown."""
    return ProgressBar(
        total=None if percent is None else 100.0,
        completed=0.0 if percent is None else max(0.0, min(percent, 100.0)),
        width=width,
        animation_time=elapsed,
        style="bar.back",
        complete_style="green",
        finished_style="green",
        pulse_style="cyan",
    )


def running_row(head: Text, target: Target, elapsed: float | None) -> Table:
    """A running target's line: name, bar, percentage, tests done, time."""
    parser = target.parser
    percent = parser.percent
    tail = Text(f" {percent:3.0f}%" if percent is not None else "     ")
    tail.append(f"  {fmt_count(parser):>9}  {fmt_seconds(elapsed):>6}")
    row = Table.grid()
    row.add_row(head, bar(percent, elapsed or 0.0), tail)
    return row


def target_rows(target: Target, name_width: int, now: float) -> list[RenderableType]:
    """One line per target (two while it runs: the test it is on under it)."""
    mark, style = MARKS[target.status]
    parser = target.parser
    head = Text.assemble("  ", (mark, style), " ", (target.name.ljust(name_width), "bold"), "  ")
    elapsed = target.elapsed(now)
    if target.status in (Status.PENDING, Status.SKIPPED):
        head.append(target.status.value, "dim")
        return [head]
    if target.status is Status.RUNNING:
        rows: list[RenderableType] = [running_row(head, target, elapsed)]
        if activity := parser.activity:
            rows.append(Text(f"      {activity}", style="dim", no_wrap=True, overflow="ellipsis"))
        return rows
    if target.status is Status.FAILED:
        failed = target.counts.get("failed", 0) + target.counts.get("error", 0)
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
            fmt_counts(target.counts),
            fmt_seconds(target.elapsed(now)),
        )
    parts: list[RenderableType] = [table]

    scenarios = [(t, sid, outcome, name) for t in state.targets if t.junit is not None
                 for sid, (outcome, name) in t.junit.scenarios.items()]
    if scenarios:
        listed = Table(title="Scenarios", title_justify="left")
        for column in ("Scenario", "Result", "Stage", "Target", "Test"):
            listed.add_column(column)
        for target, sid, outcome, name in scenarios:
            style = "green" if outcome == "passed" else "red"
            listed.add_row(sid, Text(outcome, style=style), target.stage, target.name, name)
        parts.append(listed)

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


