"""The live display and the summary, rendered once on a fixed-size console.

The live display is compared with snapshots/live-display.txt; after an
intended change, rewrite it with UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import difflib
import io
import os
from pathlib import Path

import pytest
from rich.console import Console
from runner_fakes import recorded
from test_runner import parsing, view
from test_runner import state as run_state

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "live-display.txt"
T0 = 100.0


def export(renderable) -> str:
    console = Console(record=True, width=100, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def fed(parser, text: str):
    parser.feed(text)
    parser.close()
    return parser


def sample_state(tmp_path: Path):
    """Mid-run: api at 52% on test_many[4], worker passed, web failed, jobs waiting."""
    mixed = recorded("pytest9-mixed.txt")
    cut = mixed.index("[ 52%]") + len("[ 52%]\n")
    api_parser = parsing.PytestParser()
    api_parser.feed(mixed[:cut] + "tests/test_outcomes.py::test_many[4] ")

    Target, Status = run_state.Target, run_state.Status
    unit = [
        Target("unit", "api", ["scripts/unit-tests.sh", "services/api"], "pytest",
               parser=api_parser, status=Status.RUNNING, started=T0),
        Target("unit", "jobs", ["scripts/unit-tests.sh", "services/jobs"], "pytest",
               parser=parsing.PytestParser()),
        Target("unit", "web", ["scripts/unit-tests.sh", "services/web"], "vitest",
               parser=fed(parsing.VitestParser(), recorded("vitest3-mixed.txt")),
               status=Status.FAILED, started=T0, ended=T0 + 4.5, returncode=1),
        Target("unit", "worker", ["scripts/unit-tests.sh", "services/worker"], "pytest",
               parser=fed(parsing.PytestParser(), recorded("pytest9-passing.txt")),
               status=Status.PASSED, started=T0, ended=T0 + 3.2, returncode=0),
    ]  # fmt: skip
    service = [
        Target("service", name, ["scripts/test-service.sh", name], "pytest",
               parser=parsing.PytestParser())
        for name in ("api", "jobs", "web", "worker")
    ]  # fmt: skip
    integration = [
        Target("integration", "stack", ["scripts/run-integration-tests.sh"], "pytest",
               parser=parsing.PytestParser())
    ]  # fmt: skip
    stages = [
        run_state.Stage("unit", unit),
        run_state.Stage("service", service),
        run_state.Stage("integration", integration),
    ]
    return run_state.RunState(root=tmp_path, layout="multi", stages=stages, started=T0)


def rows(text: str) -> dict[str, str]:
    """Row text by its first two words ('● api'), stage headers by name."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in "●✓✗○":
            found.setdefault(f"{words[0]} {words[1]}", line)
        elif words and not line.startswith(" "):
            found[words[0]] = line
    return found


def test_live_display_rows(tmp_path: Path) -> None:
    text = export(view.render(sample_state(tmp_path), now=T0 + 12.3))
    found = rows(text)

    running = found["● api"]
    filled = round(view.BAR_WIDTH * 0.52)
    # Without colours rich draws only the filled part of its bar.
    assert "━" * filled + " " * (view.BAR_WIDTH - filled) + "  52%" in running
    assert " 52%" in running and "11/21" in running and "12.3s" in running
    lines = text.splitlines()
    under = lines[lines.index(running) + 1]
    assert under.strip() == "tests/test_outcomes.py::test_many[4]"

    assert found["✓ worker"].split()[2:] == ["8/8", "3.2s"]
    assert found["✗ web"].split()[2:] == ["2", "failed", "14/14", "4.5s"]
    assert found["○ jobs"].split()[2:] == ["pending"]
    assert found["unit"].split() == ["unit", "running"]
    assert found["service"].split() == ["service"]
    assert sum(line.lstrip().startswith("○") for line in lines) == 6  # jobs + 5 waiting


def bar_cells(percent: float | None, elapsed: float = 0.0) -> dict[str, int]:
    """Cells of the bar by colour, as a colour terminal gets it."""
    console = Console(width=100, file=io.StringIO(), color_system="truecolor")
    cells: dict[str, int] = {}
    for segment in console.render(view.bar(percent, elapsed)):
        if segment.text.strip() and segment.style is not None and segment.style.color:
            name = segment.style.color.name
            cells[name] = cells.get(name, 0) + len(segment.text)
    return cells


def test_the_bar_is_richs_own() -> None:
    """rich's ProgressBar: green up to the percentage, its background colour after."""
    back = Console().get_style("bar.back").color.name
    assert bar_cells(52) == {"green": 12, back: 12}
    assert bar_cells(0) == {back: view.BAR_WIDTH}
    assert bar_cells(100) == {"green": view.BAR_WIDTH}
    assert bar_cells(250) == {"green": view.BAR_WIDTH}  # clamped
    assert sum(bar_cells(None).values()) == view.BAR_WIDTH  # the pulse fills the width


def test_live_display_snapshot(tmp_path: Path) -> None:
    text = export(view.render(sample_state(tmp_path), now=T0 + 12.3))
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), text.splitlines(True), "snapshot", "rendered"
            )
        )
        pytest.fail(f"live display changed (UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


def test_live_display_unknown_total_pulses(tmp_path: Path) -> None:
    """vitest prints no total before its summary: the bar moves instead of filling."""
    state = sample_state(tmp_path)
    web = state.stages[0].targets[2]
    web.status, web.ended, web.parser = run_state.Status.RUNNING, None, parsing.VitestParser()
    text = recorded("vitest3-mixed.txt")
    web.parser.feed(text[: text.index("handles case 3 ")])
    frames = {rows(export(view.render(state, now=T0 + t / 8)))["● web"] for t in range(4)}
    assert len(frames) == 4, frames  # a different frame every 1/8 s
    for frame in frames:
        assert "━━━━" in frame and "%" not in frame and frame.split()[-2] == "7"


def test_summary_after_a_failure(tmp_path: Path) -> None:
    state = sample_state(tmp_path)
    Status = run_state.Status
    api = state.stages[0].targets[0]
    api.parser = fed(parsing.PytestParser(), recorded("pytest9-mixed.txt"))
    api.status, api.ended, api.returncode = Status.FAILED, T0 + 20, 1
    state.stages[0].targets[1].status = Status.SKIPPED
    for stage in state.stages[1:]:
        for target in stage.targets:
            target.status = Status.SKIPPED
    state.ended = T0 + 21
    text = export(view.render_summary(state))
    table = {
        tuple(cell.strip() for cell in line.strip("│").split("│")[:3]): line
        for line in text.splitlines()
        if line.startswith("│")
    }
    assert "✓ passed" in table[("unit", "worker", "✓ passed")]
    assert "7 passed, 1 skipped" in table[("unit", "worker", "✓ passed")]
    assert "2 failed" in table[("unit", "web", "✗ failed")]
    assert ("integration", "stack", "○ not run") in table
    assert "Slow tests to review" in text
    assert "tests/test_ok.py::test_slow_enough (call)" in text
    assert "src/slow.test.js > slow things > takes a while" in text
    verdict = text.strip().splitlines()[-1]
    assert verdict.startswith("✗ 2 of 9 targets failed (unit/api, unit/web) in 21.0s")
    assert verdict.endswith("not run: service, integration")


def test_summary_all_passed(tmp_path: Path) -> None:
    state = sample_state(tmp_path)
    for target in state.targets:
        target.status, target.ended = run_state.Status.PASSED, T0 + 1
        target.started = T0
    state.ended = T0 + 2.5
    verdict = export(view.render_summary(state)).strip().splitlines()[-1]
    assert verdict == "✓ all 9 targets passed in 2.5s"


def test_summary_counts_from_the_junit_report(tmp_path: Path) -> None:
    """Once a target's report is read, its counts are the report's, in the row and the table."""
    state = sample_state(tmp_path)
    web = state.stages[0].targets[2]
    web.junit = parsing.parse_junit(recorded("vitest3-collect_error.junit.xml"))
    row = rows(export(view.render(state, now=T0 + 12.3)))["✗ web"]
    assert row.split()[2:4] == ["1", "failed"]  # the output's summary said 2 failed
    state.ended = T0 + 21
    table = export(view.render_summary(state))
    unit_web = [line for line in table.splitlines() if "│ web " in line and "✗ failed" in line]
    assert len(unit_web) == 1 and "1 passed, 1 failed" in unit_web[0], table
    assert "covered" not in table, "no coverage report, no figure"


def test_summary_shows_the_coverage_of_a_unit_target(tmp_path: Path) -> None:
    """A unit target whose tests wrote a coverage report shows the share of lines they ran."""
    state = sample_state(tmp_path)
    api = state.stages[0].targets[0]
    api.junit = parsing.parse_junit(recorded("pytest9-passing.junit.xml"))
    api.coverage = 84.4
    state.ended = T0 + 21
    table = export(view.render_summary(state))
    unit_api = [line for line in table.splitlines() if "│ api " in line and "unit" in line]
    assert len(unit_api) == 1 and "7 passed, 1 skipped, 84% of lines covered" in unit_api[0], table


SCENARIO_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.integration.test_llm_runs" name="test_int_001_smoke_run_completes" time="1.0"/>
<testcase classname="tests.integration.test_llm_runs" name="test_int_002_provider_failure_surfaces"
 time="2.0"><failure message="assert 'succeeded' == 'failed'">boom</failure></testcase>
<testcase classname="tests.integration.test_stack" name="test_every_container_is_healthy" time="0.1"/>
</testsuite></testsuites>
"""


def test_summary_lists_scenarios_by_id(tmp_path: Path) -> None:
    """Tests named test_<id>_<nnn>_... appear by scenario id (INT-001), with their outcome."""
    report = parsing.parse_junit(SCENARIO_JUNIT)
    assert report.scenarios == {
        "INT-001": ("passed", "test_int_001_smoke_run_completes"),
        "INT-002": ("failed", "test_int_002_provider_failure_surfaces"),
    }
    state = sample_state(tmp_path)
    stack = state.stages[-1].targets[0]
    stack.junit = report
    state.ended = T0 + 3
    text = export(view.render_summary(state))
    assert "Scenarios" in text, text
    lines = {line.split("│")[1].strip(): line for line in text.splitlines() if "INT-00" in line}
    assert set(lines) == {"INT-001", "INT-002"}, text
    assert "passed" in lines["INT-001"] and "failed" in lines["INT-002"], text
    assert "Scenarios" not in export(view.render_summary(sample_state(tmp_path / "none")))
