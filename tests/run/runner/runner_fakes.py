"""Helpers for testing the generated project's runner (template/scripts/test-runner.py).

The runner's package (template/scripts/test_runner/, importable as test_runner
once conftest.py put its folder on sys.path) is imported for the parser,
plan and render tests, and scripts/test-runner.py is run as a subprocess
against a fake project for the rest: a tmp_path with scripts/services.json,
services/<name>/Dockerfile and scripts/*.sh that replay the recorded tool
output under tests/run/runner/recorded/ (and its junit report, where the stage
scripts would write it) and then pass, fail, crash, hang, or wait for an
interrupt, depending on a behaviour file per target.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "template" / "scripts"
RUNNER = SCRIPTS / "test-runner.py"
RECORDED = Path(__file__).resolve().parent / "recorded"
INSTANCE = "fake"


def recorded(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


# One script stands in for all three stage scripts. Its behaviour file
# behaviour/<stage>-<key> holds "<mode> [<recorded file>]".
FAKE_TARGET = r"""#!/usr/bin/env bash
set -u
stage="$1" key="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
mark="${root}/markers/${stage}-${key}"
# Started ahead of its stage (TEST_HOLD=1, as scripts/stack is): test only on "go".
if [[ "${TEST_HOLD:-}" == 1 ]]; then
  mkdir -p "${root}/markers"
  echo "prepared ${stage} ${key} $(date +%s.%N)" >> "${root}/held.log"
  touch "${mark}.prepared"
  read -r go || go=eof
  echo "${go} ${stage} ${key} $(date +%s.%N)" >> "${root}/held.log"
  [[ "${go}" == go ]] || exit 0
fi
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
# The junit report of the recorded run, where scripts/stack puts it.
report() {
  local junit="${root}/recorded/${file%.txt}.junit.xml" dir
  [[ -f "${junit}" && -x "${root}/scripts/get-test-instance-id.sh" ]] || return 0
  case "${stage}" in
    unit) dir="unit/${key}"; [[ "${key}" == root ]] && dir="unit/$(basename "${root}")" ;;
    service) dir="service-${key}" ;;
    *) dir=integration; [[ "${key}" == stack:* ]] && dir="integration-${key#stack:}" ;;
  esac
  dir="${root}/.artifacts/$("${root}/scripts/get-test-instance-id.sh")/${dir}"
  mkdir -p "${dir}"
  cp "${junit}" "${dir}/junit.xml"
}
case "${mode}" in
  pass) cat "${root}/recorded/${file}"; report; finish; exit 0 ;;
  fail) cat "${root}/recorded/${file}"; report; finish; exit 1 ;;
  oom)
    # What scripts/stack prints when the kernel killed a container for memory.
    head -n 8 "${root}/recorded/pytest9-passing.txt"
    echo "run-integration-tests.sh: api: killed: out of memory (limit 256m)"
    finish; exit 1 ;;
  crash)
    echo "Building ${key}"
    echo "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    finish; exit 3 ;;
  barrier)
    # Passes only when the other target named in the file runs at the same time.
    touch "${mark}.ready"
    wait_for "${root}/markers/${stage}-${file}.ready" || { finish; exit 1; }
    cat "${root}/recorded/pytest9-passing.txt"; finish; exit 0 ;;
  await)
    # Passes only once the marker file named (markers/FILE) exists.
    wait_for "${root}/markers/${file}" || { finish; exit 1; }
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
key=stack
while (($#)); do
  case $1 in --suite) key="stack:$2"; shift ;; esac
  shift
done
exec "$(dirname "$0")/fake-target.sh" integration "${key}"
"""
INSTANCE_ID = f"""#!/usr/bin/env bash
echo {INSTANCE}
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

    def held(self) -> list[Event]:
        """What the targets started ahead of their stage logged: prepared, then go or eof."""
        log = self.root / "held.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [Event(kind, stage, key, float(at)) for kind, stage, key, at in map(str.split, lines)]

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
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the template's scripts/
    return env


def wait_until(condition: Callable[[], bool], timeout: float = 15, what: str = "") -> None:
    """Poll a condition until it holds; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.02)


def make_fake_project(
    root: Path,
    services: dict[str, str] | None = None,
    layout: str = "multi",
    registry: bool = True,
    reports: bool = True,
) -> FakeProject:
    """services: name -> 'python' | 'node'. Single layout: one service at the root.

    registry: write scripts/services.json (else the runner scans the folders).
    reports: give the project scripts/get-test-instance-id.sh, so that targets
    replaying a recording also leave its junit report where the runner looks.
    """
    if services is None:
        services = {"api": "python", "web": "node", "worker": "python"}
    scripts = root / "scripts"
    scripts.mkdir(parents=True)
    files = {
        "fake-target.sh": FAKE_TARGET,
        "unit-tests.sh": UNIT_TESTS,
        "test-service.sh": TEST_SERVICE,
        "run-integration-tests.sh": INTEGRATION,
    }
    if reports:
        files["get-test-instance-id.sh"] = INSTANCE_ID
    for name, text in files.items():
        path = scripts / name
        path.write_text(text)
        path.chmod(0o755)
    shutil.copytree(RECORDED, root / "recorded", ignore=shutil.ignore_patterns("*.sh", "*.md"))
    (root / "behaviour").mkdir()
    (root / "markers").mkdir()
    entries = []
    if layout == "multi":
        (root / "pyproject.toml").write_text('[project]\nname = "stack-tests"\n')
        for name, language in services.items():
            folder = root / "services" / name
            folder.mkdir(parents=True)
            (folder / "Dockerfile").write_text("FROM scratch\n")
            write_manifest(folder, language)
            entries.append(registry_entry(name, f"services/{name}", language))
    else:
        ((name, language),) = services.items()
        write_manifest(root, language)
        entries.append(registry_entry(name, ".", language))
    if registry:
        write_registry(root, layout, entries)
    return FakeProject(root)


def write_manifest(folder: Path, language: str) -> None:
    if language == "python":
        (folder / "pyproject.toml").write_text("[project]\n")
    else:
        (folder / "package.json").write_text("{}\n")


def registry_entry(name: str, path: str, language: str, kind: str = "api") -> dict[str, object]:
    """One service of scripts/services.json, in the registry's fixed shape."""
    return {
        "name": name,
        "path": path,
        "language": language,
        "kind": kind,
        "package": name.replace("-", "_"),
        "env": name.upper().replace("-", "_"),
        "port": 8000,
        "dev_port": 8000,
        "framework": "pytest" if language == "python" else "vitest",
        "word": name,
        "upstream": None,
    }


def write_registry(root: Path, layout: str, services: list[dict[str, object]]) -> None:
    path = root / "scripts" / "services.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    registry = {"layout": layout, "project_slug": root.name, "services": services}
    path.write_text(json.dumps(registry, indent=2) + "\n")
