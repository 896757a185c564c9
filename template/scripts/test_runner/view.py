"""The live display and the summary: pure functions of the state."""

from __future__ import annotations

import time

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .state import SLOW_THRESHOLD, RunState, Status, Target

BAR_WIDTH, MAX_SLOW_LISTED = 24, 20
MARKS = {Status.PENDING: ("○", "dim"), Status.RUNNING: ("●", "bold cyan"),
         Status.PASSED: ("✓", "bold green"), Status.FAILED: ("✗", "bold red"),
         Status.SKIPPED: ("○", "dim"), Status.INTERRUPTED: ("✗", "bold yellow")}
COUNT_ORDER = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "todo")


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.1f}s" if seconds < 60 else "{}m{:02d}s".format(*divmod(int(seconds), 60))


def fmt_counts(counts: dict[str, int]) -> str:
    keys = [*COUNT_ORDER, *(k for k in counts if k not in COUNT_ORDER and k != "warnings")]
    return ", ".join(f"{counts[k]} {k}" for k in keys if counts.get(k))


def fmt_results(target: Target) -> str:
    """Its test counts, and the share of lines its unit tests ran where a report says."""
    covered = f"{target.coverage:.0f}% of lines covered" if target.coverage is not None else ""
    return ", ".join(filter(None, [fmt_counts(target.counts), covered]))


def fmt_done(target: Target) -> str:
    done, total = target.parser.done, target.parser.total
    return f"{done}/{total}" if total is not None else str(done or "")


def bar(percent: float | None, elapsed: float) -> ProgressBar:
    """rich's bar: filled to a known percentage, a pulse while the total is unknown."""
    return ProgressBar(
        total=None if percent is None else 100.0,
        completed=0.0 if percent is None else max(0.0, min(percent, 100.0)),
        width=BAR_WIDTH, animation_time=elapsed, style="bar.back",
        complete_style="green", finished_style="green", pulse_style="cyan",
    )


def target_rows(target: Target, name_width: int, now: float) -> list[RenderableType]:
    """One line per target; a running one has a bar, and the test it is on under it."""
    mark, style = MARKS[target.status]
    head = Text.assemble("  ", (mark, style), " ", (target.name.ljust(name_width), "bold"), "  ")
    elapsed = target.elapsed(now)
    if target.status in (Status.PENDING, Status.SKIPPED):
        return [head.append(target.status.value, "dim")]
    if target.status is Status.RUNNING:
        percent = target.parser.percent
        tail = Text(f" {percent:3.0f}%" if percent is not None else "     ")
        tail.append(f"  {fmt_done(target):>9}  {fmt_seconds(elapsed):>6}")
        row = Table.grid()
        row.add_row(head, bar(percent, elapsed or 0.0), tail)
        activity = target.parser.activity
        under = Text(f"      {activity}", style="dim", no_wrap=True, overflow="ellipsis")
        return [row, under] if activity else [row]
    if target.status is Status.FAILED:
        failed = target.counts.get("failed", 0) + target.counts.get("error", 0)
        head.append(f"{failed} failed  " if failed else f"exit {target.returncode}  ", "red")
    elif target.status is Status.INTERRUPTED:
        head.append("interrupted  ", "yellow")
    return [head.append(f"{fmt_done(target)}  {fmt_seconds(elapsed)}".strip())]


def render(state: RunState, now: float) -> Group:
    """The live display: a header per stage and a row per target."""
    width = max((len(t.name) for t in state.targets), default=0)
    parts: list[RenderableType] = []
    for stage in state.stages:
        status = stage.status
        parts.append(Text.assemble((stage.name, "bold")))
        if status is not Status.PENDING:
            parts[-1].append(f"  {status.value}", MARKS[status][1])
        parts += [row for target in stage.targets for row in target_rows(target, width, now)]
    return Group(*parts)


def table(title: str, columns: str, rows: list[tuple[str | Text, ...]]) -> Table:
    grid = Table(title=title, title_justify="left")
    for column in columns.split():
        grid.add_column(column, justify="right" if column == "Time" else "left")
    for row in rows:
        grid.add_row(*row)
    return grid


def render_summary(state: RunState) -> Group:
    """The table printed at the end, scenarios, slow tests to review, and the verdict."""
    end = time.monotonic() if state.ended is None else state.ended
    parts: list[RenderableType] = [table("Test summary", "Stage Target Result Tests Time", [
        (t.stage, t.name, Text(f"{MARKS[t.status][0]} {t.status.value}", MARKS[t.status][1]),
         fmt_results(t), fmt_seconds(t.elapsed(end)))
        for t in state.targets
    ])]
    scenarios = [(sid, Text(outcome, "green" if outcome == "passed" else "red"), t.stage, t.name,
                  name) for t in state.targets if t.junit is not None
                 for sid, (outcome, name) in t.junit.scenarios.items()]
    if scenarios:
        parts.append(table("Scenarios", "Scenario Result Stage Target Test", scenarios))
    slow = sorted(((t, timed) for t in state.targets for timed in t.slow_tests()),
                  key=lambda pair: pair[1].seconds, reverse=True)
    if slow:
        parts.append(table("Slow tests to review", "Stage Target Time Test", [
            (t.stage, t.name, f"{timed.seconds:.2f}s",
             f"{timed.name} ({timed.phase})" if timed.phase else timed.name)
            for t, timed in slow[:MAX_SLOW_LISTED]
        ]))
        unit, other = SLOW_THRESHOLD["unit"], SLOW_THRESHOLD["service"]
        note = f"(over {unit:g} s in unit, over {other:g} s in service and integration)"
        parts.append(Text(note, style="dim"))
        if len(slow) > MAX_SLOW_LISTED:
            parts.append(Text(f"... and {len(slow) - MAX_SLOW_LISTED} more", style="dim"))
    return Group(*parts, verdict(state))


def verdict(state: RunState) -> Text:
    took = state.ended - state.started if state.started is not None and state.ended else None
    suffix = f" in {fmt_seconds(took)}" if took is not None else ""
    failed = [t for t in state.targets if t.status is Status.FAILED]
    if state.interrupted:
        return Text(f"✗ interrupted{suffix}", style="bold yellow")
    if not failed:
        return Text(f"✓ all {len(state.targets)} targets passed{suffix}", style="bold green")
    names = ", ".join(f"{t.stage}/{t.name}" for t in failed)
    text = f"✗ {len(failed)} of {len(state.targets)} targets failed ({names}){suffix}"
    not_run = [s.name for s in state.stages if s.status is Status.SKIPPED]
    return Text(text + (f"; not run: {', '.join(not_run)}" if not_run else ""), style="bold red")
