"""Final counts and failures from the junit reports pytest 8/9 and vitest 3 wrote.

The reports under recorded/ come from the same runs as the recorded output
(recorded/record.sh); the fake projects leave them where the stage scripts do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from runner_fakes import INSTANCE, FakeProject, recorded
from test_runner import parsing

MakeProject = Callable[..., FakeProject]

# What the junit report says, next to what the summary line said (in comments):
# pytest reports an xpass as a pass, vitest a todo as a skip, and vitest lists
# a test file that failed to load as a failure (its summary line counts only tests).
EXPECTED = {
    "pytest8-mixed": {"passed": 16, "failed": 2, "error": 1, "skipped": 1, "xfailed": 1},
    "pytest9-mixed": {"passed": 16, "failed": 2, "error": 1, "skipped": 1, "xfailed": 1},
    "pytest8-passing": {"passed": 7, "skipped": 1},
    "pytest9-passing": {"passed": 7, "skipped": 1},
    "pytest8-collect_error": {"error": 1},
    "pytest9-collect_error": {"error": 1},
    "vitest3-mixed": {"passed": 10, "failed": 2, "skipped": 2},  # 1 skipped | 1 todo
    "vitest3-passing": {"passed": 4, "skipped": 1},
    "vitest3-collect_error": {"passed": 1, "failed": 1},  # Tests 1 passed (1)
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts(name: str) -> None:
    report = parsing.parse_junit(recorded(f"{name}.junit.xml"))
    assert report.counts == EXPECTED[name]
    failed = EXPECTED[name].get("failed", 0) + EXPECTED[name].get("error", 0)
    assert len(report.failures) == failed


def test_failures_name_the_test_and_its_message() -> None:
    pytest_report = parsing.parse_junit(recorded("pytest9-mixed.junit.xml"))
    tests = {(f.outcome, f.test) for f in pytest_report.failures}
    assert ("failed", "tests.test_outcomes::test_fails") in tests
    assert ("error", "tests.test_outcomes::test_errors_in_setup") in tests
    lines = pytest_report.failure_lines()
    setup_error = "ERROR tests.test_outcomes::test_errors_in_setup: failed on setup with"
    assert f'{setup_error} "RuntimeError: database unreachable"' in lines
    assert "    E       RuntimeError: database unreachable" in lines

    vitest_report = parsing.parse_junit(recorded("vitest3-collect_error.junit.xml"))
    (failure,) = vitest_report.failures
    assert failure.test == "src/broken.test.js"
    assert failure.message.startswith("Cannot find module './does-not-exist.js'")


def test_long_failures_are_cut() -> None:
    text = "\n".join(f"line {i}" for i in range(40))
    report = parsing.JunitReport(failures=[parsing.Failure("t", "failed", "boom", text)])
    lines = report.failure_lines()
    assert lines[0] == "FAILED t: boom"
    assert lines[1 : parsing.FAILURE_LINES + 1] == [f"    line {i}" for i in range(parsing.FAILURE_LINES)]
    assert lines[-1] == f"    ... {40 - parsing.FAILURE_LINES} more lines"


def test_only_this_runs_report_counts(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    assert parsing.read_junit(path, time.time()) is None  # none written
    path.write_text(recorded("pytest9-passing.junit.xml"))
    started = time.time()
    assert parsing.read_junit(path, started).counts == {"passed": 7, "skipped": 1}
    os.utime(path, (started - 3600, started - 3600))  # left by an earlier run
    assert parsing.read_junit(path, started) is None
    assert parsing.read_junit(None, started) is None
    path.write_text("<testsuites><testsuite>")  # the tool was killed while writing it
    assert parsing.read_junit(path, started) is None


# ------------------------------------------------------------ through the runner


def finish_line(stdout: str, stage: str, name: str) -> str:
    prefix = f"[{stage}] "
    for line in stdout.splitlines():
        if line.startswith(prefix) and line.split()[2] == name and "started:" not in line:
            return line
    raise AssertionError(f"no finish line for {stage}/{name} in:\n{stdout}")


def test_final_counts_come_from_the_report(fake_project: MakeProject) -> None:
    """vitest's summary line counts 1 passed test; its report also lists the broken file."""
    project = fake_project({"web": "node"})
    project.behave("unit", "web", "fail", "vitest3-collect_error.txt")
    result = project.run("--no-live", "--stage", "unit")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (project.root / ".artifacts" / INSTANCE / "unit" / "web" / "junit.xml").is_file()
    assert finish_line(result.stdout, "unit", "web").endswith(": 1 passed, 1 failed; exit 1")
    # The tool's own failure blocks are still what the report shows.
    assert "Failed Suites 1" in result.stdout


def test_without_a_report_the_output_counts(fake_project: MakeProject) -> None:
    project = fake_project({"web": "node"}, reports=False)
    project.behave("unit", "web", "fail", "vitest3-collect_error.txt")
    result = project.run("--no-live", "--stage", "unit")
    assert result.returncode == 1, result.stdout + result.stderr
    assert not (project.root / ".artifacts").exists()
    assert finish_line(result.stdout, "unit", "web").endswith(": 1 passed; exit 1")


def test_an_older_report_is_ignored(fake_project: MakeProject) -> None:
    project = fake_project({"api": "python"})
    project.behave("service", "api", "crash")
    old = project.root / ".artifacts" / INSTANCE / "service-api" / "junit.xml"
    old.parent.mkdir(parents=True)
    old.write_text(recorded("pytest9-mixed.junit.xml"))
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    result = project.run("--no-live", "--stage", "service")
    assert result.returncode == 1, result.stdout + result.stderr
    assert finish_line(result.stdout, "service", "api").endswith(" exit 3")
    assert "Cannot connect to the Docker daemon" in result.stdout
    assert "test_fails" not in result.stdout


def test_the_reports_failures_stand_in_for_missing_sections(fake_project: MakeProject) -> None:
    """Output without the tool's failure sections (cut short, or an unknown format)."""
    project = fake_project({"api": "python"})
    (project.root / "recorded" / "terse.txt").write_text("tests/test_outcomes.py F.E\n")
    (project.root / "recorded" / "terse.junit.xml").write_text(recorded("pytest9-mixed.junit.xml"))
    project.behave("unit", "api", "fail", "terse.txt")
    result = project.run("--no-live", "--stage", "unit")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "FAILED tests.test_outcomes::test_fails: AssertionError: assert [1, 2, 3] == [1, 2, 4]" in out
    assert "ERROR tests.test_outcomes::test_errors_in_setup" in out
    assert "tests/test_outcomes.py F.E" not in out  # the tail gives way to the report


COBERTURA = '<?xml version="1.0" ?>\n<coverage version="7.6" line-rate="{rate}" branch-rate="0"></coverage>\n'


@pytest.mark.parametrize("name", ["coverage.xml", "cobertura-coverage.xml"])
def test_coverage_is_read_from_the_cobertura_report_of_either_tool(tmp_path: Path, name: str) -> None:
    """pytest-cov's coverage.xml and vitest's cobertura-coverage.xml give the share of lines
    run; a report older than the run, a broken one or none gives None (no figure shown)."""
    started = time.time()
    assert parsing.read_coverage(tmp_path, started) is None
    report = tmp_path / name
    report.write_text(COBERTURA.format(rate="0.8421"))
    assert parsing.read_coverage(tmp_path, started) == pytest.approx(84.21)
    os.utime(report, (started - 60, started - 60))
    assert parsing.read_coverage(tmp_path, started) is None, "a report of an earlier run"
    report.write_text(COBERTURA.format(rate="0.5")[:40])
    assert parsing.read_coverage(tmp_path, started) is None, "a truncated report"
