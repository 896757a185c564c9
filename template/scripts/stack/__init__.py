"""This project's stacks, every fact about them stated once.

Template-owned: `make update` merges template changes. Standard library only,
Python 3.9 or newer (macOS's own). The test scripts (scripts/*.sh), the test
runner and scripts/dev.py read these facts; `python3 scripts/stack` runs them
(stack/__main__.py).

  dev          deploy/dev/docker-compose.yml + your override beside it
  stage 3      deploy/test/docker-compose.yml + override, project <slug>-test-<instance>
  stage 2      services/<name>/deploy/test/..., project <slug>-test-<instance>-svc-<name>
  suite NAME   the stage 3 files, project <slug>-test-<instance>-suite-<name>
  artifacts    .artifacts/<instance>/{unit/<folder>,service-<name>,integration,integration-<suite>}
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .registry import load, services

ROOT = Path(__file__).resolve().parent.parent.parent
DEV_FILE = "deploy/dev/docker-compose.yml"
TEST_FILE = "deploy/test/docker-compose.yml"
OVERRIDE = "docker-compose.override.yml"
# Compose splits COMPOSE_FILE at this separator: a newline, which no sane path
# contains (the default, ':', may be part of a checkout's path).
SEPARATOR = "\n"


def compose_files(file: Path) -> list[Path]:
    """A compose file, then the user-owned override beside it when it exists."""
    override = file.parent / OVERRIDE
    return [file, override] if override.is_file() else [file]


def dev_compose(root: Path = ROOT) -> list[str]:
    """`docker compose -f ...` of the dev stack (paths from the root): make's DEV, dev.py's."""
    files = [f.relative_to(root).as_posix() for f in compose_files(root / DEV_FILE)]
    return ["docker", "compose", *(arg for f in files for arg in ("-f", f))]


def sanitise(text: str, limit: int) -> str:
    """Lowercase ASCII; anything but a-z0-9 becomes '-'; no leading, trailing or double '-'."""
    text = re.sub(rb"[^a-z0-9]+", b"-", text.encode().lower()).decode()
    return (text[1:] if text.startswith("-") else text)[:limit].rstrip("-") or "none"


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def instance_id(root: Path = ROOT) -> str:
    """The git branch, sanitised, plus a hash of the checkout's path, so two branches,
    worktrees or clones never share a test stack. TEST_INSTANCE_ID overrides it."""
    if os.environ.get("TEST_INSTANCE_ID"):
        return sanitise(os.environ["TEST_INSTANCE_ID"], 40)
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        top, branch = os.path.abspath(root), "nogit"
    else:
        branch = _git(root, "symbolic-ref", "--short", "-q", "HEAD") or (
            "detached-" + (_git(root, "rev-parse", "--short", "HEAD") or "none"))
    # POSIX cksum (Linux and macOS alike): ids stay those of the earlier shell script.
    crc = subprocess.run(["cksum"], input=top.encode(), capture_output=True, check=True).stdout
    return f"{sanitise(branch, 20)}-{int(crc.split()[0]) % 1000000:06d}"


def project_name(instance: str, service: str = "", suite: str = "", root: Path = ROOT) -> str:
    """The compose project of stage 3, of one service's stage 2, or of one suite."""
    name = f"{load(root)['project_slug']}-test-{instance}"
    return f"{name}-svc-{service}" if service else f"{name}-suite-{suite}" if suite else name


def artifacts(instance: str, kind: str, name: str = "", root: Path = ROOT) -> Path:
    """Where a stage keeps logs and reports: kind unit (name: the folder), service, integration."""
    base = Path(root) / ".artifacts" / instance
    if kind == "unit":
        return base / "unit" / name
    return base / (f"{kind}-{name}" if name else kind)


def suites(root: Path = ROOT) -> list[str]:
    """Integration suites: folders of tests/integration/ (not hidden, _private or node_modules)."""
    folder = Path(root) / "tests" / "integration"
    return sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name != "node_modules"
                  and not d.name.startswith((".", "_"))) if folder.is_dir() else []


def stage2_files(root: Path = ROOT) -> dict[str, Path]:
    """Each service with a stage 2 stack: its compose file."""
    folders = {s["name"]: Path(root) / s["path"] for s in services(root) if s["path"] != "."}
    files = {name: folder / TEST_FILE for name, folder in folders.items()}
    return {name: file for name, file in files.items() if file.is_file()}
