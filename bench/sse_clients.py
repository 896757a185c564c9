#!/usr/bin/env python3
"""Postgres connections held by the python api while many clients stream run events.

Renders a project (services "api worker:worker beat:scheduler", postgres,
redis, llm), starts its stage-3 test stack (scripts/run-integration-tests.sh
--up), stops the worker and the scheduler (so the runs stay queued and every
stream stays open), creates --runs runs and holds --clients concurrent
`GET /runs/<id>/events` streams on the api. Prints the connections postgres
serves (pg_stat_activity, this database) before, while the streams are open,
and after they closed. With the pooled api (db.py) and one LISTEN connection
per api process, "during" stays within its two pools' bound (DB_POOL_MAX, 10,
for the routes and as many for the streams' queries) plus the listener,
whatever --clients is; the api of old held one connection per stream.
Removes the stack at the end (--keep leaves it). Asserts nothing. Measured
on a two-core machine: 200 clients, before 2, during 18, after 18.

usage: .venv/bin/python bench/sse_clients.py [PROJECT] [--clients N] [--runs N] [--keep]
  PROJECT  a generated project with those services; default: render one into
           a temp dir with copier (the template's HEAD)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
BENCH_DATA = {
    "project_name": "Bench",
    "services": "api worker:worker beat:scheduler",
    "components": ["postgres", "redis", "llm"],
}

# uv, from the template's venv, comes first (as in tests/conftest.py).
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def render(dst: Path) -> Path:
    from copier import run_copy

    run_copy(str(TEMPLATE), str(dst), data=BENCH_DATA, defaults=True, unsafe=True, quiet=True,
             vcs_ref="HEAD")
    return dst


def run(*args: str, cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout.strip()


def container(project: Path, compose_project: str, service: str) -> str:
    ids = run("docker", "ps", "--quiet", "--filter", f"label=com.docker.compose.project={compose_project}",
              "--filter", f"label=com.docker.compose.service={service}", cwd=project).split()
    if not ids:
        sys.exit(f"no running container of {service} in {compose_project}")
    return ids[0]


def connections(project: Path, postgres: str) -> int:
    """Client connections postgres serves to the app database (the stack's services)."""
    out = run("docker", "exec", postgres, "psql", "-U", "app", "-d", "app", "-tAc",
              "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()",
              cwd=project)
    return int(out)


def create_run(base: str, index: int) -> str:
    body = json.dumps({"prompt": f"bench {index}", "model": "gpt-3.5-turbo"}).encode()
    request = urllib.request.Request(f"{base}/runs", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["id"]


async def open_stream(port: int, run_id: str) -> asyncio.StreamWriter:
    """One event-stream client: the request sent and the response's first event read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /runs/{run_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), timeout=60)
    if b" 200 " not in status:
        raise RuntimeError(f"stream of {run_id}: {status!r}")
    while b"event: status" not in await asyncio.wait_for(reader.readline(), timeout=60):
        pass
    return writer


async def hold(port: int, run_ids: list[str], clients: int, measure) -> int:  # noqa: ANN001
    writers = await asyncio.gather(*(open_stream(port, run_ids[i % len(run_ids)])
                                     for i in range(clients)))
    during = measure()
    for writer in writers:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for writer in writers), return_exceptions=True)
    return during


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", nargs="?", type=Path)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sse-") as tmp:
        project = args.project or render(Path(tmp) / "bench")
        instance = run("scripts/get-test-instance-id.sh", cwd=project)
        compose_project = f"{BENCH_DATA['project_name'].lower()}-test-{instance}"
        run("scripts/run-integration-tests.sh", "--up", "--with-beat", cwd=project)
        try:
            for service in ("worker", "beat"):
                run("docker", "stop", container(project, compose_project, service), cwd=project)
            postgres = container(project, compose_project, "postgres")
            api = container(project, compose_project, "api")
            mapping = run("docker", "port", api, cwd=project).splitlines()[0]  # 8000/tcp -> 127.0.0.1:N
            port = int(mapping.rsplit(":", 1)[1])
            base = f"http://127.0.0.1:{port}"
            run_ids = [create_run(base, i) for i in range(args.runs)]
            before = connections(project, postgres)
            started = time.monotonic()
            during = asyncio.run(hold(port, run_ids, args.clients,
                                      lambda: connections(project, postgres)))
            opened = time.monotonic() - started
            after = connections(project, postgres)  # the pools keep their idle connections a while
        finally:
            if not args.keep:
                run("scripts/run-integration-tests.sh", "--down", cwd=project)
    print(f"{args.clients} event-stream clients on {args.runs} queued runs (opened in {opened:.1f} s)")
    print(f"{'postgres connections':<24}{'before':>8}{'during':>8}{'after':>8}")
    print(f"{'(pg_stat_activity)':<24}{before:>8}{during:>8}{after:>8}")


if __name__ == "__main__":
    main()
