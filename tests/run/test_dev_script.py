"""scripts/dev.py of a generated project (the dev stack's manager), with no Docker engine.

Its docker commands go through two functions a test replaces (`run` captures, `call`
streams): these tests answer them as `docker compose` would and record what ran. One
test goes through make with DOCKER_HOST pointing nowhere: no engine is needed to refuse
an unknown name.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from dockertools import stop
from support import project_env

pytestmark = pytest.mark.slow

COMBO = "multi-none-pg-redis-scheduler"  # api, worker, beat (an optional member); postgres, redis
# `make dev-up`'s files: the template's, then yours (every project has one).
BASE = ["docker", "compose", "-f", "deploy/dev/docker-compose.yml",
        "-f", "deploy/dev/docker-compose.override.yml"]
NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)


def load_dev(project: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"dev_{abs(hash(project))}", project / "scripts/dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    # dev.py imports the project's scripts/lib/services.py as `services`; this process may
    # already hold the template's hooks/services.py under that name (the order of tests decides).
    held = sys.modules.pop("services", None)
    try:
        spec.loader.exec_module(module)
    finally:
        if held is not None:
            sys.modules["services"] = held
        else:
            sys.modules.pop("services", None)
    return module


def model() -> dict:
    built = {"build": {"context": "../../services/x"}}
    return {"name": "acme-shop-dev", "services": {
        "api": built, "api-migrate": built, "worker": built, "worker-migrate": built,
        "beat": {**built, "profiles": ["beat"]}, "postgres": {"image": "postgres"},
        "redis": {"image": "redis"}}}


def container(service: str, state: str = "running", health: str = "healthy", **extra: object) -> dict:
    return {"ID": f"{service[:6]:0<6}aaaaaa", "Service": service, "Name": f"acme-shop-dev-{service}-1",
            "State": state, "Health": health, "ExitCode": 0, "Publishers": [], **extra}


RUNNING = [
    container("api", Publishers=[{"URL": "127.0.0.1", "TargetPort": 8000, "PublishedPort": 8000,
                                  "Protocol": "tcp"}]),
    container("api-migrate", state="exited", health=""),
    container("worker"), container("worker-migrate", state="exited", health=""),
    container("postgres"), container("redis"),
]


class FakeDocker:
    """Answers dev.py's captured commands from `containers`; records every command."""

    def __init__(self, containers: list[dict], ps_error: str = "") -> None:
        self.containers, self.ps_error = containers, ps_error
        self.captured: list[list[str]] = []
        self.streamed: list[list[str]] = []

    def run(self, argv: Sequence[str], root: Path) -> subprocess.CompletedProcess:
        argv = list(argv)
        self.captured.append(argv)
        out, code, err = "", 0, ""
        if "config" in argv:
            out = json.dumps(model())
        elif "ps" in argv:
            if self.ps_error:
                code, err = 1, self.ps_error
            out = "\n".join(json.dumps(c) for c in self.containers)
        elif argv[:3] == ["docker", "container", "inspect"]:
            out = json.dumps([{"Id": c["ID"] + "f" * 52, "Image": "sha256:img", "RestartCount": 2}
                              for c in self.containers if c["ID"] in argv])
        elif argv[:3] == ["docker", "image", "inspect"]:
            out = json.dumps([{"Id": "sha256:img", "Created": "2026-01-02T09:00:00.123456789Z"}])
        return subprocess.CompletedProcess(argv, code, out, err)

    def call(self, argv: Sequence[str], root: Path) -> int:
        self.streamed.append(list(argv))
        return 0


@pytest.fixture(scope="module")
def project(render) -> Path:
    return render(COMBO)


@pytest.fixture(scope="module")
def dev(project: Path) -> ModuleType:
    return load_dev(project)


def run_dev(dev: ModuleType, project: Path, fake: FakeDocker, *argv: str) -> int:
    return dev.main(list(argv), root=project, run=fake.run, call=fake.call)


@pytest.mark.parametrize("argv", [["refresh", "api", "nope"], ["restart", "api,nope"],
                                  ["logs", "nope"], ["logs", "--follow", "nope", "api"]])
def test_unknown_names_are_refused_with_the_valid_ones(dev, project, capsys, argv) -> None:
    fake = FakeDocker(RUNNING)
    assert run_dev(dev, project, fake, *argv) == 2
    err = capsys.readouterr().err
    assert err == ("dev.py: unknown service nope; the dev services are: api api-migrate beat "
                   "postgres redis worker worker-migrate\n"), err
    assert fake.streamed == [], "nothing may run"
    assert all("config" in argv for argv in fake.captured), fake.captured


@pytest.mark.parametrize("argv", [["refresh"], ["restart", "api"], ["status"], ["logs", "api"]])
def test_a_stopped_stack_gets_one_line(dev, project, capsys, argv) -> None:
    # No container at all (after `make dev-down`), or only a finished one-shot step.
    for containers in ([], [container("api-migrate", state="exited", health="")]):
        fake = FakeDocker(containers)
        code = run_dev(dev, project, fake, *argv)
        out = capsys.readouterr()
        if argv[0] == "logs" and containers:
            assert code == 0, out.err  # a stopped stack's logs are still there to read
            continue
        assert code == 1
        assert out.err == ("dev.py: the dev stack (acme-shop-dev) is not running: "
                           "start it with `make dev-up`\n"), out.err
        assert fake.streamed == []


def test_an_unreachable_engine_is_one_line(dev, project, capsys) -> None:
    fake = FakeDocker([], ps_error="Cannot connect to the Docker daemon at unix:///x. Is it running?\n"
                                   "more detail")
    assert run_dev(dev, project, fake, "status") == 1
    assert capsys.readouterr().err == ("dev.py: docker compose ps failed: Cannot connect to the "
                                       "Docker daemon at unix:///x. Is it running?\n")


def test_refresh_rebuilds_and_recreates_only_the_named_services(dev, project) -> None:
    fake = FakeDocker(RUNNING)
    assert run_dev(dev, project, fake, "refresh", "api") == 0
    assert fake.streamed == [[*BASE, "up", "--detach", "--build", "--force-recreate", "--no-deps",
                              "--wait", "api"]]
    # No names: every service of the running stack that builds from this project (beat
    # is not started, postgres and redis are images).
    fake = FakeDocker(RUNNING)
    assert run_dev(dev, project, fake, "refresh") == 0
    assert fake.streamed[0][-4:] == ["api", "api-migrate", "worker", "worker-migrate"]
    assert "beat" not in fake.streamed[0]


def test_restart_waits_for_health_without_rebuilding(dev, project) -> None:
    fake = FakeDocker(RUNNING)
    assert run_dev(dev, project, fake, "restart", "worker postgres") == 0
    assert [argv[len(BASE):] for argv in fake.streamed] == [
        ["restart", "worker", "postgres"],
        ["up", "--detach", "--no-build", "--no-recreate", "--no-deps", "--wait", "worker", "postgres"]]


def test_logs_follow(dev, project) -> None:
    fake = FakeDocker(RUNNING)
    assert run_dev(dev, project, fake, "logs", "--follow", "api") == 0
    assert fake.streamed == [[*BASE, "logs", "--follow", "api"]]


def test_status_rows(dev) -> None:
    stack = dev.Stack(Path("."), FakeDocker(RUNNING).run)
    rows = {row.service: row for row in dev.rows(stack, stack.containers(), now=NOW)}
    assert set(rows) == {"api", "api-migrate", "beat", "postgres", "redis", "worker", "worker-migrate"}
    api = rows["api"]
    assert (api.state, api.health, api.ports, api.image_age, api.restarts) == (
        "running", "healthy", "127.0.0.1:8000->8000", "3h", "2")
    assert rows["api-migrate"].state == "exited (0)"
    assert rows["beat"].state == "not started"


def test_status_prints_one_table(dev, project, capsys) -> None:
    assert run_dev(dev, project, FakeDocker(RUNNING), "status") == 0
    out = capsys.readouterr().out
    for text in ("acme-shop-dev", "service", "image age", "restarts", "worker-migrate", "not started"):
        assert text in out, out


def test_changed_files_map_to_their_service(dev, project) -> None:
    entries = json.loads((project / "scripts/services.json").read_text())["services"]
    changes = [(1, str(project / "services/worker/src/worker/worker.py")),
               (2, str(project / "services/api/tests/unit/test_x.py")),
               (1, str(project / "tests/integration/test_stack.py"))]
    assert dev.changed_services(changes, entries, project) == ["api", "worker"]


def test_make_refuses_an_unknown_name_without_an_engine(project) -> None:
    """Through make and uv, with DOCKER_HOST pointing nowhere: compose config needs no engine."""
    env = project_env(DOCKER_HOST="unix:///nonexistent/docker.sock")
    result = subprocess.run(["make", "dev-refresh", "SERVICES=api nope"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "dev.py: unknown service nope; the dev services are: api api-migrate beat postgres " \
           "redis worker worker-migrate" in result.stderr, result.stderr
    status = subprocess.run(["make", "dev-status"], cwd=project, env=env, capture_output=True,
                            text=True, timeout=600)
    assert status.returncode != 0
    assert "dev.py: docker compose ps failed:" in status.stderr, status.stderr


def test_dev_py_runs_the_stack_make_dev_up_runs(project, dev, tmp_path: Path) -> None:
    """dev.py's compose command is the Makefile's $(DEV), with the user's override and without."""
    copy = Path(shutil.copytree(project, tmp_path / "p"))
    local_mk = copy / "local.mk"
    local_mk.write_text(local_mk.read_text() + "\n.PHONY: print-dev\nprint-dev:\n\t@:$(info $(DEV))\n")
    for keep_override in (True, False):
        if not keep_override:
            (copy / "deploy/dev/docker-compose.override.yml").unlink()
        out = subprocess.run(["make", "--no-print-directory", "print-dev"], cwd=copy,
                             capture_output=True, text=True, env=project_env(), timeout=60)
        assert out.returncode == 0, out.stderr
        assert dev.Stack(copy).compose() == shlex.split(out.stdout), out.stdout


def test_test_watch_reruns_the_changed_services_unit_tests(project, tmp_path: Path) -> None:
    """make test-watch SERVICE=worker: a first run, then one per edit of the worker's files,
    through the runner (its summary)."""
    from dockertools import wait_for
    from support import git_init

    copy = Path(shutil.copytree(project, tmp_path / "p"))
    git_init(copy)
    log = tmp_path / "test-watch.log"
    with log.open("w") as sink:
        watcher = subprocess.Popen(["make", "test-watch", "SERVICE=worker"], cwd=copy,
                                   env=project_env(), stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        def runs() -> int:
            return log.read_text().count("watching worker; Ctrl-C stops")

        wait_for(lambda: runs() == 1 or watcher.poll() is not None, 600, "the first unit run")
        assert watcher.poll() is None, log.read_text()
        assert "unit  │ worker │ ✓ passed" in log.read_text(), log.read_text()
        test_file = copy / "services/worker/tests/unit/test_worker.py"
        test_file.write_text(test_file.read_text() + "\n\ndef test_watched() -> None:\n    assert 1 == 2\n")
        wait_for(lambda: runs() == 2, 600, "a run after the edit")
        out = log.read_text()
        assert "changed: worker" in out and "test_watched" in out and "✗ failed" in out, out
        (copy / "services/api/src/api/__init__.py").touch()  # not watched: SERVICE=worker
        test_file.write_text(test_file.read_text().replace("1 == 2", "2 == 2"))
        wait_for(lambda: runs() == 3, 600, "a run after the fix")
        last = log.read_text().rsplit("changed:", 1)[1]
        assert "changed: api" not in log.read_text() and "✓ passed" in last, log.read_text()
    finally:
        stop(watcher)


def test_test_watch_ignores_what_a_run_writes(dev, project) -> None:
    """A run writes .coverage, junit reports and caches: were they watched, every run would
    start the next one."""
    from watchfiles import Change

    keep = dev.watch_filter()
    worker = project / "services/worker"
    for written in (".coverage", ".coverage.host.123", "coverage.xml", "junit.xml",
                    ".pytest_cache/v/cache/lastfailed", "src/worker/__pycache__/w.cpython-312.pyc",
                    ".venv/lib/x.py", "htmlcov/index.html", ".ruff_cache/x"):
        assert not keep(Change.modified, str(worker / written)), written
    for edited in ("src/worker/worker.py", "tests/unit/test_worker.py", "pyproject.toml"):
        assert keep(Change.modified, str(worker / edited)), edited
    assert not keep(Change.added, str(project / ".artifacts/main/unit/worker/junit.xml"))
