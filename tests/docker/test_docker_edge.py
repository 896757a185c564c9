"""Issue 15 on a real engine: the prod stack's TLS edge and hardened containers under
compose (make prod-up), and the same stack deployed on a single-node Docker Swarm
(make swarm-deploy), scaled, reached over HTTPS through the edge, and removed.

Both build the default project's release images (tags unique per test), and remove
everything they made. The swarm test initialises a swarm only when the engine is in
none, and leaves it (with the gateway bridge the swarm made) only when it made it:
compose stacks of other tests on the same engine run on as before.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from dockertools import Project, assert_passed, docker, free_ports, https_get, nothing_left, wait_for
from support import COMBOS, run

pytestmark = [pytest.mark.docker, pytest.mark.slow]

DEFAULT = COMBOS["multi-github-pg-redis-mixed"]  # the default answers: api worker:worker web:node, pg, redis
IMAGES = ("api", "worker", "web")
ROOT_CRT = "/data/caddy/pki/authorities/local/root.crt"

# The capabilities a prod container may have (after cap_drop ALL), and why: the one
# place that lists the exceptions. Every container runs with no-new-privileges and a
# read-only root filesystem, without exception.
CAPABILITIES = {
    # the entrypoint prepares the data and socket directories as root, then gosu
    "postgres": {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID"},
    # the entrypoint drops to user redis with gosu
    "redis": {"CAP_SETUID", "CAP_SETGID"},
    # caddy binds 80 and 443; the official image's binary has it as a file capability
    "edge": {"CAP_NET_BIND_SERVICE"},
}


def build_release_images(project: Project, registry: str, version: str) -> list[str]:
    tags = [f"{registry}/{name}:{version}" for name in IMAGES]
    for name, tag in zip(IMAGES, tags, strict=True):
        run(["docker", "build", "-q", "-t", tag, f"services/{name}"], cwd=project.root, timeout=1200)
    return tags


def write_prod_env(project: Project, registry: str, version: str, old: str = "") -> dict[str, str]:
    """deploy/prod/.env (plus old, lines of an older project's .env), then the secret files
    by make prod-secrets, which a deploy refuses to run without."""
    ports = free_ports("EDGE_HTTP_PORT", "EDGE_HTTPS_PORT")
    (project.root / "deploy/prod/.env").write_text(
        f"REGISTRY={registry}\nVERSION={version}\n" + old
        + "".join(f"{k}={v}\n" for k, v in ports.items())
        + 'PROD_DATA_CONSTRAINT="node.role == manager"\nPROD_EDGE_CONSTRAINT="node.role == manager"\n'
    )
    refused = project.make("prod-check", timeout=60)
    assert refused.returncode != 0 and "deploy/prod/secrets/postgres_password is missing" in refused.stderr, \
        refused.stdout + refused.stderr
    assert_passed(project.make("prod-secrets", timeout=60))
    return ports


def secrets_of(project: Project) -> dict[str, str]:
    return {path.name: path.read_text().strip() for path in (project.root / "deploy/prod/secrets").iterdir()}


def secrets_in_env(containers: list[str], secrets: dict[str, str]) -> list[str]:
    """Containers whose environment (docker inspect) holds a secret's value: none should."""
    found = []
    for container in containers:
        env = json.loads(docker("inspect", "--format", "{{json .Config.Env}}", container)) or []
        found += [f"{container}: {name}" for name in secrets for line in env if secrets[name] in line]
    return found


def fetch_root_crt(container: str, dest: Path) -> Path:
    """The edge's internal CA root (written once Caddy has issued the localhost certificate)."""
    wait_for(lambda: subprocess.run(["docker", "cp", f"{container}:{ROOT_CRT}", str(dest)],
                                    capture_output=True, timeout=60).returncode == 0,
             timeout=60, what=f"{ROOT_CRT} in {container}")
    return dest


def assert_edge_routes(https_port: str, root_crt: Path) -> None:
    """Each HTTP service answers under /<name>/, verified against the internal CA."""
    for name in ("api", "web"):
        status, body = https_get(https_port, f"/{name}/health", root_crt)
        assert status == 200, (name, status, body)
        health = json.loads(body)
        assert (health["status"], health["service"]) == ("ok", name), body


def test_prod_stack_serves_https_through_the_edge_with_hardened_containers(make_project, tmp_path: Path) -> None:
    """make prod-up (prod-check, then compose with the start order): HTTPS through the edge with
    a certificate of Caddy's internal CA, HTTP redirected, only the edge publishing ports, and
    every container without capabilities beyond CAPABILITIES', no-new-privileges, read-only, with
    log rotation and a memory limit, the long-running ones restarted unless stopped."""
    project = make_project(DEFAULT, name="edgeproj")
    version = f"pytest-{uuid.uuid4().hex[:8]}"
    registry = "registry.example.com/edge"
    prod = f"{project.slug}-edge-{version}"
    # An older project's .env still sets the postgres password: make prod-secrets keeps it.
    ports = write_prod_env(project, registry, version, old=f"POSTGRES_PASSWORD=pg-{version}\n")
    secrets = secrets_of(project)
    assert secrets["postgres_password"] == f"pg-{version}", secrets
    assert len(secrets["redis_password"]) == 64, secrets  # random: 32 bytes, hex
    compose = ["docker", "compose", "-p", prod, "-f", "deploy/prod/docker-compose.yml",
               "-f", "deploy/prod/start-order.yml"]
    tags: list[str] = []
    try:
        tags = build_release_images(project, registry, version)
        assert_passed(project.make("prod-up", f"PROD_NAME={prod}", timeout=600))
        root_crt = fetch_root_crt(f"{prod}-edge-1", tmp_path / "root.crt")
        assert_edge_routes(ports["EDGE_HTTPS_PORT"], root_crt)
        status, body = https_get(ports["EDGE_HTTPS_PORT"], "/health", root_crt)
        assert status == 200 and json.loads(body)["service"] == "api", body  # / is the first api
        # Plain HTTP only redirects to HTTPS.
        conn = http.client.HTTPConnection("127.0.0.1", int(ports["EDGE_HTTP_PORT"]), timeout=10)
        conn.request("GET", "/api/health", headers={"Host": "localhost"})
        response = conn.getresponse()
        assert (response.status, response.getheader("Location")) == (308, "https://localhost/api/health")
        conn.close()
        # The apis' POST routes want the key of the api_key secret file (APP_ENV=production
        # makes it required), python and node alike: without it, a problem+json 401.
        https = ports["EDGE_HTTPS_PORT"]
        key = {"Authorization": f"Bearer {secrets_of(project)['api_key']}"}
        for name in ("api", "web"):
            status, body = https_get(https, f"/{name}/items", root_crt, method="POST", json_body={"name": "x"})
            assert status == 401 and json.loads(body)["status"] == 401, (name, body)
        # The services reach postgres and redis with the passwords of the secret files.
        status, body = https_get(https, "/api/items", root_crt, method="POST", json_body={"name": "secret"},
                                 headers=key)
        assert status == 201 and json.loads(body)["name"] == "secret", body
        status, body = https_get(https, "/web/items", root_crt, method="POST", json_body={"name": "node"},
                                 headers=key)
        assert status == 201 and json.loads(body)["name"] == "node", body
        status, body = https_get(https, "/api/jobs", root_crt, method="POST", json_body={"text": "two words"},
                                 headers=key)
        assert status == 202, body
        job = json.loads(body)["id"]

        def job_done() -> dict | None:
            status, body = https_get(https, f"/api/jobs/{job}", root_crt)
            return json.loads(body) if status == 200 and json.loads(body)["status"] == "done" else None

        assert wait_for(job_done, timeout=60, what=f"job {job} done by the worker")["result"], job

        containers = docker("ps", "-a", "--filter", f"label=com.docker.compose.project={prod}",
                            "--format", "{{.Names}}").split()
        assert len(containers) == 9, containers  # postgres redis edge, 3 services, 3 migrate steps
        problems = []
        for container in containers:
            service = re.sub(rf"^{re.escape(prod)}-|-\d+$", "", container)
            config = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", container))
            caps = set(config["CapAdd"] or [])
            if config["CapDrop"] != ["ALL"] and config["CapDrop"] != ["CAP_ALL"]:
                problems.append(f"{service}: CapDrop {config['CapDrop']}")
            if not caps <= CAPABILITIES.get(service, set()):
                problems.append(f"{service}: CapAdd {sorted(caps)}")
            if "no-new-privileges:true" not in (config["SecurityOpt"] or []):
                problems.append(f"{service}: SecurityOpt {config['SecurityOpt']}")
            if not config["ReadonlyRootfs"]:
                problems.append(f"{service}: writable root filesystem")
            if bool(config["PortBindings"]) != (service == "edge"):
                problems.append(f"{service}: PortBindings {config['PortBindings']}")
            if config["LogConfig"]["Config"] != {"max-file": "3", "max-size": "10m"}:
                problems.append(f"{service}: log rotation {config['LogConfig']}")
            if not config["Memory"] > 0:
                problems.append(f"{service}: no memory limit")
            if not service.endswith("-migrate") and config["RestartPolicy"]["Name"] != "unless-stopped":
                problems.append(f"{service}: restart policy {config['RestartPolicy']}")
        assert not problems, "\n".join(problems)
        # Secrets are files in /run/secrets: no container has one in its environment.
        assert not secrets_in_env(containers, secrets)
        postgres_env = json.loads(docker("inspect", "--format", "{{json .Config.Env}}", f"{prod}-postgres-1"))
        assert "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password" in postgres_env, postgres_env
    finally:
        subprocess.run([*compose, "down", "-v", "--remove-orphans"], cwd=project.root, capture_output=True,
                       timeout=300)
        if tags:
            subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, timeout=120)
    assert not nothing_left(prod)


# --- Docker Swarm ------------------------------------------------------------------------


def swarm_state() -> str:
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()


def network_exists(name: str) -> bool:
    return bool(docker("network", "ls", "--quiet", "--filter", f"name=^{name}$").strip())


@pytest.fixture
def swarm():
    """A single-node swarm: the engine's own when it is in one, else one made here and left afterwards
    (with the docker_gwbridge network it created)."""
    state = swarm_state()
    if state not in ("inactive", "active"):
        pytest.skip(f"the engine's swarm is {state!r}: neither free to initialise nor usable")
    made = state == "inactive"
    bridge_before = network_exists("docker_gwbridge")
    if made:
        run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], cwd=Path.cwd())
    try:
        yield
    finally:
        if made:
            subprocess.run(["docker", "swarm", "leave", "--force"], capture_output=True, timeout=120)
            if not bridge_before and network_exists("docker_gwbridge"):
                subprocess.run(["docker", "network", "rm", "docker_gwbridge"], capture_output=True, timeout=60)
    if made:
        assert swarm_state() == "inactive", "the swarm this test made is still there"


def stack_services(stack: str) -> dict[str, str]:
    """{service: replicas column} of a stack ("1/1", "0/1 (1/1 completed)" for a finished job)."""
    rows = docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={stack}",
                  "--format", "{{.Name}}\t{{.Replicas}}")
    return dict(row.split("\t", 1) for row in rows.splitlines() if row)


def converged(stack: str, expected: int) -> dict[str, str] | None:
    """The services when every one runs all its replicas, healthy, and every job completed; else None."""
    services = stack_services(stack)
    if len(services) != expected:
        return None
    for replicas in services.values():
        done = re.fullmatch(r"0/(\d+) \((\d+)/\d+ completed\)", replicas)
        running = re.fullmatch(r"(\d+)/(\d+)", replicas)
        if not (done and done[1] == done[2]) and not (running and running[1] == running[2] != "0"):
            return None
    health = docker("ps", "--filter", f"label=com.docker.stack.namespace={stack}", "--format", "{{.Status}}")
    if any("(healthy)" not in status for status in health.splitlines()):
        return None
    return services


def stack_leftovers(stack: str) -> dict[str, list[str]]:
    label = f"label=com.docker.stack.namespace={stack}"
    found = {
        "services": docker("service", "ls", "--quiet", "--filter", label).split(),
        "containers": docker("ps", "-a", "--quiet", "--filter", label).split(),
        "networks": docker("network", "ls", "--quiet", "--filter", label).split(),
        "configs": docker("config", "ls", "--quiet", "--filter", label).split(),
        "secrets": docker("secret", "ls", "--quiet", "--filter", label).split(),
        "volumes": docker("volume", "ls", "--quiet", "--filter", label).split(),
    }
    return {kind: ids for kind, ids in found.items() if ids}


def api_tasks_answering(stack: str, https_port: str, root_crt: Path, probe: str) -> set[str]:
    """Send one request through the edge, then the api tasks whose access log shows a probe."""
    https_get(https_port, f"/api/{probe}-{uuid.uuid4().hex[:6]}", root_crt)
    logs = subprocess.run(["docker", "service", "logs", "--no-trunc", f"{stack}_api"], capture_output=True,
                          text=True, timeout=60)
    return {line.split()[0] for line in (logs.stdout + logs.stderr).splitlines() if probe in line}


@pytest.mark.engine_alone  # swarm init/leave re-plumb the engine's networks under other stacks
def test_prod_stack_on_a_single_node_swarm(make_project, swarm, tmp_path: Path) -> None:
    """make swarm-deploy: every service converges healthy (migrate jobs complete), HTTPS through
    the edge reaches the api, make prod-scale runs 2 api replicas that both answer through the
    edge, and docker stack rm leaves nothing of the stack (its volumes removed here)."""
    project = make_project({**DEFAULT, "deploy_targets": ["compose", "swarm"]}, name="swarmproj")
    version = f"pytest-{uuid.uuid4().hex[:8]}"
    registry = "registry.example.com/swarm"
    stack = f"{project.slug}-{version}"
    ports = write_prod_env(project, registry, version)
    tags: list[str] = []
    try:
        tags = build_release_images(project, registry, version)
        # The images exist on this node only: no registry lookup of their digests.
        assert_passed(project.make("swarm-deploy", f"PROD_NAME={stack}",
                                   "SWARM_FLAGS=--resolve-image never --prune", timeout=300))
        services = wait_for(lambda: converged(stack, 9), timeout=300, what=f"stack {stack} converged and healthy",
                            interval=2)
        assert sorted(services) == sorted(f"{stack}_{name}" for name in (
            "postgres", "redis", "edge", "api", "api-migrate", "worker", "worker-migrate", "web", "web-migrate"))
        edge = docker("ps", "--quiet", "--filter", f"label=com.docker.swarm.service.name={stack}_edge").split()
        assert len(edge) == 1, edge
        root_crt = fetch_root_crt(edge[0], tmp_path / "root.crt")
        assert_edge_routes(ports["EDGE_HTTPS_PORT"], root_crt)
        # Swarm secrets, named per version of their file: in no container's environment.
        assert sorted(docker("secret", "ls", "--format", "{{.Name}}", "--filter",
                             f"label=com.docker.stack.namespace={stack}").split()) == sorted(
            f"{stack}-{name.replace('_', '-')}-{int((project.root / 'deploy/prod/secrets' / name).stat().st_mtime)}"
            for name in ("postgres_password", "redis_password", "api_key"))
        tasks = docker("ps", "--quiet", "--filter", f"label=com.docker.stack.namespace={stack}").split()
        assert not secrets_in_env(tasks, secrets_of(project))

        assert_passed(project.make("prod-scale", f"PROD_NAME={stack}", "SERVICE=api", "REPLICAS=2", timeout=300))
        assert stack_services(stack)[f"{stack}_api"] == "2/2"
        probe = f"probe-{version}"

        def both_answering() -> set[str] | None:
            tasks = api_tasks_answering(stack, ports["EDGE_HTTPS_PORT"], root_crt, probe)
            return tasks if len(tasks) == 2 else None

        answering = wait_for(both_answering, timeout=90, what="both api replicas answering through the edge",
                             interval=0.5)
        assert all(task.startswith(f"{stack}_api.") for task in answering), answering
    finally:
        removed = project.make("swarm-rm", f"PROD_NAME={stack}", timeout=120)
        # Swarm removes the services' containers, then the network, in the background.
        wait_for(lambda: not {k: v for k, v in stack_leftovers(stack).items() if k != "volumes"},
                 timeout=180, what=f"stack {stack} removed", interval=1)
        volumes = docker("volume", "ls", "--quiet", "--filter", f"label=com.docker.stack.namespace={stack}").split()
        if volumes:
            subprocess.run(["docker", "volume", "rm", *volumes], capture_output=True, timeout=120)
        if tags:
            subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, timeout=120)
    assert_passed(removed)
    assert not stack_leftovers(stack)
