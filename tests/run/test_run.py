"""Layer 4: the generated project's own commands work (no containers needed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import git_init, project_env, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["multi-github-pg-redis-mixed", "single-github-python-api"])
def test_make_help_lists_every_target(render, tmp_path: Path, name: str) -> None:
    """The Makefile's targets and the user's own in local.mk (the user-owned makefile it includes)."""
    project = Path(shutil.copytree(render(name), tmp_path / "p"))
    local_mk = project / "local.mk"
    local_mk.write_text(local_mk.read_text() + "\n.PHONY: team-deploy\nteam-deploy: ## ship it\n\t@echo shipped\n")
    result = subprocess.run(["make"], cwd=project, capture_output=True, text=True, env=project_env())
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^\s+(\S+)\s", result.stdout, re.M))
    declared = set()
    for makefile in ("Makefile", "local.mk"):
        declared |= set(re.findall(r"^([a-zA-Z0-9_-]+):.*## ", (project / makefile).read_text(), re.M))
    assert declared and listed == declared, f"help lists {sorted(listed)}, the makefiles have {sorted(declared)}"
    assert "team-deploy" in listed
    run(["make", "team-deploy"], cwd=project, env=project_env())
    for target in ("test", "test-unit", "test-integration", "test-infra-up", "test-infra-down",
                   "test-clean-all", "dev-up", "dev-down", "build", "migrate", "dev-seed", "migration"):
        assert target in listed, target


def test_make_test_service_without_service_prints_usage(render) -> None:
    project = render("multi-github-pg-redis-mixed")
    result = subprocess.run(["make", "test-service"], cwd=project, capture_output=True, text=True,
                            env=project_env())
    assert result.returncode != 0
    assert "usage: make test-service SERVICE=name" in result.stderr
    assert "api worker web" in result.stderr


def test_make_migration_without_name_prints_usage(render) -> None:
    """make migration needs NAME, and SERVICE where several services own a schema."""
    project = render("multi-github-pg-redis-mixed")
    for args in (["migration"], ["migration", "NAME=add_price"], ["migration", "NAME=x", "SERVICE=nope"]):
        result = subprocess.run(["make", *args], cwd=project, capture_output=True, text=True,
                                env=project_env())
        assert result.returncode == 2, result.stdout + result.stderr
        assert "usage: make migration NAME=message SERVICE=name  (one of: api worker web)" in result.stderr


def test_make_migration_and_dev_seed_use_each_services_tool(render) -> None:
    """Alembic for python services, node-pg-migrate (migrate.js) for node ones (make -n)."""
    project = render("multi-github-pg-redis-mixed")

    def dry(*args: str) -> str:
        result = subprocess.run(["make", "-n", *args], cwd=project, capture_output=True, text=True,
                                env=project_env())
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert "node-pg-migrate create 'add_price' --migrations-dir migrations" in dry(
        "migration", "NAME=add_price", "SERVICE=web")
    assert "alembic revision --autogenerate -m 'add_price'" in dry(
        "migration", "NAME=add_price", "SERVICE=api")
    assert "NODE_MIGRATING := web\n" in (project / "Makefile").read_text()
    assert "seed=(node migrate.js --seed)" in dry("dev-seed")


def test_integration_settings_are_written_once_and_unknown_members_refused(render, tmp_path: Path) -> None:
    """run-integration-tests.sh writes .env.integration on first use, never again, reads
    it, and refuses an optional member the stack lacks in one line naming the ones it has
    (compose config only: nothing starts)."""
    project = Path(shutil.copytree(render("multi-none-pg-redis-scheduler"), tmp_path / "p"))
    git_init(project)
    settings = project / ".env.integration"

    def refused(*args: str) -> str:
        result = subprocess.run(["scripts/run-integration-tests.sh", *args], cwd=project, capture_output=True,
                                text=True, env=project_env(), timeout=120)
        assert result.returncode == 2, result.stdout + result.stderr
        return result.stderr.splitlines()[-1]

    assert refused("--with-nope") == ("run-integration-tests.sh: no optional stack member 'nope'; "
                                      "the optional members are: beat")
    text = settings.read_text()
    assert "\nCOMPOSE_PROFILES=\n" in text and "#JOB_EVERY_SECONDS=2" in text, text
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env.integration"], cwd=project)
    assert ignored.returncode == 0, "one checkout's settings: git-ignored"
    # An edit is read on the next run, and the file is never written again.
    settings.write_text(text.replace("\nCOMPOSE_PROFILES=\n", "\nCOMPOSE_PROFILES=beat,typo\n"))
    assert "no optional stack member 'typo'" in refused()
    assert "COMPOSE_PROFILES=beat,typo" in settings.read_text()
    # make passes WITH as --with- flags
    settings.write_text(text.replace("\nCOMPOSE_PROFILES=\n", "\nCOMPOSE_PROFILES=beat\n"))
    result = subprocess.run(["make", "test-integration", "WITH=beat nope2"], cwd=project, capture_output=True,
                            text=True, env=project_env(), timeout=120)
    assert result.returncode != 0 and "no optional stack member 'nope2'" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "name", ["multi-github-pg-redis-mixed", "single-github-python-api", "single-gitea-node-api",
             "multi-none-pg-redis-scheduler", "multi-both-pg-redis-frontend",
             "multi-github-pg-redis-ts-lifecycle", "single-both-ts-api"]
)
def test_make_test_unit_passes(render, tmp_path: Path, name: str) -> None:
    """uv for python services, npm + vitest for node services, through the runner."""
    # A copy: uv and npm write .venv, node_modules and locks, and the render is the session's.
    project = Path(shutil.copytree(render(name), tmp_path / "p"))
    git_init(project)
    out = run(["make", "test-unit"], cwd=project, timeout=900, env=project_env()).stdout
    reports = list(project.glob(".artifacts/*/unit/*/junit.xml"))
    assert reports, "every unit run leaves a junit report"
    # Every service's line coverage, from its test tool's report, in its line of the log.
    covered = dict(re.findall(r"^\[unit\] \S+ (\S+) passed in .*, (\d+)% of lines covered$", out, re.M))
    assert len(covered) == len(reports), out
    for report in reports:
        assert {"coverage.xml", "cobertura-coverage.xml"} & {p.name for p in report.parent.iterdir()}, report


def test_failing_unit_test_fails_make_test_unit(tmp_path: Path) -> None:
    from support import run_copy

    project = run_copy({"layout": "single", "services": "app", "components": [],
                        "ci_provider": "none"}, tmp_path / "p")
    git_init(project)
    test_file = project / "tests/unit/test_api.py"
    test_file.write_text(test_file.read_text() + "\n\ndef test_broken() -> None:\n    assert 1 == 2\n")
    result = subprocess.run(["make", "test-unit"], cwd=project, capture_output=True, text=True,
                            env=project_env(), timeout=900)
    assert result.returncode != 0, result.stdout
    assert "test_broken" in result.stdout + result.stderr


def test_instance_id_follows_the_branch(render, tmp_path: Path) -> None:
    project = render("single-github-python-api")
    git_init(project)
    script = project / "scripts/get-test-instance-id.sh"

    def instance(**env: str) -> str:
        return subprocess.run([str(script)], capture_output=True, text=True, check=True,
                              env={**project_env(), **env}).stdout.strip()

    first = instance()
    assert re.fullmatch(r"main-\d{6}", first), first
    run(["git", "checkout", "-q", "-b", "Feature/JIRA-12_Über_lang-name-that-is-long"], cwd=project)
    second = instance()
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", second) and len(second) <= 27, second
    assert second.startswith("feature-jira-12"), second
    assert instance(TEST_INSTANCE_ID="CI Run #42") == "ci-run-42"
    run(["git", "checkout", "-q", "main"], cwd=project)
    assert instance() == first


def run_in_pty(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> tuple[int, str]:
    """Run cmd on a pseudo-terminal (as a person would see it); return (exit code, screen bytes)."""
    import pty
    import select
    import time

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**env, "TERM": "xterm-256color", "COLUMNS": "100"},
                            stdin=child_fd, stdout=child_fd, stderr=child_fd, close_fds=True)
    os.close(child_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(main_fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(main_fd)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def broken_unit_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 3-service project with one failing unit test in api."""
    from support import COMBOS, run_copy

    project = run_copy(COMBOS["multi-github-pg-redis-mixed"], tmp_path_factory.mktemp("broken") / "p")
    test_file = project / "services/api/tests/unit/test_api.py"
    test_file.write_text(test_file.read_text() + "\n\ndef test_broken() -> None:\n    assert 1 == 2\n")
    git_init(project)
    return project


def test_make_test_piped_prints_plain_lines_and_only_the_failure(broken_unit_project: Path) -> None:
    result = subprocess.run(["make", "test"], cwd=broken_unit_project, capture_output=True, text=True,
                            env=project_env(), timeout=900)
    out = result.stdout
    assert result.returncode != 0, out
    assert "\x1b[" not in out, "no terminal control codes when piped"
    assert "[unit] ✗ api failed" in out and "[unit] ✓ worker passed" in out and "[unit] ✓ web passed" in out
    assert "def test_broken" in out and "assert 1 == 2" in out
    # Only the failure: the passing tests' verbose lines stay captured.
    assert "test_health_answers_ok PASSED" not in out and "PASSED" not in out
    # Fail fast: stage 2 never started, so no container was created.
    assert "[service]" not in out and "Container" not in out + result.stderr
    assert re.search(r"service\s+│\s+api\s+│\s+○ not run", out), out


def test_make_test_on_a_terminal_shows_the_live_display(broken_unit_project: Path) -> None:
    code, screen = run_in_pty(["make", "test"], broken_unit_project, project_env())
    assert code != 0, screen
    assert "\x1b[" in screen, "the live display redraws the terminal"
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert re.search(r"✓ (worker|web)\s+\d+/\d+", text), text[-3000:]
    assert "━" in text, "a progress bar was drawn"
    assert "✗" in text and "def test_broken" in text
    assert "Test summary" in text
