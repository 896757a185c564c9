"""The template's dependencies of every service: one table, and how updates apply its changes.

The manifests (``pyproject.toml``, ``package.json``) are user-owned once
created (copier.yml ``_skip_if_exists``): teams add and bump their own
dependencies with ``uv add`` / ``npm install``, and Copier never merges them.
What the template itself asks for comes from :func:`dependencies`, which
renders both the manifests of a new service AND a template-owned record, the
``scripts/dependencies.json`` (:func:`record`): per service its folder,
language and the template's dependencies, and the multi layout's
cross-service tests (the root ``pyproject.toml``) as ``stack-tests``.

On ``copier update`` the ``sync-dependencies`` migration calls :func:`sync`: it
compares the record the project had before the update (``git show
HEAD:scripts/dependencies.json``; Copier refuses a dirty tree, so HEAD is the
project before the update) with the new one, and applies only what the
TEMPLATE changed, through the tools themselves:

- python: ``uv add --frozen [--dev] REQ`` / ``uv remove --frozen [--dev] NAME``
- node: ``npm pkg set dependencies.NAME=RANGE`` / ``npm pkg delete ...``

(``--frozen`` and ``npm pkg`` edit the manifest without the network); the ``after-update``
migration then runs :func:`refresh_locks`: ``scripts/lock.py --from-copier
--missing FOLDER...`` refreshes the locks of the folders whose manifest the
update changed and creates missing ones (older projects, new services).
A requirement the team changed themselves (its spec is no longer the old
template's) is kept and reported; dependencies the template never declared
are never touched. For a project from before the record, the manifests of
its previous template version (rendered, as the extension-points migration
does) stand in for the old record.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

RECORD = "scripts/dependencies.json"
# The languages whose manifest is a package.json (npm): JavaScript and TypeScript.
NPM = ("node", "ts")
GROUPS = ("dependencies", "dev")

Deps = dict[str, dict[str, str]]


def _python(svc: Mapping[str, object], components: list[str]) -> Deps:
    runtime: list[str] = []
    if svc["kind"] == "api":
        runtime += ["fastapi>=0.115", "uvicorn>=0.30"]
    if "postgres" in components:
        # schema migrations (alembic.ini, migrations/) and the tables they follow (models.py)
        runtime += ["psycopg[binary]>=3.2", "alembic>=1.14", "sqlalchemy>=2.0"]
    if "redis" in components:
        # the job queue: workers run Celery, apis send jobs with its client
        runtime += ["redis>=5", "celery[redis]>=5.4"]
    if "llm" in components:
        # the sample runs: the api streams their status (SSE), workers call the
        # OpenAI-compatible API with the official client
        if svc["kind"] == "api":
            runtime += ["sse-starlette>=2.1"]
        elif svc["kind"] == "worker":
            runtime += ["openai>=1.40"]
    dev = ["pytest>=8", "pytest-cov>=5", "httpx2>=2.16", "ruff>=0.6"]
    return {"dependencies": {distribution(r): r for r in runtime},
            "dev": {distribution(r): r for r in dev}}


def _node(svc: Mapping[str, object], components: list[str]) -> Deps:
    runtime = {"fastify": "^5.6.0"} if svc["kind"] == "api" else {}
    if "postgres" in components and svc["kind"] != "scheduler":
        # the tables (pg) and their migrations (migrate.js, migrations/): a runtime
        # dependency, since the image's one-shot migrate step runs it
        runtime |= {"pg": "^8.16.0", "node-pg-migrate": "^9.0.0"}
    if "redis" in components:
        # the job queue: workers run BullMQ workers, apis and schedulers add jobs;
        # BullMQ reaches redis through ioredis (its optional peer dependency)
        runtime |= {"bullmq": "^6.7.0", "ioredis": "^6.0.0"}
    if svc.get("language") == "ts":
        # tsc: `make lint` (--noEmit) and the image's build stage; tsx: the dev stack's
        # reload on change; the types of node and of pg (the other modules ship theirs).
        dev = {"@types/node": "^20.19.0", "tsx": "^4.20.0", "typescript": "~5.9.3", "vitest": "~3.2.4"}
        if "pg" in runtime:
            dev["@types/pg"] = "^8.15.0"
        return {"dependencies": runtime, "dev": dict(sorted(dev.items()))}
    # eslint: `make lint` (scripts/lint.py) runs it with the service's eslint.config.js.
    dev = {"@eslint/js": "~9.39.4", "eslint": "~9.39.4", "globals": "^17.14.0", "vitest": "~3.2.4"}
    return {"dependencies": runtime, "dev": dev}


def _frontend() -> Deps:
    """A Vite + React + TypeScript page: vitest + Testing Library (jsdom) unit tests, tsc in
    `make lint`, playwright-core driving the system's Chromium in the browser test."""
    runtime = {"react": "^19.2.0", "react-dom": "^19.2.0"}
    dev = {
        "@testing-library/dom": "^10.4.0", "@testing-library/react": "^16.3.0",
        "@types/node": "^20.19.0", "@types/react": "^19.2.0", "@types/react-dom": "^19.2.0",
        "@vitejs/plugin-react": "~5.2.0", "jsdom": "^26.1.0", "playwright-core": "~1.65.1",
        "typescript": "~5.9.3", "vite": "~7.3.8", "vitest": "~3.2.4",
    }
    return {"dependencies": runtime, "dev": dev}


def dependencies(svc: Mapping[str, object], components: object = ()) -> Deps:
    """{"dependencies": {name: spec}, "dev": {name: spec}} the template gives this service.

    python specs are PEP 508 requirements ("fastapi>=0.115"), node specs npm
    ranges ("^5.6.0"); "dev" is the pyproject's dev group / devDependencies.
    """
    comps = list(components) if isinstance(components, (list, tuple)) else []
    if svc.get("kind") == "frontend":
        return _frontend()
    if svc.get("language") in NPM:
        return _node(svc, comps)
    return _python(svc, comps)


def stack_test_dependencies(components: object = ()) -> Deps:
    """The multi layout's root pyproject.toml (the cross-service tests)."""
    dev = ["pytest>=8", "httpx2>=2.16", "ruff>=0.6"]
    if isinstance(components, (list, tuple)) and "postgres" in components:
        # reads what the services stored (the scheduled job's result)
        dev.append("psycopg[binary]>=3.2")
    return {"dependencies": {}, "dev": {distribution(r): r for r in dev}}


def distribution(requirement: str) -> str:
    """The normalised distribution name of a PEP 508 requirement ("psycopg[binary]>=3" -> "psycopg")."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement


STACK_TESTS = "stack-tests"


def record(service_list: list, components: object = (), layout: str = "multi") -> str:
    """scripts/dependencies.json: {name: {path, language, dependencies, dev}} (JSON, indent 2)."""
    entries = {str(svc["name"]): {"path": svc["path"], "language": svc["language"],
                                  **dependencies(svc, components)} for svc in service_list}
    if layout == "multi":
        entries[STACK_TESTS] = {"path": ".", "language": "python", **stack_test_dependencies(components)}
    return json.dumps(entries, indent=2)


# ------------------------------------------------------------------ update
def say(message: str) -> None:
    print(f"migration: {message}", file=sys.stderr, flush=True)


def current(folder: Path, language: str) -> Deps | None:
    """What the folder's manifest declares now ({group: {name: spec}}); None if unreadable."""
    try:
        if language in NPM:
            data = json.loads((folder / "package.json").read_text())
            return {"dependencies": dict(data.get("dependencies") or {}),
                    "dev": dict(data.get("devDependencies") or {})}
        import tomllib

        data = tomllib.loads((folder / "pyproject.toml").read_text())
    except (OSError, ValueError, ImportError):
        return None
    runtime = data.get("project", {}).get("dependencies", [])
    dev = data.get("dependency-groups", {}).get("dev", [])
    return {"dependencies": {distribution(r): r for r in runtime if isinstance(r, str)},
            "dev": {distribution(r): r for r in dev if isinstance(r, str)}}


def _same(language: str, a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    if language in NPM:
        return a.strip() == b.strip()
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def changes(language: str, old: Deps | None, new: Deps, have: Deps) -> tuple[list, list[str]]:
    """(edits, kept): edits are (group, name, spec or None to remove) the template made.

    old is None for a project from before the record: every template
    dependency the manifest lacks is added, nothing else changes.
    """
    edits: list[tuple[str, str, str | None]] = []
    kept: list[str] = []
    for group in GROUPS:
        before = (old or {}).get(group, {}) if old is not None else None
        after = new.get(group, {})
        mine = have.get(group, {})
        if before is None:
            edits += [(group, name, spec) for name, spec in after.items() if name not in mine]
            continue
        for name in sorted(set(before) | set(after)):
            was, now = before.get(name), after.get(name)
            if _same(language, was, now):
                continue
            ours = mine.get(name)
            if _same(language, ours, was) or (was is None and ours is None):
                edits.append((group, name, now))
            elif not _same(language, ours, now):
                wanted = f"now {now}" if now is not None else "no longer declares it"
                kept.append(f"{name}: kept yours ({ours or 'removed'}); the template {wanted}")
    return edits, kept


def _command(language: str, group: str, name: str, spec: str | None) -> list[str]:
    if language in NPM:
        key = f"{'devDependencies' if group == 'dev' else 'dependencies'}.{name}"
        return ["npm", "pkg", "delete", key] if spec is None else ["npm", "pkg", "set", f"{key}={spec}"]
    dev = ["--dev"] if group == "dev" else []
    if spec is None:
        return ["uv", "remove", "--frozen", *dev, name]
    return ["uv", "add", "--frozen", *dev, spec]


def _record(text: str | bytes | None) -> dict[str, dict]:
    """{name: entry} of a dependencies.json text ({} when absent or unreadable)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("path"), str)}


def _head(root: Path, path: str) -> str | None:
    result = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=root, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


MANIFEST = {"python": "pyproject.toml", "node": "package.json", "ts": "package.json"}


def _old_render(root: Path, template: Path, version_from: str, tmp: Path) -> Path | None:
    """The project's previous template version, rendered with its previous answers (or None)."""
    from migrations import ANSWERS_FILE, MigrationError, load_answers, render

    answers = load_answers(_head(root, ANSWERS_FILE))
    try:
        return render(template, version_from or answers.get("_commit", ""), answers, tmp / "old",
                      fallback=str(answers.get("_src_path", "")))
    except MigrationError as error:
        say(f"could not render the previous template version ({error}): template dependency "
            "changes not applied; compare your manifests with scripts/dependencies.json")
        return None


def sync(root: Path, template: Path, version_from: str = "") -> list[str]:
    """Apply the template's dependency changes to the user-owned manifests; the folders changed.

    Runs before the after-update migration (before a single -> multi switch
    moves the manifest): each service's manifest is edited where it still is,
    at its path of the previous version. The locks follow in
    :func:`refresh_locks`, after the switch.
    """
    import tempfile

    from migrations import ANSWERS_FILE, load_answers

    had = _head(root, RECORD)
    old = _record(had)
    try:
        new = _record((root / RECORD).read_text())
    except OSError:
        return []
    old_layout = load_answers(_head(root, ANSWERS_FILE)).get("layout", "multi")
    changed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="copier-deps-") as tmp:
        rendered: list[Path | None] = []
        for name, entry in new.items():
            language = entry.get("language", "python")
            manifest = MANIFEST.get(language, "pyproject.toml")
            if had is not None:
                if name not in old:
                    continue  # a new service: its manifest was just rendered from the table
                path = old[name]["path"]
                before = {g: dict(old[name].get(g) or {}) for g in GROUPS}
            else:
                # A project from before the record: its previous template version's manifest
                # says what the template declared then.
                if name == STACK_TESTS:
                    path = "." if old_layout == "multi" else None
                else:
                    path = "." if old_layout == "single" else f"services/{name}"
                if not rendered:
                    rendered.append(_old_render(root, template, version_from, Path(tmp)))
                if path is None or rendered[0] is None or not (rendered[0] / path / manifest).is_file():
                    continue  # not there in the previous version: rendered fresh now
                before = current(rendered[0] / path, language)
            folder = root / path
            have = current(folder, language)
            if have is None:
                say(f"{path}/{manifest}: unreadable, template dependency changes not applied")
                continue
            now = {g: dict(entry.get(g) or {}) for g in GROUPS}
            edits, kept = changes(language, before, now, have)
            for line in kept:
                say(f"{path}/{manifest}: {line}")
            for group, dep, spec in edits:
                cmd = _command(language, group, dep, spec)
                result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
                if result.returncode != 0:
                    detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
                    say(f"{path}: `{' '.join(cmd)}` failed ({detail}); apply it by hand")
                    continue
                say(f"{path}: {' '.join(cmd)}")
                if path not in changed:
                    changed.append(path)
    return changed


def refresh_locks(root: Path) -> None:
    """Relock every folder whose manifest this update changed (or moved); write missing locks."""
    new = _record((root / RECORD).read_text()) if (root / RECORD).is_file() else {}
    stale = []
    for entry in new.values():
        manifest = f"{entry['path']}/{MANIFEST.get(entry.get('language', 'python'), 'pyproject.toml')}"
        manifest = manifest.removeprefix("./")
        path = root / manifest
        if path.is_file() and (_head(root, manifest) or "") != path.read_text():
            stale.append(entry["path"])
    lock = root / "scripts" / "lock.py"
    if lock.is_file():
        subprocess.run([sys.executable, str(lock), "--from-copier", "--missing", *stale], cwd=root)


# ------------------------------------------------------------------ Jinja
def _dependencies_extension() -> type:
    from jinja2.ext import Extension

    class DependenciesExtension(Extension):
        """The table for the templates: manifests and scripts/dependencies.json."""

        def __init__(self, environment):  # noqa: ANN001
            super().__init__(environment)
            environment.filters["template_dependencies"] = dependencies
            environment.globals["stack_test_dependencies"] = stack_test_dependencies
            environment.filters["dependency_record"] = record

    DependenciesExtension.__qualname__ = "DependenciesExtension"
    return DependenciesExtension


def __getattr__(name: str) -> type:
    """DependenciesExtension, built when Copier first asks for it (jinja2 is Copier's)."""
    if name == "DependenciesExtension":
        globals()[name] = _dependencies_extension()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
