#!/usr/bin/env python3
"""Many clients on one api's run event stream: the postgres connections they cost.

Renders the llm project (api, worker:worker; postgres, redis, llm) at git ref
--ref (default HEAD), and at --baseline REF too when given, brings up each
project's test stack (`make test-infra-up`), stops its workers so a run stays
queued, creates one run and opens --clients (default 200) concurrent
`GET /runs/{id}/events` streams on the api, each read until its first event.
While all are open it counts postgres' client connections (pg_stat_activity)
a few times, then closes them and counts again. Prints a row per project:
connections before, the most seen while the streams were open ("full" when
postgres refused the count itself), after, and how many streams got their
first event. Asserts nothing.

usage: .venv/bin/python bench/event_streams.py [--ref REF] [--baseline REF] [--clients N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import urllib.request
import warnings
from pathlib import Path

from pipeline import env, render

ANSWERS = {"project_name": "Bench Streams", "layout": "multi", "services": "api worker:worker",
           "components": ["postgres", "redis", "llm"], "ci_provider": "none"}
SLUG = "bench-streams"
CONNECTIONS = ("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
               "AND pid <> pg_backend_pid()")
SAMPLES = 5


def containers(project: str, service: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
                          "--filter", f"label=com.docker.compose.service={service}"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def connections(project: str) -> int | None:
    """postgres' client connections now (this query's own excepted); None when postgres
    refuses this one too (every connection slot is taken)."""
    postgres = containers(project, "postgres")[0]
    out = subprocess.run(["docker", "exec", postgres, "sh", "-c",
                          f'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "{CONNECTIONS}"'],
                         capture_output=True, text=True)
    if out.returncode != 0 and "too many clients" in out.stderr:
        return None
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr.strip()}")
    return int(out.stdout.strip())


def api_url(project: str) -> str:
    api = containers(project, "api")[0]
    ports = json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .NetworkSettings.Ports}}", api],
                                      capture_output=True, text=True, check=True).stdout)
    binding = next(b for spec, bindings in ports.items() if spec.endswith("/tcp") and bindings
                   for b in bindings)
    return f"http://127.0.0.1:{binding['HostPort']}"


def create_run(base: str) -> str:
    request = urllib.request.Request(f"{base}/runs", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"prompt": "held", "model": "gpt-3.5-turbo"}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["id"]


async def first_event(reader: asyncio.StreamReader) -> bool:
    """Whether the response is a 200 whose stream brings an event (not an error, not its end)."""
    if b" 200 " not in await reader.readline():
        return False
    while line := await reader.readline():
        if line.startswith(b"event: status"):
            return True
    return False  # the server ended the stream before its first event


async def open_stream(port: int, path: str, settled: asyncio.Event, release: asyncio.Event,
                      pending: list[int]) -> bool:
    """One client: the stream's headers and first event, then held open until release.
    Settled once it has its event or failed; the last one settled sets `settled`."""
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        got = await asyncio.wait_for(first_event(reader), 60)
    except (TimeoutError, OSError):
        got = False
    pending[0] -= 1
    if not pending[0]:
        settled.set()
    if got:
        await release.wait()
    if writer is not None:
        writer.close()
    return got


async def hold(base: str, run_id: str, clients: int, project: str) -> tuple[int | None, int]:
    """Open every stream; count connections while they are open; (most seen, streams with an event)."""
    port = int(base.rsplit(":", 1)[1])
    settled, release, pending = asyncio.Event(), asyncio.Event(), [clients]
    tasks = [asyncio.create_task(open_stream(port, f"/runs/{run_id}/events", settled, release, pending))
             for _ in range(clients)]
    await asyncio.wait_for(settled.wait(), 120)  # every client has its event or gave up
    seen = [await asyncio.to_thread(connections, project) for _ in range(SAMPLES)]
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return (None if None in seen else max(seen)), sum(1 for r in results if r is True)


def measure(project_dir: Path, instance: str, clients: int) -> tuple[int | None, ...]:
    project = f"{SLUG}-test-{instance}"
    subprocess.run(["make", "test-infra-up"], cwd=project_dir, env=env(instance), check=True,
                   capture_output=True)
    for worker in containers(project, "worker"):
        subprocess.run(["docker", "stop", worker], capture_output=True, check=True)
    base = api_url(project)
    run_id = create_run(base)
    before = connections(project)
    during, streamed = asyncio.run(hold(base, run_id, clients, project))
    after = connections(project)
    return before, during, after, streamed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the template's git ref to measure (default HEAD)")
    parser.add_argument("--baseline", metavar="REF", help="also measure the template at git ref REF")
    parser.add_argument("--clients", type=int, default=200, metavar="N", help="concurrent streams (200)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="bench-streams-"))
    projects = [(args.ref, render(tmp / "ref", args.ref, None, ANSWERS), "bench-ref")]
    if args.baseline:
        projects.append((args.baseline, render(tmp / "base", args.baseline, projects[0][1], ANSWERS),
                         "bench-base"))
    rows = []
    try:
        for label, project_dir, instance in projects:
            rows.append((label, *measure(project_dir, instance, args.clients)))
            subprocess.run(["make", "test-infra-down"], cwd=project_dir, env=env(instance), capture_output=True)
    finally:
        for _, project_dir, instance in projects:
            subprocess.run(["make", "test-clean-all"], cwd=project_dir, env=env(instance), capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{args.clients} event-stream clients on one api: postgres client connections")
    print(f"{'ref':<16} {'before':>7} {'during':>7} {'after':>7} {'streams':>8}")
    for label, *counts in rows:  # None: postgres refused even the count (all slots taken)
        print(f"{label[:16]:<16}" + "".join(f" {'full' if n is None else n:>7}" for n in counts[:3])
              + f" {counts[3]:>8}")


if __name__ == "__main__":
    main()
