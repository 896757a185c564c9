"""The template's dependencies of every service: one table, and how updates apply its changes.

The manifests (``pyproject.toml``, ``package.json``) are user-owned once
created (copier.yml ``_skip_if_exists``): teams add and bump their own
dependencies with ``uv add`` / ``npm install``, and Copier never merges them.
What the template itself asks for comes from :func:`dependencies`, which
renders the manifests of a new service, and the multi layout's cross-service
tests (the root ``pyproject.toml``, ``stack-tests``).

On ``copier update`` hooks/update/dependencies.py's ``sync`` (every update): it
compares each manifest of the project's previous template version (rendered
with its answers then) with the new version's, and applies only what the
TEMPLATE changed, through the tools themselves:

- python: ``uv add --frozen [--dev] REQ`` / ``uv remove --frozen [--dev] NAME``
- node: ``npm pkg set dependencies.NAME=RANGE`` / ``npm pkg delete ...``

(``--frozen`` and ``npm pkg`` edit the manifest without the network); the end of the
update then runs ``refresh_locks``: ``scripts/lock.py --from-copier
--missing FOLDER...`` refreshes the locks of the folders whose manifest the
update changed and creates missing ones (older projects, new services).
A requirement the team changed themselves (its spec is no longer the old
template's) is kept and reported; dependencies the template never declared
are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The languages whose manifest is a package.json (npm): JavaScript and TypeScript.
NPM = ("node", "ts")
GROUPS = ("dependencies", "dev")
# vitest runs every node, ts and frontend service's tests; its v8 provider (the same
# version) gives the unit stage its line coverage (scripts/stack/run.py).
VITEST = {"vitest": "~3.2.4", "@vitest/coverage-v8": "~3.2.4"}

Deps = dict[str, dict[str, str]]


def _python(svc: Mapping[str, object], components: list[str]) -> Deps:
    # settings.py: typed settings from the environment, refused at start-up when unusable
    runtime: list[str] = ["pydantic-settings>=2.6"]
    if svc["kind"] == "api":
        # guards.py's rate limit: `limits` (slowapi's engine) as a FastAPI dependency
        runtime += ["fastapi>=0.115", "uvicorn>=0.30", "limits>=3.13"]
    if "postgres" in components:
        # schema migrations (alembic.ini, migrations/) and the tables they follow (models.py)
        runtime += ["psycopg[binary]>=3.2", "alembic>=1.14", "sqlalchemy>=2.0"]
        if svc["kind"] in ("api", "worker"):
            # their connections come from a pool (one per process), not one per request
            runtime += ["psycopg-pool>=3.2"]
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
    # mypy: `make lint` checks src/ strictly (scripts/lint.py); celery-types: Celery's types
    dev = ["pytest>=8", "pytest-cov>=5", "httpx2>=2.16", "ruff>=0.6", "mypy>=1.13"]
    if "redis" in components:
        dev.append("celery-types>=0.23")
    return {"dependencies": {distribution(r): r for r in runtime},
            "dev": {distribution(r): r for r in dev}}


# eslint with typescript-eslint's type-aware rules: `make lint` in ts services and frontends.
ESLINT_TS = {"@eslint/js": "~9.39.4", "eslint": "~9.39.4", "globals": "^17.14.0", "typescript-eslint": "^8.48.0"}


def _node(svc: Mapping[str, object], components: list[str]) -> Deps:
    runtime: dict[str, str] = {}
    if svc["kind"] == "api":
        # the api key of the routes that change data (a constant-time compare) and the rate limit
        runtime |= {"fastify": "^5.6.0", "@fastify/bearer-auth": "^10.1.0", "@fastify/rate-limit": "^10.3.0"}
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
        dev = {"@types/node": "^20.19.0", "tsx": "^4.20.0", "typescript": "~5.9.3", **VITEST} | ESLINT_TS
        if "pg" in runtime:
            dev["@types/pg"] = "^8.15.0"
        if svc["kind"] == "api":
            # the route handlers' types come from their JSON schemas
            dev["@fastify/type-provider-json-schema-to-ts"] = "^5.0.0"
        return {"dependencies": runtime, "dev": dict(sorted(dev.items()))}
    # eslint: `make lint` (scripts/lint.py) runs it with the service's eslint.config.js.
    dev = {"@eslint/js": "~9.39.4", "eslint": "~9.39.4", "globals": "^17.14.0", **VITEST}
    return {"dependencies": runtime, "dev": dict(sorted(dev.items()))}


def _frontend() -> Deps:
    """A Vite + React + TypeScript page: vitest + Testing Library (jsdom) unit tests, tsc in
    `make lint`, playwright-core driving the system's Chromium in the browser test."""
    runtime = {"react": "^19.2.0", "react-dom": "^19.2.0"}
    dev = {
        "@testing-library/dom": "^10.4.0", "@testing-library/react": "^16.3.0",
        "@types/node": "^20.19.0", "@types/react": "^19.2.0", "@types/react-dom": "^19.2.0",
        "@vitejs/plugin-react": "~5.2.0", "jsdom": "^26.1.0", "playwright-core": "~1.65.1",
        "typescript": "~5.9.3", "vite": "~7.3.8", **VITEST,
    } | ESLINT_TS
    return {"dependencies": runtime, "dev": dict(sorted(dev.items()))}


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


# ------------------------------------------------------------------ Jinja
def _dependencies_extension() -> type:
    from jinja2.ext import Extension

    class DependenciesExtension(Extension):
        """The table for the templates: the manifests."""

        def __init__(self, environment):  # noqa: ANN001
            super().__init__(environment)
            environment.filters["template_dependencies"] = dependencies
            environment.globals["stack_test_dependencies"] = stack_test_dependencies

    DependenciesExtension.__qualname__ = "DependenciesExtension"
    return DependenciesExtension


def __getattr__(name: str) -> type:
    """DependenciesExtension, built when Copier first asks for it (jinja2 is Copier's)."""
    if name == "DependenciesExtension":
        globals()[name] = _dependencies_extension()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
