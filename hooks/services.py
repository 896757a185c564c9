"""The `services` answer: parse it, validate it, and expose both to Jinja.

A person types the services as one line, for example::

    api worker:worker web:node billing:node:worker

Each word is ``NAME[:OPTION[:OPTION]]``; an option is a language
(``python``, ``node``: JavaScript, or ``ts``: TypeScript compiled for node; default
python) or a kind (``api``, ``worker`` or
``scheduler``: Celery beat in python, a BullMQ job scheduler in node; default
api; or ``frontend``: a Vite + React + TypeScript page, node-built, so
``web:frontend`` alone says it all and ``web:node:frontend`` is the same; it
needs the python api named ``api`` beside it, which its server proxies under
``/api/``).  Words may be separated by spaces or commas.  An api (or a frontend) may also carry
``port=N``, its host port in the dev and prod stacks (default: a checksum of
its name, see :func:`default_port`).

The same string reaches Copier from a prompt, ``--data services=...`` or a
``--data-file``.  ``copier.yml`` validates it with :func:`services_error` and
turns it into a list of dicts with :func:`parse_services`; both are exposed as
Jinja filters by hooks/jinja.py's ``ServicesExtension`` (loaded through
copier-template-extensions).  The module has no Jinja or Copier import: the
unit tests and the migrations call it directly.

``service_list`` (computed, ``when: false``) is never taken from the user:
hooks/jinja.py's ``ServiceListHook`` recomputes it (:func:`computed_service_list`)
from ``services`` and ``layout`` for every render.  The other answers' checks
live in hooks/answers.py.  Messages stay short: Copier's prompt shows
"Validation error for question 'NAME': " and the message on one line cut at
80 columns.
"""

from __future__ import annotations

import itertools
import keyword
import re
import sys
import zlib
from dataclasses import asdict, dataclass, replace

# hooks/model.py: the rules this module checks against. Imported as a sibling of this
# file's package when hooks/jinja.py loads it (each template version its own, see there),
# by its plain name when hooks/ is on sys.path (the migrations, the tests).
if __package__:
    from . import model
else:
    import model

# The rules about the stack (kinds, runtimes, reserved names, the members' ports)
# live in hooks/model.py; this module parses and checks the answers against them.
LANGUAGES = model.LANGUAGES
RUNTIMES = model.RUNTIMES
FRAMEWORKS = model.FRAMEWORKS
KINDS = model.KINDS
# Kinds a language does not have (yet): none since node's scheduler (BullMQ).
PYTHON_ONLY_KINDS: tuple[str, ...] = ()
NODE_ONLY_KINDS = model.NODE_ONLY_KINDS
HTTP_KINDS = model.HTTP_KINDS
MAX_NAME = 30
# More services than this is no longer a project one team runs with compose: refused
# before anything is parsed or rendered (a render grows with every service).
MAX_SERVICES = 50
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RESERVED = model.RESERVED
# Where a python service's package name would shadow a module it imports: the
# standard library, and what the template's own code and dependency table import
# (hooks/model.py PYTHON_IMPORTS; tests/unit/test_services_parser.py proves it complete).
PYTHON_SHADOWED = frozenset(sys.stdlib_module_names) | model.PYTHON_IMPORTS
API_PORT = model.CONTAINER_PORT
# Host ports of the dev and prod stacks: a function of the service's name (a
# checksum into DEV_PORTS), or the word's `port=N` option; never of its place
# in the list, so adding, removing or reordering services moves no one's port.
DEV_PORTS = range(8000, 9000)
# Host ports the stack's own members publish (postgres, redis, the llm stand-in, the edge).
INFRA_PORTS = model.MEMBER_PORTS
PORT_OPTION = re.compile(r"^port=(.*)$")
PORT_NUMBER = re.compile(r"^[1-9][0-9]{3,4}$")
# The service a node api's sample /upstream calls: the python api of this name.
UPSTREAM = model.UPSTREAM
# Copier shows a refused answer as "Validation error for question 'services': "
# plus the message, cut at 80 columns: quoted words are shortened to this.
MAX_QUOTED = 10


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

    @property
    def runtime(self) -> str:
        """python or node (RUNTIMES): what runs the service's code."""
        return RUNTIMES[self.language]


class ServicesError(ValueError):
    """The services answer is not valid; the message says what is allowed."""


def quoted(word: str) -> str:
    """The word in quotes, shortened so that a message stays on one line."""
    return f"'{word}'" if len(word) <= MAX_QUOTED else f"'{word[:MAX_QUOTED - 1]}…'"


def _split(spec: object) -> list[str]:
    if not isinstance(spec, str):
        raise ServicesError(f"services must be text, not {type(spec).__name__}")
    # ASCII whitespace only: U+0085 or U+2028 inside a name is refused, never a separator.
    return [word for word in re.split(r"[\s,]+", spec, flags=re.ASCII) if word]


def _parse_word(word: str) -> Service:
    name, *options = word.split(":")
    if not name:
        raise ServicesError(f"{quoted(word)}: no name before ':'")
    if len(name) > MAX_NAME:
        raise ServicesError(f"{quoted(name)}: at most {MAX_NAME} characters")
    if not NAME_RE.fullmatch(name):
        raise ServicesError(f"{quoted(name)}: use a-z, 0-9, single -")
    if name in RESERVED:
        raise ServicesError(f"{quoted(name)} is a reserved name")
    if name in model.YAML_WORDS:
        raise ServicesError(f"{quoted(name)}: YAML reads it as a {model.YAML_WORDS[name]}")
    if name.endswith(model.MIGRATE_SUFFIX):
        raise ServicesError(f"{quoted(name)}: {model.MIGRATE_SUFFIX} is reserved")
    language = kind = None
    for option in options:
        if option in LANGUAGES:
            if language:
                raise ServicesError(f"{quoted(word)}: two languages")
            language = option
        elif option in KINDS:
            if kind:
                raise ServicesError(f"{quoted(word)}: two kinds")
            kind = option
        else:
            raise ServicesError(f"{quoted(option)}: not a language or kind")
    if kind in NODE_ONLY_KINDS:
        if language == "ts":
            raise ServicesError(f"{quoted(word)}: {kind} is TS already")
        if language not in (None, "node"):
            raise ServicesError(f"{quoted(word)}: {kind} is node only")
        language = "node"
    service = Service(name, language or "python", kind or "api")
    if service.kind in PYTHON_ONLY_KINDS and service.language != "python":
        raise ServicesError(f"{quoted(word)}: {service.kind} is python only")
    if service.language == "python" and keyword.iskeyword(service.package):
        raise ServicesError(f"{quoted(name)} is a Python keyword")
    if service.language == "python" and service.package in PYTHON_SHADOWED:
        raise ServicesError(f"{quoted(name)} shadows a Python module")
    return service


def parse(spec: object, layout: str = "multi") -> list[Service]:
    """Parse the services answer, raising ServicesError with a clear message."""
    words = _split(spec)
    if not words:
        raise ServicesError("give at least one service, e.g. 'api'")
    if len(words) > MAX_SERVICES:
        raise ServicesError(f"at most {MAX_SERVICES} services, not {len(words)}")
    services = [_parse_word_with_port(word) for word in words]
    seen: set[str] = set()
    for service in services:
        if service.name in seen:
            raise ServicesError(f"{quoted(service.name)} is listed twice")
        seen.add(service.name)
        # Python packages and env var stems use '_' for '-', so these collide too.
    stems = [s.package for s in services]
    if len(set(stems)) != len(stems):
        raise ServicesError("two names differ only by - and _")
    _check_ports(services)
    if layout == "single" and len(services) != 1:
        raise ServicesError(f"single layout: one service, not {len(services)}")
    for service in services:
        if service.kind == "frontend" and not upstream_of(service, services):
            raise ServicesError(f"{quoted(service.name)}: needs python api '{UPSTREAM}'")
    return services


def services_error(spec: object, layout: str = "multi") -> str:
    """Empty when the answer is fine, else the message (a Copier validator)."""
    try:
        parse(spec, layout)
    except ServicesError as error:
        return str(error)
    return ""


def parse_services(spec: object, layout: str = "multi", components: object = ()) -> list[dict[str, object]]:
    """The services as dicts for templates: name, language, kind, package, env, port,
    dev_port (the host port in the dev and prod stacks), upstream, path, word (its
    word in the answer, as written), and the facts the model derives from its
    language, kind and the project's components (model.facts: runtime, typescript, tsc,
    http, heartbeat, owns_schema, migrate, queue, sends_jobs, manifest, lock, framework).

    The generated project's scripts/services.json is rendered from this list:
    scripts and tests read that, never the answer.
    """
    result = []
    parsed = parse(spec, layout)
    comps = tuple(components) if isinstance(components, (list, tuple)) else ()
    for word, service in zip(_split(spec), parsed, strict=True):
        item: dict[str, object] = asdict(service)
        item["package"] = service.package
        item.update(model.facts(service.name, service.language, service.kind, comps))
        item["env"] = service.package.upper()
        item["port"] = API_PORT
        item["dev_port"] = dev_port(service)
        item["upstream"] = upstream_of(service, parsed)
        # Where the service lives: services/<name> (multi) or the root (single).
        item["path"] = f"services/{service.name}" if layout == "multi" else "."
        item["word"] = word
        result.append(item)
    return result


def default_port(name: str) -> int:
    """The dev/prod host port of a service without a `port=` option: from its name only."""
    return DEV_PORTS.start + zlib.crc32(name.encode()) % len(DEV_PORTS)


def dev_port(service: Service) -> int:
    return service.dev_port if service.dev_port is not None else default_port(service.name)


def upstream_of(service: Service, services: list[Service]) -> str:
    """Whom a node api's sample /upstream calls, or a frontend proxies under /api/: the
    python api named UPSTREAM, or nobody (a frontend without it is refused in parse()).

    A rule about the target's name, so adding, removing or reordering other
    services never rewires it; when the target goes, UPSTREAM_URL goes too.
    """
    if service.runtime != "node" or service.kind not in HTTP_KINDS or service.name == UPSTREAM:
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
        raise ServicesError(fit(f"'{word}': give one port, not {len(ports)}",
                                f"{quoted(word)}: give one port, not {len(ports)}"))
    if service.kind not in HTTP_KINDS:
        raise ServicesError(fit(f"'{word}': port= is for apis and frontends",
                                f"'{word}': port= is for apis", f"{quoted(word)}: port= is for apis"))
    port = ports[0]
    if not (PORT_NUMBER.match(port) and 1024 <= int(port) <= 65535):
        raise ServicesError(fit(f"'{word}': not in 1024-65535", f"{quoted(word)}: not in 1024-65535"))
    if int(port) in INFRA_PORTS:
        owner = INFRA_PORTS[int(port)]
        raise ServicesError(fit(f"'{word}': {port} is {owner}'s; pick another",
                                f"'{word}': {port} is {owner}'s", f"{quoted(word)}: {port} is {owner}'s"))
    return replace(service, dev_port=int(port))


# Copier shows a refused answer as "Validation error for question 'services': "
# and the message, cut at 80 columns: what is left for the message.
MESSAGE_WIDTH = 80 - len("Validation error for question 'services': ")


def fit(*messages: str) -> str:
    """The first message that fits MESSAGE_WIDTH (the last one whatever its width)."""
    return next((message for message in messages if len(message) <= MESSAGE_WIDTH), messages[-1])


def _check_ports(services: list[Service]) -> None:
    """Two HTTP services never share a host port, and none takes a port a stack member
    publishes (postgres, redis, the llm stand-in: model.MEMBER_PORTS, whatever the
    components, since an update may add one); the message names a free one to add."""
    taken: dict[int, str] = dict(INFRA_PORTS)
    for service in services:
        if service.kind not in HTTP_KINDS:
            continue
        port = dev_port(service)
        if port in taken:
            used = set(taken) | {dev_port(s) for s in services if s.kind in HTTP_KINDS}
            free = next(p for p in itertools.chain(range(port + 1, 65536), range(1024, port))
                        if p not in used)
            name, owner = quoted(service.name), taken[port]
            clash = f"{port} is {owner}'s" if owner in INFRA_PORTS.values() else f"{quoted(owner)} has {port}"
            raise ServicesError(fit(f"{clash}: add :port={free} to {name}",
                                    f"{port} taken: add :port={free} to {name}",
                                    f"add :port={free} to {name}"))
        taken[port] = service.name


def computed_service_list(context: dict) -> None:
    """Set service_list in a render context from services and layout, whatever was supplied.

    service_list is a computed answer (`when: false`), but Copier takes any
    value from --data, --data-file or the user's defaults for it. Names in it
    reach scripts and paths, so it is always recomputed from the validated
    services answer, and removed while that answer is not valid.
    """
    if "services" not in context or "layout" not in context:
        return
    try:
        context["service_list"] = _parsed_services(context["services"], context["layout"],
                                                   context.get("components", ()))
    except ServicesError:
        context.pop("service_list", None)


_PARSED: dict[tuple[str, str, tuple], list[dict[str, object]]] = {}


def _parsed_services(spec: object, layout: object, components: object = ()) -> list[dict[str, object]]:
    """parse_services, remembered per answer: the hook runs for every path part and
    file Copier renders (thousands per project), the answer changes rarely."""
    comps = tuple(components) if isinstance(components, (list, tuple)) else ()
    if not isinstance(spec, str) or not isinstance(layout, str):
        return parse_services(spec, layout, comps)  # type: ignore[arg-type]
    key = (spec, layout, comps)
    if key not in _PARSED:
        _PARSED[key] = parse_services(spec, layout, comps)
    # Fresh dicts: a template that changed one would not change the next render's.
    return [dict(item) for item in _PARSED[key]]
