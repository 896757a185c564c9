"""The model of the stack: every rule about names, ports and kinds, stated once.

Built from the answers for every render, with no I/O and no Copier: the
services parser (hooks/services.py) asks it which names and ports are taken,
the templates read the facts it puts on each service (``svc.http``,
``svc.owns_schema``, ...) and the stack's other members (``stack_members``),
and the file tables (hooks/files.py) and the layout switch ask it too.

A rule lives here when more than one file needs it: which kinds serve HTTP,
which services own a schema, what runs a language, which names and host ports
the stack's own members (postgres, redis, the llm stand-in, the prod edge, the
one-shot migrate steps) have. A template that needs a new fact gets it here,
never by restating ``kind in [...]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

LANGUAGES = ("python", "node", "ts")
KINDS = ("api", "worker", "scheduler", "frontend")
COMPONENTS = ("postgres", "redis", "llm")
# What runs a language's code: a ts service is a node service whose source is
# compiled (tsc) first, so it shares node's image, npm lock, queue (BullMQ),
# migrations (node-pg-migrate) and stack blocks.
RUNTIMES = {"python": "python", "node": "node", "ts": "node"}
# The test tool of a service's unit and integration suites, by language.
FRAMEWORKS = {"python": "pytest", "node": "vitest", "ts": "vitest"}
# Kinds that serve HTTP on a published port (dev, prod and test stacks; the
# prod edge routes to them, Kubernetes gives them a Service and an Ingress rule).
HTTP_KINDS = ("api", "frontend")
# Kinds whose code keeps tables when the project has postgres: an api's items, a
# worker's job results. A scheduler only sends jobs; a frontend only shows them.
SCHEMA_KINDS = ("api", "worker")
# Kinds whose liveness is a heartbeat file (no HTTP to ask): the healthchecks read its age.
HEARTBEAT_KINDS = ("worker", "scheduler")
# Kinds built with node whatever the word says: a frontend is a TypeScript page.
NODE_ONLY_KINDS = ("frontend",)
# Kinds whose code is TypeScript whatever the word says (tsc checks it): a frontend's TSX page.
TYPESCRIPT_KINDS = ("frontend",)
# Kinds that add jobs to the queue when the project has redis (a worker runs them).
SENDER_KINDS = ("api", "scheduler")
# The queue library of a runtime's workers, schedulers and job-sending apis (redis).
QUEUES = {"python": "celery", "node": "bullmq"}
MANIFESTS = {"python": "pyproject.toml", "node": "package.json"}
LOCKS = {"python": "uv.lock", "node": "package-lock.json"}
# The container port of every HTTP service (its image's EXPOSE).
CONTAINER_PORT = 8000
# The one-shot step beside a service that owns a schema: `<name><suffix>`.
MIGRATE_SUFFIX = "-migrate"
# The python api a node api's sample /upstream calls and a frontend proxies under /api/.
UPSTREAM = "api"


@dataclass(frozen=True)
class Member:
    """A member of the stacks that is not one of the services: its compose and DNS
    name, the host ports it publishes (dev stack defaults; the edge's in prod), and
    whether the project has it."""

    name: str
    what: str
    ports: tuple[int, ...] = ()
    component: str = ""
    # Present when the project has a service that serves HTTP (the prod edge).
    needs_http: bool = False

    def present(self, components: Iterable[str], has_http: bool) -> bool:
        if self.component:
            return self.component in components
        return has_http if self.needs_http else True


MEMBERS = (
    Member("postgres", "the database", (5432,), component="postgres"),
    Member("redis", "the queue's broker", (6379,), component="redis"),
    Member("llm", "the llm stand-in", (8089,), component="llm"),
    Member("edge", "the prod TLS edge", (80, 443), needs_http=True),
)
# Folders at the project root, and names whose folders, Makefile targets or
# compose profiles would be ambiguous.
PROJECT_WORDS = frozenset({
    "deploy", "scripts", "services", "tests", "src", "docs", "bench", "testkit",
    "node-modules", "dist", "build", "test", "dev", "prod", "all", "help", "stack",
    "db", "database",
})
# Names a service can never take: every member's, whatever the components (one
# may be added by a later update), and the project's own words.
RESERVED = frozenset(member.name for member in MEMBERS) | PROJECT_WORDS
# Host ports of the members, {port: member name}: no service publishes one of them.
MEMBER_PORTS = {port: member.name for member in MEMBERS for port in member.ports}

# Words a YAML loader reads as something other than text, {word: what it reads}:
# YAML 1.1 (PyYAML, and Kubernetes' loader, which also takes y and n) and 1.2
# (compose), in every spelling a service name or slug can have (lowercase). A
# compose key, a manifest's name or a label with one of them becomes a bool or None.
YAML_WORDS = {
    "y": "bool", "yes": "bool", "n": "bool", "no": "bool", "true": "bool", "false": "bool",
    "on": "bool", "off": "bool", "null": "null",
}


def runtime(language: str) -> str:
    return RUNTIMES[language]


def facts(name: str, language: str, kind: str, components: Iterable[str] = ()) -> dict[str, object]:
    """The derived facts of one service that templates and scripts read.

    - runtime: python or node (what runs the code; ts is node)
    - typescript: its node code is TypeScript (a ts service; a frontend's page is TSX anyway)
    - tsc: tsc checks its code (a ts service, or a frontend's TSX page: TYPESCRIPT_KINDS)
    - http: it serves HTTP on a published port (HTTP_KINDS)
    - heartbeat: its liveness is a heartbeat file's age, not an HTTP call
    - owns_schema: it keeps tables (SCHEMA_KINDS) and the project has postgres:
      migrations, a one-shot migrate step named ``migrate``
    - queue: the queue library it uses on redis (celery or bullmq), or ""
    - sends_jobs: it adds jobs to that queue (SENDER_KINDS: an api, a scheduler)
    - manifest, lock: its dependency manifest and lock file
    - framework: the test tool of its suites
    """
    comps = tuple(components)
    run = runtime(language)
    owns_schema = kind in SCHEMA_KINDS and "postgres" in comps
    queue = QUEUES[run] if "redis" in comps and kind != "frontend" else ""
    return {
        "runtime": run,
        "typescript": language == "ts",
        "tsc": language == "ts" or kind in TYPESCRIPT_KINDS,
        "http": kind in HTTP_KINDS,
        "heartbeat": kind in HEARTBEAT_KINDS,
        "owns_schema": owns_schema,
        "migrate": f"{name}{MIGRATE_SUFFIX}" if owns_schema else "",
        "queue": queue,
        "sends_jobs": bool(queue) and kind in SENDER_KINDS,
        "manifest": MANIFESTS[run],
        "lock": LOCKS[run],
        "framework": FRAMEWORKS[language],
    }


def stack_members(service_list: Sequence[Mapping[str, object]], components: Iterable[str]) -> list[dict]:
    """The members of this project's stacks besides its services, in a fixed order:
    {name, what, ports}, then each schema owner's migrate step (no ports)."""
    comps = tuple(components)
    derived = [facts(str(svc["name"]), str(svc["language"]), str(svc["kind"]), comps) for svc in service_list]
    has_http = any(fact["http"] for fact in derived)
    members = [{"name": m.name, "what": m.what, "ports": list(m.ports)}
               for m in MEMBERS if m.present(comps, has_http)]
    members += [{"name": fact["migrate"], "what": f"{svc['name']}'s migrate step", "ports": []}
                for svc, fact in zip(service_list, derived, strict=True) if fact["owns_schema"]]
    return members


# The top-level modules of the template's python dependency table (hooks/dependencies.py)
# and of everything those install (resolved once from the table: fastapi, uvicorn,
# psycopg, alembic, sqlalchemy, redis, celery, sse-starlette, openai, pytest,
# pytest-cov, httpx2, ruff, pydantic-settings, limits, mypy, celery-types), plus the
# template's own python packages. A python service's package of one of these names would
# shadow it in its own image.
# tests/unit/test_services_parser.py proves every module the rendered code imports is here.
PYTHON_IMPORTS = frozenset({
    "alembic", "amqp", "annotated_doc", "annotated_types", "anyio", "billiard", "celery",
    "click", "click_didyoumean", "click_plugins", "click_repl", "coverage", "dateutil",
    "deprecated", "distro", "dotenv", "fastapi", "greenlet", "h11", "httpcore", "httpcore2", "httpx",
    "httpx2", "idna", "iniconfig", "jiter", "kombu", "limits", "mako", "mypy", "mypy_extensions",
    "markupsafe", "openai", "opentelemetry", "packaging", "pathspec",
    "pluggy", "prompt_toolkit", "psycopg", "psycopg_binary", "psycopg_pool", "py", "pydantic",
    "pydantic_core", "pydantic_settings", "pygments", "pytest", "pytest_cov", "redis", "ruff", "six", "sniffio",
    "sqlalchemy", "sse_starlette", "starlette", "tqdm", "truststore", "typing_extensions",
    "typing_inspection", "tzlocal", "uvicorn", "vine", "wcwidth", "wrapt", "hatchling", "certifi",
    # the template's own packages beside the services' (testkit/, the migrations' env)
    "testkit", "migrations",
})
