#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["rich>=13", "watchfiles>=1.0"]
# ///
"""The development stack (deploy/dev/, started by `make dev-up`), and a test watcher.

Usage: uv run scripts/dev.py COMMAND [NAME...]

  refresh [NAME...]       rebuild the named services' images from your folder and
                          recreate their containers (volumes and data are kept),
                          then wait until they are healthy; default: every
                          service of the running stack built from this project
  restart [NAME...]       restart the named containers, no rebuild, then wait until
                          they are healthy; default: every one of the running stack
  status                  one table: service, state, health, published ports,
                          image age, restarts (optional members not started too)
  logs [--follow] [NAME...]   the named services' logs (default: all)
  test-watch [--service NAME]...
                          run the unit tests of a service (the test runner's
                          display) each time one of its files changes

NAME is a compose service of the dev stack: a service of scripts/services.json,
its one-shot `<name>-migrate` step, or an infrastructure member (postgres,
redis, ...); `status` lists them. The stack is the one `make dev-up` starts:
deploy/dev/docker-compose.yml, merged with deploy/dev/docker-compose.override.yml
when it exists, with deploy/dev/.env (compose project `<slug>-dev`).
Template-owned: `make update` merges template changes.

Exit codes: 0 done, 1 a docker command failed or the stack is not running,
2 usage error (an unknown service name: nothing is done).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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

Runner = Callable[[Sequence[str], Path], subprocess.CompletedProcess]
Caller = Callable[[Sequence[str], Path], int]


class DevError(Exception):
    """A one-line reason to stop; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def compose_base(root: Path) -> list[str]:
    """`docker compose` with the dev stack's files (the Makefile's DEV prints the same)."""
    return stack.dev_compose(root)


def run_captured(argv: Sequence[str], root: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(list(argv), cwd=root, capture_output=True, text=True)
    except FileNotFoundError:
        raise DevError("docker is not installed (https://docs.docker.com/get-docker/)") from None


def run_attached(argv: Sequence[str], root: Path) -> int:
    """A command with its output on this terminal; its exit status."""
    try:
        return subprocess.run(list(argv), cwd=root).returncode
    except KeyboardInterrupt:
        return 130


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")


@dataclass
class Stack:
    """The dev stack, through `docker compose`: run captures, call streams (tests replace both)."""

    root: Path
    run: Runner = run_captured
    call: Caller = run_attached
    model: dict | None = None

    def compose(self, *args: str) -> list[str]:
        return [*compose_base(self.root), *args]

    def query(self, argv: Sequence[str], what: str) -> str:
        result = self.run(argv, self.root)
        if result.returncode != 0:
            raise DevError(f"{what} failed: {first_line(result.stderr or result.stdout)}")
        return result.stdout

    def config(self) -> dict:
        """The merged compose model, every optional member (profile) included (read once)."""
        if self.model is None:
            out = self.query(self.compose("--profile", "*", "config", "--format", "json"),
                             "docker compose config")
            self.model = json.loads(out)
        return self.model

    def names(self) -> list[str]:
        return sorted((self.config().get("services") or {}).keys())

    def name(self) -> str:
        return str(self.config().get("name", "the dev stack"))

    def containers(self) -> list[dict]:
        """`docker compose ps --all` as dicts (JSON lines; an older compose prints one array)."""
        out = self.query(self.compose("ps", "--all", "--format", "json"), "docker compose ps")
        text = out.strip()
        if not text:
            return []
        if text.startswith("["):
            return list(json.loads(text))
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def inspect(self, kind: str, ids: Iterable[str]) -> dict[str, dict]:
        ids = sorted(set(ids))
        if not ids:
            return {}
        out = self.query(["docker", kind, "inspect", *ids], f"docker {kind} inspect")
        return {item["Id"]: item for item in json.loads(out)}


def check_names(stack: Stack, wanted: Sequence[str]) -> list[str]:
    """The names, or a usage error listing the valid ones when one is unknown."""
    valid = stack.names()
    unknown = [name for name in wanted if name not in valid]
    if unknown:
        raise DevError(f"unknown service{'s' if len(unknown) > 1 else ''} {' '.join(unknown)}; "
                       f"the dev services are: {' '.join(valid)}", code=2)
    return list(dict.fromkeys(wanted))


def not_running(stack: Stack) -> DevError:
    return DevError(f"the dev stack ({stack.name()}) is not running: start it with `make dev-up`")


def running(stack: Stack) -> list[dict]:
    """The stack's containers, or a one-line error when none of them runs."""
    containers = stack.containers()
    if not any(c.get("State") == "running" for c in containers):
        raise not_running(stack)
    return containers


def built_services(stack: Stack, containers: list[dict]) -> list[str]:
    """The services of the running stack that build an image from this project."""
    specs = stack.config().get("services") or {}
    present = {c.get("Service") for c in containers}
    return sorted(name for name, spec in specs.items() if spec.get("build") and name in present)


def stream(stack: Stack, *args: str) -> int:
    """A compose command with its output on this terminal; its exit status."""
    return stack.call(stack.compose(*args), stack.root)


def refresh(stack: Stack, names: Sequence[str]) -> int:
    names = check_names(stack, names)
    containers = running(stack)
    targets = names or built_services(stack, containers)
    # --no-deps: the rest of the stack (postgres and its volume) stays as it is;
    # --force-recreate: a new container even when the image did not change.
    return stream(stack, "up", "--detach", "--build", "--force-recreate", "--no-deps", "--wait",
                  *targets)


def restart(stack: Stack, names: Sequence[str]) -> int:
    names = check_names(stack, names)
    running(stack)
    code = stream(stack, "restart", *names)
    if code:
        return code
    # `restart` does not wait for the healthchecks; `up --wait` on the same containers does.
    return stream(stack, "up", "--detach", "--no-build", "--no-recreate", "--no-deps", "--wait",
                  *names)


def logs(stack: Stack, names: Sequence[str], follow: bool) -> int:
    names = check_names(stack, names)
    if not stack.containers():
        raise not_running(stack)
    return stream(stack, "logs", *(["--follow"] if follow else []), *names)


# --- status -----------------------------------------------------------------------


@dataclass
class Row:
    service: str
    state: str
    health: str
    ports: str
    image_age: str
    restarts: str


def age(created: str, now: datetime) -> str:
    """'5m', '3h', '2d' since an RFC 3339 time (Docker's nanoseconds cut to micro)."""
    if not created:
        return "-"
    stamp = created.rstrip("Z").split(".")
    when = datetime.fromisoformat(stamp[0]).replace(tzinfo=UTC)
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def ports(container: dict) -> str:
    published = sorted({f"{p.get('URL')}:{p['PublishedPort']}->{p.get('TargetPort')}"
                        for p in container.get("Publishers") or [] if p.get("PublishedPort")})
    return ", ".join(published) or "-"


def rows(stack: Stack, containers: list[dict], now: datetime | None = None) -> list[Row]:
    """One row per compose service: its container's facts, or `not started`."""
    now = now or datetime.now(UTC)
    details = stack.inspect("container", (c["ID"] for c in containers))
    by_id = {full[:12]: info for full, info in details.items()}
    images = stack.inspect("image", (info.get("Image", "") for info in details.values()))
    found = []
    for c in sorted(containers, key=lambda c: (c.get("Service", ""), c.get("Name", ""))):
        info = by_id.get(c["ID"][:12], {})
        image = images.get(info.get("Image", ""), {})
        state = c.get("State", "?")
        if state == "exited":
            state = f"exited ({c.get('ExitCode', '?')})"
        found.append(Row(c.get("Service", "?"), state, c.get("Health") or "-", ports(c),
                         age(image.get("Created", ""), now), str(info.get("RestartCount", "-"))))
    present = {c.get("Service") for c in containers}
    for name in stack.names():
        if name not in present:
            found.append(Row(name, "not started", "-", "-", "-", "-"))
    return found


def status(stack: Stack) -> int:
    from rich.console import Console
    from rich.table import Table

    found = rows(stack, running(stack))
    # Not a terminal (a pipe, CI): wide enough that no column is cut.
    console = Console(width=None if sys.stdout.isatty() else 160)
    colours = {"healthy": "green", "unhealthy": "red", "starting": "yellow"}
    table = Table(title=f"{stack.name()} (deploy/dev)", title_justify="left")
    for column in ("service", "state", "health", "published ports", "image age", "restarts"):
        table.add_column(column, justify="right" if column == "restarts" else "left")
    for row in found:
        state_colour = "green" if row.state == "running" or row.state == "exited (0)" else (
            "dim" if row.state == "not started" else "red")
        table.add_row(row.service, f"[{state_colour}]{row.state}[/]",
                      f"[{colours.get(row.health, 'default')}]{row.health}[/]", row.ports,
                      row.image_age, row.restarts)
    console.print(table)
    return 0


# --- test-watch -------------------------------------------------------------------


def owner(path: Path, entries: list[dict], root: Path) -> str | None:
    """The service a changed file belongs to: the deepest service folder holding it."""
    best: tuple[int, str] | None = None
    for entry in entries:
        folder = (root / str(entry["path"])).resolve()
        if path == folder or folder in path.parents:
            depth = len(folder.parts)
            if best is None or depth > best[0]:
                best = (depth, str(entry["name"]))
    return best[1] if best else None


def changed_services(changes: Iterable[tuple[object, str]], entries: list[dict],
                     root: Path) -> list[str]:
    names = (owner(Path(path).resolve(), entries, root) for _, path in changes)
    return sorted({name for name in names if name})


def watch_filter():  # noqa: ANN201 - watchfiles.DefaultFilter (imported here: test-watch only)
    """watchfiles' default (caches, .venv, node_modules, ...) and what a test run writes."""
    from watchfiles import DefaultFilter

    return DefaultFilter(
        ignore_dirs=(*DefaultFilter.ignore_dirs, *IGNORED_DIRS),
        ignore_entity_patterns=(*DefaultFilter.ignore_entity_patterns, *IGNORED_FILES))


def run_unit(root: Path, names: Sequence[str]) -> int:
    """The test runner's unit stage for these services, with its own display."""
    argv = [sys.executable, str(root / "scripts" / "test-runner.py"), "--stage", "unit"]
    for name in names:
        argv += ["--service", name]
    return subprocess.run(argv, cwd=root).returncode


def test_watch(root: Path, wanted: Sequence[str]) -> int:
    from rich.console import Console
    from watchfiles import watch

    entries = registry.services(root)
    valid = [str(e["name"]) for e in entries]
    unknown = [name for name in wanted if name not in valid]
    if unknown:
        raise DevError(f"unknown service {' '.join(unknown)}; the services are: {' '.join(valid)}",
                       code=2)
    entries = [e for e in entries if not wanted or e["name"] in wanted]
    folders = sorted({str((root / str(e["path"])).resolve()) for e in entries})
    console = Console()
    names = [str(e["name"]) for e in entries]
    run_unit(root, names)
    console.print(f"[dim]watching {', '.join(names)}; Ctrl-C stops[/]")
    try:
        for changes in watch(*folders, watch_filter=watch_filter(), raise_interrupt=False):
            changed = changed_services(changes, entries, root)
            if changed:
                console.rule(f"changed: {', '.join(changed)}")
                run_unit(root, changed)
                console.print(f"[dim]watching {', '.join(names)}; Ctrl-C stops[/]")
    except KeyboardInterrupt:
        pass
    return 0


# --- command line -------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="dev.py", description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    for name, text in (("refresh", "rebuild and recreate services, data kept"),
                       ("restart", "restart services, no rebuild")):
        command = commands.add_parser(name, help=text)
        command.add_argument("names", nargs="*", metavar="NAME")
    commands.add_parser("status", help="one table of every dev service")
    shown = commands.add_parser("logs", help="the services' logs")
    shown.add_argument("--follow", "-f", action="store_true")
    shown.add_argument("names", nargs="*", metavar="NAME")
    watching = commands.add_parser("test-watch", help="re-run a service's unit tests on change")
    watching.add_argument("--service", action="append", default=[], metavar="NAME")
    return main


def split_names(values: Sequence[str]) -> list[str]:
    """Names as `make VAR="a b"` passes them: spaces or commas between them."""
    return [name for value in values for name in value.replace(",", " ").split()]


def main(argv: Sequence[str] | None = None, root: Path = ROOT, run: Runner = run_captured,
         call: Caller = run_attached) -> int:
    args = parser().parse_args(argv)
    stack = Stack(root, run, call)
    try:
        if args.command == "test-watch":
            return test_watch(root, split_names(args.service))
        if args.command == "status":
            return status(stack)
        names = split_names(args.names)
        if args.command == "refresh":
            return refresh(stack, names)
        if args.command == "restart":
            return restart(stack, names)
        return logs(stack, names, args.follow)
    except (DevError, registry.RegistryError) as error:
        print(f"dev.py: {error}", file=sys.stderr)
        return error.code if isinstance(error, DevError) else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
