"""Layer 6, the dev loop (issue 13): `make dev-up`, `dev-status`, `dev-refresh`, `dev-logs`, hot reload.

One dev stack of its own (a unique project slug, so its compose project `<slug>-dev`
never meets another test's, and free host ports), removed in a finally.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from dockertools import assert_passed, free_ports, nothing_left, stop, wait_for
from support import COMBOS

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# A python api, a python (Celery) worker and a node api on postgres and redis.
DEV = {"layout": "multi", "services": "api worker:worker web:node", "components": ["postgres", "redis"],
       "ci_provider": "none"}


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


class DevStack:
    """The project's dev stack, through docker compose as `make dev-up` runs it."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def compose(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["docker", "compose", "-f", "deploy/dev/docker-compose.yml", *args],
                                cwd=self.root, env=self.env, capture_output=True, text=True,
                                timeout=300)
        if check and result.returncode != 0:
            pytest.fail(f"docker compose {' '.join(args)} exited {result.returncode}\n"
                        f"{result.stdout}\n{result.stderr}", pytrace=False)
        return result.stdout

    def sql(self, statement: str) -> str:
        return self.compose("exec", "-T", "postgres", "psql", "-U", "app", "-d", "app", "-tAc",
                            statement).strip()

    def container(self, service: str) -> str:
        return self.compose("ps", "--quiet", service).strip()

    def started_at(self, service: str) -> str:
        out = subprocess.run(["docker", "inspect", "--format", "{{.State.StartedAt}}",
                              self.container(service)], capture_output=True, text=True, timeout=60)
        return out.stdout.strip()


def status_rows(out: str) -> dict[str, str]:
    """service -> its row of the dev-status table (rich's plain rendering)."""
    found = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃ ").split("│")]
        if len(cells) >= 6:
            found[cells[0]] = " ".join(cells[1:])
    return found


def test_dev_loop_status_refresh_logs_and_hot_reload(make_project) -> None:
    slug = f"devloop-{uuid.uuid4().hex[:8]}"
    project = make_project({**DEV, "project_name": slug}, name="devloop")
    assert project.slug == slug
    ports = free_ports("API_PORT", "WEB_PORT", "POSTGRES_PORT", "REDIS_PORT")
    (project.root / "deploy/dev/.env").write_text("".join(f"{k}={v}\n" for k, v in ports.items()))
    stack = DevStack(project.root, project.env())
    watcher: subprocess.Popen | None = None
    try:
        # A stopped stack: one clear line, no docker error.
        stopped = project.make("dev-status", timeout=300)
        assert stopped.returncode != 0
        assert f"the dev stack ({slug}-dev) is not running: start it with `make dev-up`" in \
            stopped.stderr, stopped.stderr

        assert_passed(project.make("dev-up"))
        status = project.make("dev-status", timeout=300)
        assert_passed(status)
        rows = status_rows(status.stdout)
        for service in ("api", "worker", "postgres", "redis"):
            assert "running" in rows.get(service, "") and "healthy" in rows[service], \
                f"{service} not running and healthy:\n{status.stdout}"
        for step in ("api-migrate", "worker-migrate"):
            assert "exited (0)" in rows.get(step, ""), f"{step}:\n{status.stdout}"
        assert f"127.0.0.1:{ports['API_PORT']}->8000" in rows["api"], status.stdout
        # Every API answers on its configured port; the source is mounted for hot reload.
        for port_var in ("API_PORT", "WEB_PORT"):
            health = get(f"http://127.0.0.1:{ports[port_var]}/health")
            assert health and json.loads(health)["status"] == "ok", (port_var, health)
        mounts = subprocess.run(["docker", "inspect", "--format", "{{range .Mounts}}{{.Destination}} {{end}}",
                                 stack.container("api")], capture_output=True, text=True, timeout=60).stdout
        assert "/app/src" in mounts, mounts

        # dev-refresh: a new api container, the database (its volume) as it was.
        stack.sql("CREATE TABLE devloop (note text); INSERT INTO devloop VALUES ('kept')")
        before = stack.container("api")
        assert_passed(project.make("dev-refresh", "SERVICES=api"))
        after = stack.container("api")
        assert after and after != before, f"api container still {before}"
        assert stack.sql("SELECT note FROM devloop") == "kept"

        logs = project.make("dev-logs", "SERVICES=api", timeout=300)
        assert_passed(logs)
        assert "api-1" in logs.stdout and "Application startup complete" in logs.stdout, logs.stdout
        assert "worker-1" not in logs.stdout, logs.stdout

        # A source edit reaches the running api (uvicorn --reload over the mounted source).
        token = uuid.uuid4().hex
        main = project.root / "services/api/src/api/main.py"
        main.write_text(main.read_text() + f'\n\n@app.get("/devloop")\ndef devloop() -> str:\n'
                        f'    return "{token}"\n')
        url = f"http://127.0.0.1:{ports['API_PORT']}/devloop"
        wait_for(lambda: token in (get(url) or ""), 120, "the api to serve the edited source")

        # ... and the python worker, under `make dev-watch` (compose watch restarts it).
        watch_log = project.root / ".artifacts" / "dev-watch.log"
        watch_log.parent.mkdir(exist_ok=True)
        with watch_log.open("w") as sink:
            watcher = subprocess.Popen(["make", "dev-watch"], cwd=project.root, env=project.env(),
                                       stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: "Watch enabled" in watch_log.read_text() or watcher.poll() is not None,
                 300, "make dev-watch to watch")
        if watcher.poll() is not None:
            pytest.fail(f"make dev-watch exited:\n{watch_log.read_text()}\n--- logs\n"
                        f"{stack.compose('logs', check=False)}", pytrace=False)
        started = stack.started_at("worker")
        worker = project.root / "services/worker/src/worker/worker.py"
        source = worker.read_text()
        assert "\ndef main() -> None:" in source, source
        worker.write_text(source.replace("\ndef main() -> None:",
                                         f'\nprint("devloop {token}", flush=True)\n\n\ndef main() -> None:'))
        try:
            wait_for(lambda: f"devloop {token}" in stack.compose("logs", "worker"), 180,
                     "the worker to restart with the edited source")
        except AssertionError as error:
            pytest.fail(f"{error}\n--- make dev-watch\n{watch_log.read_text()}\n--- worker log\n"
                        f"{stack.compose('logs', 'worker', check=False)}", pytrace=False)
        assert stack.started_at("worker") != started
    finally:
        if watcher is not None:
            stop(watcher)
        stack.compose("down", "--volumes", "--remove-orphans", "--rmi", "local", check=False)
    assert not nothing_left(f"{slug}-dev")



def test_fresh_builds_the_test_images_without_the_layer_cache(make_project) -> None:
    """FRESH=1 make test-service: every RUN and COPY step is built again, nothing pulled."""
    project = make_project(COMBOS["multi-none-nocomp"], name="fresh")
    assert_passed(project.make("test-service", "SERVICE=api"))  # the cache is warm now
    # One stream: the build's progress (stderr) between the script's lines.
    result = subprocess.run(["make", "test-service", "SERVICE=api", "FRESH=1"], cwd=project.root,
                            env=project.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=1200)
    out = result.stdout
    assert result.returncode == 0, out
    assert "building without the layer cache (FRESH=1)" in out, out
    fresh = out.split("building without the layer cache (FRESH=1)", 1)[1].split(" Built", 1)[0]
    steps = set(re.findall(r"^#(\d+) \[[^\]]*\] (?:RUN|COPY) ", fresh, re.M))
    cached = set(re.findall(r"^#(\d+) CACHED$", fresh, re.M))
    assert steps and not steps & cached, f"steps {sorted(steps)} cached {sorted(cached)}:\n{fresh}"
    assert not re.search(r"^#\d+ .*(?:pulling|resolve docker\.io)", fresh, re.M), fresh
    assert not nothing_left(project.prefix)
