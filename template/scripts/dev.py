#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["rich>=13", "watchfiles>=1.0"]
# ///
"""The development stack (deploy/dev/, started by `make dev-up`), and a test watcher.

NAME is a compose service of the dev stack (`status` lists them; several: spaces or commas).
The stack is `make dev-up`'s: deploy/dev/docker-compose.yml, merged with the
docker-compose.override.yml beside it, with deploy/dev/.env (compose project `<slug>-dev`).
Template-owned: `make update` merges template changes. Exit codes: 0 done, 1 a docker
command failed or the stack is not running, 2 usage error (an unknown name: nothing done).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
# Ruff would sort `services` apart where the project has a services/ folder.
# isort: off
import services as registry  # noqa: E402  (scripts/lib/services.py: scripts/services.json)
# isort: on

sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402  (scripts/stack: the stacks' compose files, the Makefile's too)

# What a test run writes itself (caches, builds, reports) never starts one.
IGNORED_DIRS = (".artifacts", ".ruff_cache", "dist", "coverage", "htmlcov", "build")
IGNORED_FILES = (r"^\.coverage", r"^coverage\.xml$", r"^junit.*\.xml$")
COMMANDS = {
    "refresh": "rebuild the named services' images from your folder, recreate their containers "
               "(data kept), wait until healthy; default: the running services built here",
    "restart": "restart the named containers (default: all), no rebuild; wait until healthy",
    "status": "one table: service, state, health, published ports, image age, restarts",
    "logs": "the named services' logs (default: all)",
    "test-watch": "re-run a service's unit tests each time one of its files changes",
}
COLOURS = {"running": "green", "exited (0)": "green", "not started": "dim", "healthy": "green",
           "unhealthy": "red", "starting": "yellow"}
Row = namedtuple("Row", "service state health ports image_age restarts")
Runner = Callable[[Sequence[str], Path], subprocess.CompletedProcess]
Caller = Callable[[Sequence[str], Path], int]


class DevError(Exception):
    """A one-line reason to stop; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def run_captured(argv: Sequence[str], root: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(list(argv), cwd=root, capture_output=True, text=True)
    except FileNotFoundError:
        raise DevError("docker is not installed (https://docs.docker.com/get-docker/)") from None


def run_attached(argv: Sequence[str], root: Path) -> int:
    """A command with its output on this terminal; its exit status (130: Ctrl-C)."""
    try:
        return subprocess.run(list(argv), cwd=root).returncode
    except KeyboardInterrupt:
        return 130


@dataclass
class Stack:
    """The dev stack, through `docker compose`: run captures, call streams (tests replace both)."""

    root: Path
    run: Runner = run_captured
    call: Caller = run_attached
    model: dict | None = None

    def compose(self, *args: str) -> list[str]:
        return [*stack.dev_compose(self.root), *args]

    def stream(self, *args: str) -> int:
        return self.call(self.compose(*args), self.root)

    def query(self, argv: Sequence[str], what: str) -> str:
        result = self.run(argv, self.root)
        if result.returncode != 0:
            lines = [line.strip() for line in (result.stderr or result.stdout).splitlines()]
            raise DevError(f"{what} failed: {next(filter(None, lines), 'no output')}")
        return result.stdout

    def config(self) -> dict:
        """The merged compose model, every optional member (profile) included (read once)."""
        if self.model is None:
            self.model = json.loads(self.query(self.compose(
                "--profile", "*", "config", "--format", "json"), "docker compose config"))
        return self.model

    def containers(self, stopped: bool = False) -> list[dict]:
        """`docker compose ps --all`; a one-line error unless one of them runs (stopped: exists)."""
        out = self.query(self.compose("ps", "--all", "--format", "json"), "docker compose ps")
        found = [json.loads(line) for line in out.splitlines() if line.strip()]
        if not (found if stopped else any(c.get("State") == "running" for c in found)):
            name = self.config().get("name", "the dev stack")
            raise DevError(f"the dev stack ({name}) is not running: start it with `make dev-up`")
        return found

    def inspect(self, kind: str, ids: Iterable[str]) -> dict[str, dict]:
        ids = sorted(set(filter(None, ids)))
        return {item["Id"]: item for item in json.loads(self.query(
            ["docker", kind, "inspect", *ids], f"docker {kind} inspect") if ids else "[]")}


def check(wanted: Sequence[str], valid: Iterable[str], what: str = "the dev services") -> list[str]:
    """The names, or a usage error listing the valid ones when one is unknown."""
    valid = sorted(valid)
    unknown = [name for name in wanted if name not in valid]
    if unknown:
        raise DevError(f"unknown service{'s' if len(unknown) > 1 else ''} {' '.join(unknown)}; "
                       f"{what} are: {' '.join(valid)}", code=2)
    return list(dict.fromkeys(wanted))


def age(created: str, now: datetime) -> str:
    """'5m', '3h', '2d' since Docker's RFC 3339 time (UTC; the fraction of a second cut)."""
    if not created:
        return "-"
    when = datetime.fromisoformat(created.rstrip("Z").split(".")[0]).replace(tzinfo=UTC)
    seconds = max(0, int((now - when).total_seconds()))
    unit, size = next((u, n) for u, n in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
                      if seconds >= n or n == 1)
    return f"{seconds // size}{unit}"


def rows(stack: Stack, containers: list[dict], now: datetime | None = None) -> list[Row]:
    """One row per compose service: its container's facts, or `not started`."""
    details = {full[:12]: info for full, info in
               stack.inspect("container", (c["ID"] for c in containers)).items()}
    images = stack.inspect("image", (info.get("Image", "") for info in details.values()))
    found = []
    for c in sorted(containers, key=lambda c: (c.get("Service", ""), c.get("Name", ""))):
        info, state = details.get(c["ID"][:12], {}), c.get("State", "?")
        ports = sorted({f"{p.get('URL')}:{p['PublishedPort']}->{p.get('TargetPort')}"
                        for p in c.get("Publishers") or [] if p.get("PublishedPort")})
        created = images.get(info.get("Image", ""), {}).get("Created", "")
        found.append(Row(c.get("Service", "?"),
                         f"exited ({c.get('ExitCode', '?')})" if state == "exited" else state,
                         c.get("Health") or "-", ", ".join(ports) or "-",
                         age(created, now or datetime.now(UTC)),
                         str(info.get("RestartCount", "-"))))
    present = {c.get("Service") for c in containers}
    return found + [Row(name, "not started", "-", "-", "-", "-")
                    for name in sorted(stack.config()["services"]) if name not in present]


def status(stack: Stack) -> int:
    from rich.console import Console
    from rich.table import Table

    found = rows(stack, stack.containers())
    table = Table(title=f"{stack.config().get('name')} (deploy/dev)", title_justify="left")
    for column in ("service", "state", "health", "published ports", "image age", "restarts"):
        table.add_column(column, justify="right" if column == "restarts" else "left")
    for row in found:
        table.add_row(row.service, f"[{COLOURS.get(row.state, 'red')}]{row.state}[/]",
                      f"[{COLOURS.get(row.health, 'default')}]{row.health}[/]", *row[3:])
    # Not a terminal (a pipe, CI): wide enough that no column is cut.
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return 0


def changed_services(changes: Iterable[tuple[object, str]], entries: list[dict],
                     root: Path) -> list[str]:
    """The services whose files changed: for each file, the deepest service folder holding it."""
    folders = sorted((((root / str(e["path"])).resolve(), str(e["name"])) for e in entries),
                     key=lambda folder: -len(folder[0].parts))
    paths = (Path(changed).resolve() for _, changed in changes)
    return sorted({next((name for f, name in folders if p == f or f in p.parents), "")
                   for p in paths} - {""})


def watch_filter():  # noqa: ANN201 - watchfiles.DefaultFilter (imported here: test-watch only)
    """watchfiles' default (caches, .venv, node_modules, ...) and what a test run writes."""
    from watchfiles import DefaultFilter

    return DefaultFilter(
        ignore_dirs=(*DefaultFilter.ignore_dirs, *IGNORED_DIRS),
        ignore_entity_patterns=(*DefaultFilter.ignore_entity_patterns, *IGNORED_FILES))


def test_watch(root: Path, wanted: Sequence[str]) -> int:
    from rich.console import Console
    from watchfiles import watch

    entries = registry.services(root)
    check(wanted, (str(e["name"]) for e in entries), "the services")
    entries = [e for e in entries if not wanted or e["name"] in wanted]
    console, watched = Console(), ", ".join(str(e["name"]) for e in entries)

    def run_unit(names: Iterable[str]) -> None:
        """The test runner's unit stage for these services, with its own display."""
        subprocess.run([sys.executable, str(root / "scripts" / "test-runner.py"), "--stage", "unit",
                        *(arg for name in names for arg in ("--service", str(name)))], cwd=root)

    run_unit(e["name"] for e in entries)
    folders = sorted({str((root / str(e["path"])).resolve()) for e in entries})
    ready = False
    try:
        # yield_on_timeout: no changes within rust_timeout (ms) yield an empty set, the first
        # once the watcher is live: only then does `watching` promise that an edit starts a run.
        for changes in watch(*folders, watch_filter=watch_filter(), raise_interrupt=False,
                             yield_on_timeout=True, rust_timeout=500):
            changed = changed_services(changes, entries, root)
            if changed:
                console.rule(f"changed: {', '.join(changed)}")
                run_unit(changed)
            elif not ready:
                console.print(f"[dim]watching {watched}; Ctrl-C stops[/]")
            ready = not changed
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: Sequence[str] | None = None, root: Path = ROOT, run: Runner = run_captured,
         call: Caller = run_attached) -> int:
    parser = argparse.ArgumentParser(prog="dev.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
        command = commands.add_parser(name, help=text, description=text)
        if name == "test-watch":
            command.add_argument("--service", dest="names", action="append", default=[],
                                 metavar="NAME")
        elif name != "status":
            command.add_argument("names", nargs="*", metavar="NAME")
    commands.choices["logs"].add_argument("--follow", "-f", action="store_true")
    args = parser.parse_args(argv)
    # Names as `make VAR="a b"` passes them: spaces or commas between them.
    names = [n for v in getattr(args, "names", []) for n in v.replace(",", " ").split()]
    stack = Stack(root, run, call)
    try:
        if args.command == "test-watch":
            return test_watch(root, names)
        if args.command == "status":
            return status(stack)
        names = check(names, stack.config()["services"])
        # A stopped stack's logs are still there to read.
        present = {c.get("Service") for c in stack.containers(stopped=args.command == "logs")}
        if args.command == "logs":
            return stack.stream("logs", *(["--follow"] if args.follow else []), *names)
        if args.command == "restart":  # `restart` does not wait for healthchecks; `up --wait` does
            return stack.stream("restart", *names) or stack.stream(
                "up", "--detach", "--no-build", "--no-recreate", "--no-deps", "--wait", *names)
        # Default: the running services built from this project. --no-deps: the rest of the stack
        # (postgres, its volume) stays as it is; --force-recreate: even when the image is the same.
        built = [n for n, spec in sorted(stack.config()["services"].items())
                 if spec.get("build") and n in present]
        return stack.stream("up", "--detach", "--build", "--force-recreate", "--no-deps", "--wait",
                            *(names or built))
    except (DevError, registry.RegistryError) as error:
        print(f"dev.py: {error}", file=sys.stderr)
        return error.code if isinstance(error, DevError) else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
