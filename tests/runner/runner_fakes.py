"""Helpers for testing the generated project's runner (template/scripts/test-runner.py).

The runner is imported from its file (the name has a dash) for the parser and
render tests, and run as a subprocess against a fake project for the rest: a
tmp_path with services/<name>/Dockerfile and scripts/*.sh that replay the
recorded tool output under tests/runner/recorded/ and then pass, fail, crash,
hang, or wait for an interrupt, depending on a behaviour file per target.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "template" / "scripts" / "test-runner.py"
RECORDED = Path(__file__).resolve().parent / "recorded"


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("project_test_runner", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def recorded(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


# One script stands in for all three stage scripts. Its behaviour file
# behaviour/<stage>-<key> holds "<mode> [<recorded file>]".
FAKE_TARGET = r"""#!/usr/bin/env bash
set -u
stage="$1" key="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
mark="${root}/markers/${stage}-${key}"
mode=pass file=""
if [[ -f "${root}/behaviour/${stage}-${key}" ]]; then
  read -r mode file < "${root}/behaviour/${stage}-${key}"
fi
file="${file:-pytest9-passing.txt}"
mkdir -p "${root}/running" "${root}/markers"
touch "${root}/running/${stage}-${key}"
running="$(find "${root}/running" -type f | wc -l)"
echo "start ${stage} ${key} ${running} $(date +%s.%N)" >> "${root}/events.log"
printf '%s\n' "${TEST_ARGS}" > "${mark}.test_args"
printf '%s\n' "${NO_COLOR:-unset} ${FORCE_COLOR:-unset}" > "${mark}.colors"
finish() {
  rm -f "${root}/running/${stage}-${key}"
  echo "end ${stage} ${key} $(date +%s.%N)" >> "${root}/events.log"
}
# Poll for a file with a deadline (the fake's stand-in for a real wait).
wait_for() {
  local deadline=$((SECONDS + 10))
  until [[ -e "$1" ]]; do
    if ((SECONDS > deadline)); then echo "timed out waiting for $1"; return 1; fi
    sleep 0.02
  done
}
case "${mode}" in
  pass) cat "${root}/recorded/${file}"; finish; exit 0 ;;
  fail) cat "${root}/recorded/${file}"; finish; exit 1 ;;
  crash)
    echo "Building ${key}"
    echo "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    finish; exit 3 ;;
  barrier)
    # Passes only when the other target named in the file runs at the same time.
    touch "${mark}.ready"
    wait_for "${root}/markers/${stage}-${file}.ready" || { finish; exit 1; }
    cat "${root}/recorded/pytest9-passing.txt"; finish; exit 0 ;;
  trap)
    # Stands for a compose test: on SIGINT it tears down, writes a marker, exits 130.
    on_int() {
      echo "got SIGINT" > "${mark}.interrupted"
      kill "${child}" 2>/dev/null
      finish
      exit 130
    }
    trap on_int INT
    head -n 8 "${root}/recorded/pytest9-passing.txt"
    printf 'tests/test_slow.py::test_forever '
    tail -f /dev/null & child=$!  # hangs until killed
    touch "${mark}.ready"
    wait "${child}"; finish; exit 0 ;;
  stubborn)
    # Ignores SIGINT: only the runner's SIGKILL ends it.
    trap '' INT
    tail -f /dev/null & child=$!  # hangs until killed
    echo "${child}" > "${mark}.child"
    touch "${mark}.ready"
    wait "${child}"; finish; exit 0 ;;
esac
echo "unknown mode ${mode}"; exit 2
"""

UNIT_TESTS = r"""#!/usr/bin/env bash
case "$1" in .) key=root ;; *) key="$(basename "$1")" ;; esac
exec "$(dirname "$0")/fake-target.sh" unit "${key}"
"""
TEST_SERVICE = r"""#!/usr/bin/env bash
exec "$(dirname "$0")/fake-target.sh" service "$1"
"""
INTEGRATION = r"""#!/usr/bin/env bash
exec "$(dirname "$0")/fake-target.sh" integration stack
"""


@dataclass
class Event:
    kind: str  # start | end
    stage: str
    key: str
    at: float
    running: int = 0


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class FakeProject:
    root: Path
    _procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def behave(self, stage: str, key: str, mode: str, file: str = "") -> None:
        (self.root / "behaviour" / f"{stage}-{key}").write_text(f"{mode} {file}\n")

    def events(self) -> list[Event]:
        log = self.root / "events.log"
        if not log.exists():
            return []
        events = []
        for line in log.read_text().splitlines():
            parts = line.split()
            if parts[0] == "start":
                events.append(Event("start", parts[1], parts[2], float(parts[4]), int(parts[3])))
            else:
                events.append(Event("end", parts[1], parts[2], float(parts[3])))
        return events

    def started(self) -> list[tuple[str, str]]:
        return [(e.stage, e.key) for e in self.events() if e.kind == "start"]

    def marker(self, stage: str, key: str, suffix: str) -> Path:
        return self.root / "markers" / f"{stage}-{key}.{suffix}"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, str(RUNNER), "--root", str(self.root), *args]

    def run(self, *args: str, timeout: float = 30) -> Result:
        proc = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=plain_env(),
            stdin=subprocess.DEVNULL,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=plain_env(),
            stdin=subprocess.DEVNULL,
        )
        self._procs.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        for child in (self.root / "markers").glob("*.child"):
            try:
                os.kill(int(child.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


def plain_env() -> dict[str, str]:
    """The caller's environment without anything that forces colours or sizes."""
    drop = {"FORCE_COLOR", "NO_COLOR", "PY_COLORS", "COLUMNS", "LINES", "TEST_ARGS"}
    drop |= {"TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def wait_until(condition: Callable[[], bool], timeout: float = 15, what: str = "") -> None:
    """Poll a condition until it holds; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.02)


def make_fake_project(
    root: Path, services: dict[str, str] | None = None, layout: str = "multi"
) -> FakeProject:
    """services: name -> 'python' | 'node'. Single layout: one service at the root."""
    if services is None:
        services = {"api": "python", "web": "node", "worker": "python"}
    scripts = root / "scripts"
    scripts.mkdir(parents=True)
    for name, text in {
        "fake-target.sh": FAKE_TARGET,
        "unit-tests.sh": UNIT_TESTS,
        "test-service.sh": TEST_SERVICE,
        "run-integration-tests.sh": INTEGRATION,
    }.items():
        path = scripts / name
        path.write_text(text)
        path.chmod(0o755)
    shutil.copytree(RECORDED, root / "recorded", ignore=shutil.ignore_patterns("*.sh", "*.md"))
    (root / "behaviour").mkdir()
    (root / "markers").mkdir()
    if layout == "multi":
        (root / "pyproject.toml").write_text('[project]\nname = "stack-tests"\n')
        for name, language in services.items():
            folder = root / "services" / name
            folder.mkdir(parents=True)
            (folder / "Dockerfile").write_text("FROM scratch\n")
            manifest = "pyproject.toml" if language == "python" else "package.json"
            (folder / manifest).write_text("{}\n" if language == "node" else "[project]\n")
    else:
        ((name, language),) = services.items()
        manifest = "pyproject.toml" if language == "python" else "package.json"
        (root / manifest).write_text("{}\n" if language == "node" else "[project]\n")
        suffix = "" if language == "python" else ":node"
        (root / ".copier-answers.yml").write_text(
            f"_commit: v0.1.0\n_src_path: gh:example/template\nservices: {name}{suffix}\n"
        )
    return FakeProject(root)
