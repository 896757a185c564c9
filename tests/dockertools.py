"""Helpers for the docker tests (tests/test_docker*.py): engine queries, waits and a rendered Project.

The `make_project` fixture that builds Projects lives in conftest.py, so every docker test file can use it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from support import project_env


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.25) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def resources(prefix: str) -> dict[str, list[str]]:
    """Containers, networks and volumes whose compose project starts with prefix."""
    label = "com.docker.compose.project"
    found: dict[str, list[str]] = {}
    for kind, cmd in (("containers", ["ps", "-a"]), ("networks", ["network", "ls"]), ("volumes", ["volume", "ls"])):
        fmt = "{{.Names}}" if kind == "containers" else "{{.Name}}"
        rows = docker(*cmd, "--filter", f"label={label}", "--format", f'{fmt}\t{{{{.Label "{label}"}}}}')
        found[kind] = sorted(name for name, _, project in (r.partition("\t") for r in rows.splitlines())
                             if project.startswith(prefix))
    return found


def nothing_left(prefix: str) -> dict[str, list[str]]:
    left = resources(prefix)
    return {kind: names for kind, names in left.items() if names}


def images(prefix: str) -> list[str]:
    return sorted(r for r in docker("images", "--format", "{{.Repository}}").splitlines() if r.startswith(prefix))


class Project:
    """A rendered project with a fixed test instance id, cleaned up afterwards."""

    def __init__(self, root: Path, instance: str | None) -> None:
        self.root = root
        self.instance = instance
        self.slug = yaml.safe_load((root / ".copier-answers.yml").read_text())["project_slug"]

    def env(self) -> dict[str, str]:
        return project_env(**({"TEST_INSTANCE_ID": self.instance} if self.instance else {}))

    def instance_id(self) -> str:
        return subprocess.run(["scripts/get-test-instance-id.sh"], cwd=self.root, env=self.env(),
                              capture_output=True, text=True, check=True).stdout.strip()

    @property
    def prefix(self) -> str:
        return f"{self.slug}-test-{self.instance_id()}"

    def make(self, *targets: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", *targets], cwd=self.root, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)

    def clean(self) -> None:
        self.make("test-clean-all", timeout=300)


def assert_passed(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        pytest.fail(f"make exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}",
                    pytrace=False)


def healthy_services(ps_file: Path) -> set[str]:
    return {line.split()[0] for line in ps_file.read_text().splitlines() if "(healthy)" in line}


def https_get(port: int | str, path: str, cafile: Path, server_name: str = "localhost",
              timeout: float = 10, method: str = "GET", json_body: object = None,
              headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET (or method, with json_body and headers) path from 127.0.0.1:port over TLS, verifying
    the certificate against cafile for server_name: (status, body)."""
    context = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", int(port)), timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=server_name) as tls:
        conn = http.client.HTTPConnection(server_name, int(port), timeout=timeout)
        conn.sock = tls
        if json_body is None:
            conn.request(method, path, headers=headers or {})
        else:
            conn.request(method, path, body=json.dumps(json_body),
                         headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read().decode()


def free_ports(*names: str) -> dict[str, str]:
    """{name: a free loopback port}, for the host ports of a stack."""
    ports = {}
    for name in names:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports[name] = str(sock.getsockname()[1])
    return ports


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C to the process group it leads, then SIGKILL; it may be gone already (a failure)."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=60)
            return
        except subprocess.TimeoutExpired:
            continue
