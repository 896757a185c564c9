"""The `services` answer: parse it, validate it, and expose both to Jinja.

A person types the services as one line, for example::

    api worker:worker web:node billing:node:worker

Each word is ``NAME[:OPTION[:OPTION]]``; an option is a language
(``python`` or ``node``, default python) or a kind (``api`` or ``worker``,
default api).  Words may be separated by spaces or commas.  An api may also
carry ``port=N``, its host port in the dev and prod stacks (default: a
checksum of its name, see :func:`default_port`).

The same string reaches Copier from a prompt, ``--data services=...`` or a
``--data-file``.  ``copier.yml`` validates it with :func:`services_error` and
turns it into a list of dicts with :func:`parse_services`; both are exposed as
Jinja filters by :class:`ServicesExtension` (loaded through
copier-template-extensions).  The module has no Copier import so that the
unit tests can call it directly.
"""

from __future__ import annotations

import itertools
import keyword
import re
import sys
import zlib
from dataclasses import asdict, dataclass, replace

LANGUAGES = ("python", "node")
KINDS = ("api", "worker")
MAX_NAME = 30
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
# Folders at the project root, infrastructure service names in compose files,
# and names whose folders or targets would be ambiguous.
RESERVED = frozenset(
    {
        "deploy", "scripts", "services", "tests", "src", "docs", "bench",
        "postgres", "redis", "db", "database", "node-modules", "dist", "build",
        "test", "dev", "prod", "all", "help", "stack",
    }
)
# Where a python service's package name would shadow a module it imports,
# directly or through its dependencies and test tools.
PYTHON_SHADOWED = frozenset(sys.stdlib_module_names) | {
    "fastapi", "uvicorn", "pydantic", "psycopg", "httpx", "pytest", "starlette", "redis",
    "anyio", "sniffio", "idna", "certifi", "h11", "httpcore", "click", "annotated_types",
    "annotated_doc", "pydantic_core", "typing_extensions", "typing_inspection", "psycopg_binary",
    "psycopg_pool", "pluggy", "iniconfig", "packaging", "pygments", "coverage", "pytest_cov",
    "ruff", "hatchling",
}
API_PORT = 8000
# Host ports of the dev and prod stacks: a function of the service's name (a
# checksum into DEV_PORTS), or the word's `port=N` option; never of its place
# in the list, so adding, removing or reordering services moves no one's port.
DEV_PORTS = range(8000, 9000)
# Host ports of the dev stack's infrastructure (deploy/dev/.env.example).
INFRA_PORTS = {5432: "postgres", 6379: "redis"}
PORT_OPTION = re.compile(r"^port=(.*)$")
PORT_NUMBER = re.compile(r"^[1-9][0-9]{3,4}$")
# The service a node api's sample /upstream calls: the python api of this name.
UPSTREAM = "api"


@dataclass(frozen=True)
class Service:
    name: str
    language: str = "python"
    kind: str = "api"
    # The word's `port=N` option; None: the default, default_port(name).
    dev_port: int | None = None

    @property
    def package(self) -> str:
        """Python package (and env var stem) for this service."""
        return self.name.replace("-", "_")


class ServicesError(ValueError):
    """The services answer is not valid; the message says what is allowed."""


def _split(spec: object) -> list[str]:
    if not isinstance(spec, str):
        raise ServicesError(
            "services must be text such as 'api worker:worker web:node', "
            f"not {type(spec).__name__}"
        )
    return [word for word in re.split(r"[\s,]+", spec.strip()) if word]


def _parse_word(word: str) -> Service:
    name, *options = word.split(":")
    if not name:
        raise ServicesError(f"'{word}': a service needs a name before ':'")
    if len(name) > MAX_NAME:
        raise ServicesError(
            f"'{name}': at most {MAX_NAME} characters (it becomes part of "
            "container, network and DNS names)"
        )
    if not NAME_RE.match(name):
        raise ServicesError(
            f"'{name}': use lowercase letters, digits and single dashes; "
            "start with a letter and end with a letter or digit"
        )
    if name in RESERVED:
        raise ServicesError(
            f"'{name}' is reserved (a project folder or infrastructure name); "
            f"reserved names: {', '.join(sorted(RESERVED))}"
        )
    language = kind = None
    for option in options:
        if option in LANGUAGES:
            if language:
                raise ServicesError(f"'{word}': give one language, not two")
            language = option
        elif option in KINDS:
            if kind:
                raise ServicesError(f"'{word}': give one kind, not two")
            kind = option
        else:
            raise ServicesError(
                f"'{word}': unknown option '{option}'; a language "
                f"({' or '.join(LANGUAGES)}) or a kind ({' or '.join(KINDS)})"
            )
    service = Service(name, language or "python", kind or "api")
    if service.language == "python" and (
        keyword.iskeyword(service.package) or service.package in PYTHON_SHADOWED
    ):
        raise ServicesError(
            f"'{name}': a python service's package would be '{service.package}', "
            "which is a Python keyword or shadows a module it imports; pick another name"
        )
    return service


def parse(spec: object, layout: str = "multi") -> list[Service]:
    """Parse the services answer, raising ServicesError with a clear message."""
    words = _split(spec)
    if not words:
        raise ServicesError(
            "give at least one service, e.g. 'api' or 'api worker:worker web:node'"
        )
    services = [_parse_word_with_port(word) for word in words]
    seen: set[str] = set()
    for service in services:
        if service.name in seen:
            raise ServicesError(f"'{service.name}' is listed twice; names must be unique")
        seen.add(service.name)
        # Python packages and env var stems use '_' for '-', so these collide too.
    stems = [s.package for s in services]
    if len(set(stems)) != len(stems):
        raise ServicesError("two names differ only by '-' and '_'; names must be unique")
    _check_ports(services)
    if layout == "single" and len(services) != 1:
        raise ServicesError(
            f"the single layout has exactly one service; got {len(services)} "
            "(choose layout 'multi' for more)"
        )
    return services


def services_error(spec: object, layout: str = "multi") -> str:
    """Empty when the answer is fine, else the message (a Copier validator)."""
    try:
        parse(spec, layout)
    except ServicesError as error:
        return str(error)
    return ""


def parse_services(spec: object, layout: str = "multi") -> list[dict[str, object]]:
    """The services as dicts for templates: name, language, kind, package, env, port,
    dev_port (the host port in the dev and prod stacks) and upstream."""
    result = []
    parsed = parse(spec, layout)
    for service in parsed:
        item: dict[str, object] = asdict(service)
        item["package"] = service.package
        item["env"] = service.package.upper()
        item["port"] = API_PORT
        item["dev_port"] = dev_port(service)
        item["upstream"] = upstream_of(service, parsed)
        # Where the service lives: services/<name> (multi) or the root (single).
        item["path"] = f"services/{service.name}" if layout == "multi" else "."
        result.append(item)
    return result


def default_port(name: str) -> int:
    """The dev/prod host port of a service without a `port=` option: from its name only."""
    return DEV_PORTS.start + zlib.crc32(name.encode()) % len(DEV_PORTS)


def dev_port(service: Service) -> int:
    return service.dev_port if service.dev_port is not None else default_port(service.name)


def upstream_of(service: Service, services: list[Service]) -> str:
    """Whom a node api's sample /upstream calls: the python api named UPSTREAM, or nobody.

    A rule about the target's name, so adding, removing or reordering other
    services never rewires it; when the target goes, UPSTREAM_URL goes too.
    """
    if service.language != "node" or service.kind != "api" or service.name == UPSTREAM:
        return ""
    target = next((s for s in services if s.name == UPSTREAM), None)
    return UPSTREAM if target and target.language == "python" and target.kind == "api" else ""


def _parse_word_with_port(word: str) -> Service:
    """_parse_word, plus the `port=N` option (the dev/prod host port of an api)."""
    name, *options = word.split(":")
    ports = [m.group(1) for m in map(PORT_OPTION.match, options) if m]
    rest = ":".join([name, *(o for o in options if not PORT_OPTION.match(o))])
    service = _parse_word(rest)
    if not ports:
        return service
    if len(ports) > 1:
        raise ServicesError(f"'{word}': give one port, not {len(ports)}")
    if service.kind != "api":
        raise ServicesError(f"'{word}': port= is for api services (a worker publishes no port)")
    port = ports[0]
    if not (PORT_NUMBER.match(port) and 1024 <= int(port) <= 65535):
        raise ServicesError(f"'{word}': the port is a number from 1024 to 65535")
    if int(port) in INFRA_PORTS:
        raise ServicesError(f"'{word}': {port} is {INFRA_PORTS[int(port)]}'s dev port; pick another")
    return replace(service, dev_port=int(port))


def _check_ports(services: list[Service]) -> None:
    """Two apis never share a host port; the message names a free one to write."""
    taken: dict[int, str] = {}
    for service in services:
        if service.kind != "api":
            continue
        port = dev_port(service)
        if port in taken:
            used = set(taken) | {dev_port(s) for s in services if s.kind == "api"}
            free = next(p for p in itertools.chain(range(port + 1, 65536), range(1024, port))
                        if p not in used and p not in INFRA_PORTS)
            word = f"{service.name}{':node' if service.language == 'node' else ''}:port={free}"
            raise ServicesError(f"'{taken[port]}' and '{service.name}' get port {port}: write '{word}'")
        taken[port] = service.name


try:  # Jinja is present whenever Copier is; the unit tests need only the above.
    from jinja2.ext import Extension
except ImportError:  # pragma: no cover
    Extension = object  # type: ignore[assignment,misc]


class ServicesExtension(Extension):  # type: ignore[misc,valid-type]
    """Jinja filters `services_error` and `parse_services` for copier.yml."""

    def __init__(self, environment):  # noqa: ANN001
        super().__init__(environment)
        environment.filters["services_error"] = services_error
        environment.filters["parse_services"] = parse_services
