"""The runner's output parsers, against real pytest 8, pytest 9 and vitest 3 output.

The files under recorded/ were produced by recorded/record.sh (see its header
and recorded/README.md), with exactly the TEST_ARGS the runner sets.
"""

from __future__ import annotations

import pytest
from runner_fakes import recorded
from test_runner import parsing
from test_runner import state as run_state

PYTEST_VERSIONS = ["pytest8", "pytest9"]

# name -> (total, done, counts)
EXPECTED = {
    "mixed": (
        21,
        21,
        {"failed": 2, "passed": 15, "skipped": 1, "xfailed": 1, "xpassed": 1, "error": 1},
    ),
    "passing": (8, 8, {"passed": 7, "skipped": 1}),
    "collect_error": (1, 0, {"error": 1}),
}
VITEST_EXPECTED = {
    "mixed": (14, 14, {"failed": 2, "passed": 10, "skipped": 1, "todo": 1}),
    "passing": (5, 5, {"passed": 4, "skipped": 1}),
    "collect_error": (1, 1, {"passed": 1}),
}


def feed_all(parser, text: str, chunk: int | None = None) -> list[str]:
    """Feed text in chunks of `chunk` characters (all at once when None)."""
    chunk = chunk or len(text) or 1
    lines: list[str] = []
    for start in range(0, len(text), chunk):
        lines += parser.feed(text[start : start + chunk])
    return lines + parser.close()


# ---------------------------------------------------------------------- pytest


@pytest.mark.parametrize("version", PYTEST_VERSIONS)
@pytest.mark.parametrize("suite", sorted(EXPECTED))
@pytest.mark.parametrize("chunk", [None, 1, 7, 4096], ids=lambda c: f"chunk:{c or 'all'}")
def test_pytest_totals_and_counts(version: str, suite: str, chunk) -> None:
    parser = parsing.PytestParser()
    feed_all(parser, recorded(f"{version}-{suite}.txt"), chunk)
    total, done, counts = EXPECTED[suite]
    assert (parser.total, parser.done, parser.counts) == (total, done, counts)
    assert parser.finished
    assert parser.current == ""
    assert parser.activity == parser.last_line  # after the tests: what the script does next


@pytest.mark.parametrize("version", PYTEST_VERSIONS)
def test_pytest_progress_mid_run(version: str) -> None:
    """Progress from '[ 52%]', the running test from the name pytest prints first."""
    text = recorded(f"{version}-mixed.txt")
    cut = text.index("[ 52%]") + len("[ 52%]\n")
    parser = parsing.PytestParser()
    parser.feed(text[:cut])
    assert (parser.total, parser.done, parser.percent) == (21, 11, 52.0)
    assert parser.counts == {
        "passed": 6,
        "failed": 1,
        "error": 1,
        "skipped": 1,
        "xfailed": 1,
        "xpassed": 1,
    }
    assert not parser.finished

    # pytest -v writes the test's name, runs it, then writes the outcome.
    parser.feed("tests/test_outcomes.py::test_many[4] ")
    assert parser.activity == "tests/test_outcomes.py::test_many[4]"
    assert parser.done == 11
    parser.feed("PASSED")
    assert parser.done == 12  # counted as soon as the outcome shows
    parser.feed("                              [ 57%]")
    assert parser.percent == 57.0
    parser.feed("\ntests/test_outcomes.py::test_many[5] ")
    assert (parser.done, parser.percent) == (12, 57.0)
    assert parser.activity == "tests/test_outcomes.py::test_many[5]"


def test_pytest_names_with_spaces() -> None:
    text = recorded("pytest9-passing.txt")
    head = text[: text.index("tests/test_ok.py::test_words[gamma with space]")]
    parser = parsing.PytestParser()
    parser.feed(head + "tests/test_ok.py::test_words[gamma with space] ")
    assert parser.activity == "tests/test_ok.py::test_words[gamma with space]"
    assert parser.done == 6


def test_pytest_before_collection_shows_last_line() -> None:
    """While an image builds there is no test yet: the last output line stands in."""
    parser = parsing.PytestParser()
    parser.feed("#5 [api 2/6] RUN pip install -r requirements.txt\n#5 0.4s ")
    assert parser.activity == "#5 [api 2/6] RUN pip install -r requirements.txt"
    assert parser.total is None and parser.percent is None


def test_pytest_deselected_and_xdist_lines() -> None:
    parser = parsing.PytestParser()
    parser.feed("collecting ... collected 10 items / 2 deselected / 8 selected\n")
    assert parser.total == 8
    xdist = parsing.PytestParser()
    xdist.feed("created: 2/2 workers\n2 workers [4 items]\n\n")
    xdist.feed("[gw0] [ 25%] PASSED tests/test_a.py::test_one \n")
    xdist.feed("[gw1] [ 50%] FAILED tests/test_a.py::test_two \n")
    assert (xdist.total, xdist.done, xdist.percent) == (4, 2, 50.0)
    assert xdist.counts == {"passed": 1, "failed": 1}


def test_pytest_colours_and_compose_prefixes_are_ignored() -> None:
    parser = parsing.PytestParser()
    parser.feed("api-1  | collected 2 items\n")
    parser.feed("\x1b[32mtests/test_a.py::test_one PASSED\x1b[0m   [ 50%]\n")
    assert (parser.total, parser.done, parser.percent) == (2, 1, 50.0)


@pytest.mark.parametrize("version", PYTEST_VERSIONS)
def test_pytest_durations(version: str) -> None:
    parser = parsing.PytestParser()
    feed_all(parser, recorded(f"{version}-mixed.txt"))
    slow = [d for d in parser.durations if d.seconds > 1]
    assert [(d.phase, d.name) for d in slow] == [("call", "tests/test_outcomes.py::test_slow")]
    assert slow[0].seconds < 2.0  # the test sleeps 1.3 s


@pytest.mark.parametrize("version", PYTEST_VERSIONS)
@pytest.mark.parametrize(
    ("stage", "slow"),
    [("unit", ["tests/test_outcomes.py::test_slow"]), ("service", []), ("integration", [])],
)
def test_pytest_outliers_by_stage(version: str, stage: str, slow) -> None:
    """Over 1 s is slow for a unit test; service and integration tests get 5 s."""
    target = run_state.Target(stage, "api", ["true"], "pytest", parser=parsing.PytestParser())
    feed_all(target.parser, recorded(f"{version}-mixed.txt"))
    assert [t.name for t in target.slow_tests()] == slow


@pytest.mark.parametrize("version", PYTEST_VERSIONS)
def test_pytest_failures_section(version: str) -> None:
    parser = parsing.PytestParser()
    lines = feed_all(parser, recorded(f"{version}-mixed.txt"))
    report = parsing.failure_report(parser, lines)
    assert report[0].strip("= ") == "ERRORS"
    assert any(line.strip("= ") == "FAILURES" for line in report)
    assert any(line.strip("= ") == "short test summary info" for line in report)
    assert "RuntimeError: database unreachable" in "\n".join(report)
    assert "ValueError: bad value in class test" in "\n".join(report)
    assert report[-1].startswith("==== 2 failed, 15 passed")
    # None of the passing noise, the header or the durations.
    text = "\n".join(report)
    for noise in ("test_passes PASSED", "test session starts", "slowest durations", "[ 52%]"):
        assert noise not in text, f"{noise!r} leaked into the failure report:\n{text}"


@pytest.mark.parametrize("version", PYTEST_VERSIONS)
def test_pytest_collection_error_section(version: str) -> None:
    parser = parsing.PytestParser()
    lines = feed_all(parser, recorded(f"{version}-collect_error.txt"))
    report = parsing.failure_report(parser, lines)
    text = "\n".join(report)
    assert report[0].strip("= ") == "ERRORS"
    assert "ModuleNotFoundError: No module named 'does_not_exist'" in text
    assert "Interrupted: 1 error during collection" in text
    assert report[-1].strip("= ").startswith("1 error in")


# ---------------------------------------------------------------------- vitest


@pytest.mark.parametrize("suite", sorted(VITEST_EXPECTED))
@pytest.mark.parametrize("chunk", [None, 1, 5, 4096], ids=lambda c: f"chunk:{c or 'all'}")
def test_vitest_totals_and_counts(suite: str, chunk) -> None:
    parser = parsing.VitestParser()
    feed_all(parser, recorded(f"vitest3-{suite}.txt"), chunk)
    total, done, counts = VITEST_EXPECTED[suite]
    assert (parser.total, parser.done, parser.counts) == (total, done, counts)
    assert parser.finished and parser.percent == 100.0


def test_vitest_progress_mid_run() -> None:
    """No total until the summary; the last finished test stands for the current one."""
    text = recorded("vitest3-mixed.txt")
    cut = text.index("handles case 3 ")
    cut = text.index("\n", cut) + 1
    parser = parsing.VitestParser()
    parser.feed(text[:cut])
    assert (parser.total, parser.done, parser.percent) == (None, 8, None)
    assert parser.counts == {"passed": 5, "failed": 1, "skipped": 2}
    assert parser.activity == "src/math.test.js > math > handles case 3"


def test_vitest_durations_and_outliers() -> None:
    target = run_state.Target("unit", "web", ["true"], "vitest", parser=parsing.VitestParser())
    feed_all(target.parser, recorded("vitest3-mixed.txt"))
    assert len(target.parser.durations) == 12  # skipped and todo tests have none
    slow = target.slow_tests()
    assert [t.name for t in slow] == ["src/slow.test.js > slow things > takes a while"]
    assert 1.3 <= slow[0].seconds < 2.0  # the test waits 1.3 s
    target.stage = "integration"
    assert target.slow_tests() == []


def test_vitest_file_summary_lines_are_not_tests() -> None:
    parser = parsing.VitestParser()
    parser.feed(" ✓ src/a.test.ts (5 tests) 3ms\n ✓ src/a.test.ts > works 1ms\n")
    assert parser.done == 1


def test_vitest_failures_section() -> None:
    parser = parsing.VitestParser()
    lines = feed_all(parser, recorded("vitest3-mixed.txt"))
    report = parsing.failure_report(parser, lines)
    text = "\n".join(report)
    assert "Failed Tests 2" in report[0]
    assert "AssertionError: expected [ 1, 2, 3 ] to deeply equal [ 1, 2, 4 ]" in text
    assert "TypeError: bad value in slow suite" in text
    assert "Tests  2 failed | 10 passed | 1 skipped | 1 todo (14)" in text
    assert "✓ src/math.test.js > math > adds" not in text
    assert " RUN " not in text


def test_vitest_suite_error_section() -> None:
    parser = parsing.VitestParser()
    lines = feed_all(parser, recorded("vitest3-collect_error.txt"))
    text = "\n".join(parsing.failure_report(parser, lines))
    assert "Failed Suites 1" in text
    assert "Cannot find module './does-not-exist.js'" in text
    assert "✓ src/good.test.js > good" not in text


# ------------------------------------------------------------- tail fallback


@pytest.mark.parametrize("framework", ["pytest", "vitest", None])
def test_tail_when_the_tool_never_ran(framework) -> None:
    lines = [f"step {i}" for i in range(100)] + ["Error: docker daemon not running", "", ""]
    parser = parsing.make_parser(framework)
    feed_all(parser, "\n".join(lines))
    report = parsing.failure_report(parser, lines)
    assert len(report) == parsing.TAIL_LINES
    assert report[-1] == "Error: docker daemon not running"
    assert report[0] == f"step {100 - parsing.TAIL_LINES + 1}"


def test_tail_when_pytest_passed_but_the_script_failed() -> None:
    parser = parsing.PytestParser()
    lines = feed_all(parser, recorded("pytest9-passing.txt") + "compose down: network in use\n")
    report = parsing.failure_report(parser, lines)
    assert report[-1] == "compose down: network in use"


def test_activity_after_the_tests_is_the_scripts_output() -> None:
    """Once pytest is done the row shows the teardown, not a stale test name."""
    parser = parsing.PytestParser()
    parser.feed(recorded("pytest9-passing.txt"))
    parser.feed(" Container bench-api-1  Removed\n")
    assert parser.activity == "Container bench-api-1  Removed"


def test_endless_line_is_cut() -> None:
    """Output without newlines (progress redrawn with \\r) cannot grow without bound."""
    parser = parsing.Parser()
    lines = parser.feed("\rdownloading 10%" * 10_000)
    assert lines == ["downloading 10%"]
    assert parser.close() == []
