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
Jinja filters by :class:`ServicesExtension` (loaded through
copier-template-extensions).  The module has no Copier import so that the
unit tests can call it directly.

``service_list`` (computed, ``when: false``) is never taken from the user:
:class:`ServiceListHook` recomputes it from ``services`` and ``layout`` for
every render.  The other answers' checks live here too: :func:`text_error`
(one line of printable text) and :func:`slugify` (the project slug's default).
Messages stay short: Copier's prompt shows "Validation error for question
'NAME': " and the message on one line cut at 80 columns.
"""

from __future__ import annotations

import importlib.util
import itertools
import keyword
import re
import sys
import unicodedata
import zlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType


def _own_model() -> ModuleType:
    """hooks/model.py beside this file, as a module of its own path: Copier renders two
    versions of the template in one process (an update renders the project's old
    version too), and a plain ``import model`` would give the second the first's."""
    path = Path(__file__).resolve().with_name("model.py")
    name = f"_template_model_{zlib.crc32(str(path).encode()):08x}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = module  # before it runs: its dataclasses look it up
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


model = _own_model()  # hooks/model.py: the rules this module checks against

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
# (hooks/model.py PYTHON_IMPORTS; tests/test_services_parser.py proves it complete).
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
MAX_SLUG = 30
MAX_PROJECT_NAME = 80
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


# ------------------------------------------------------------ other answers
# Line breaks as YAML (U+0085, U+2028, U+2029), JSON, TOML or a terminal read
# them, other control characters, and invisible format characters (zero-width
# spaces, bidi overrides): none belongs in a name written into YAML comments,
# workflows, manifests and docstrings.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible character",
    "Zl": "a line break",
    "Zp": "a line break",
    "Cs": "a lone surrogate",
}
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def text_error(value: object) -> str:
    """Empty when value is one line of printable text, else a short message (a validator)."""
    for char in str(value):
        category = unicodedata.category(char)
        if char in _LINE_BREAKS or category in _REFUSED_CATEGORIES:
            what = "a line break" if char in _LINE_BREAKS else _REFUSED_CATEGORIES[category]
            return f"U+{ord(char):04X} is {what}"
    return ""


def project_name_error(value: object) -> str:
    """Empty when value is a fine project name, else a short message (a validator).

    The name goes into YAML comments, docstrings, JSON and TOML strings: one
    line of printable text without the characters those would need escaped.
    """
    name = str(value)
    if not name.strip():
        return "give the project a name"
    if any(char in name for char in '"`$\\'):
        return 'no " ` $ or \\ in the name'
    if message := text_error(name):
        return message
    if len(name) > MAX_PROJECT_NAME:
        return f"at most {MAX_PROJECT_NAME} characters"
    return ""


def usable_name(value: object) -> str:
    """value without the characters a project name may not have (a folder's name as default)."""
    kept = "".join(char for char in str(value) if char not in '"`$\\' and not text_error(char))
    return kept.strip()[:MAX_PROJECT_NAME].strip()


SLUG_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# Slugs a YAML loader reads as a bool or null, not text (model.YAML_WORDS): the slug
# is a namespace, a name and a label in deploy/k8s/, unquoted; slugify() appends
# SLUG_SUFFIX to them.
YAML_WORDS = model.YAML_WORDS
SLUG_SUFFIX = "-project"

# The registry answer, by the image reference grammar of Docker and OCI
# (github.com/distribution/reference): an optional host[:port], then path
# components. The first part is a host when it has a dot or a port or is
# localhost; otherwise the images are on Docker Hub (docker.io/<registry>/...).
# This template is stricter in one point: the host is lowercase too.
HOST_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
DOCKER_HUB = "docker.io/"
# distribution/reference's NameTotalLengthMax: the whole image name, host included.
MAX_IMAGE_NAME = 255
REGISTRY_RULE = "like ghcr.io/acme: lowercase, no tag"


def slug_error(value: object) -> str:
    """Empty when value is a project slug (the whole value: no final newline), else the message."""
    slug = str(value)
    if not SLUG_RE.fullmatch(slug):
        return "a letter, then a-z, 0-9, single -"
    if len(slug) > MAX_SLUG:
        return f"at most {MAX_SLUG} characters"
    if slug in YAML_WORDS:
        return f"a YAML {YAML_WORDS[slug]}; write {slug}{SLUG_SUFFIX}"
    return ""


def image_name(registry: str, name: str) -> str:
    """The full name of a service's release image, as Docker reads `<registry>/<name>`
    (partials/compose/prod.jinja, the release workflows, deploy/k8s): Docker Hub's
    host added when the registry names none."""
    first = registry.split("/", 1)[0]
    is_host = "." in first or ":" in first or first == "localhost"
    return f"{registry}/{name}" if is_host else f"{DOCKER_HUB}{registry}/{name}"


def registry_error(value: object) -> str:
    """Empty when value is an image prefix such as ghcr.io/acme, else the message."""
    registry = str(value)
    first, _, rest = registry.partition("/")
    if "." in first or ":" in first or first == "localhost":
        host, colon, port = first.partition(":")
        if colon and port.isascii() and port.isdigit() and not 1 <= int(port) <= 65535:
            return "the port is a number from 1 to 65535"
        if re.fullmatch(r"[a-z0-9._-]+", host) and not HOST_RE.fullmatch(host):
            return "host like ghcr.io: a-z, 0-9, -, dots"
        if not HOST_RE.fullmatch(host) or colon and not (port.isascii() and port.isdigit()):
            return REGISTRY_RULE
        path = rest.split("/") if rest else []
    else:
        path = registry.split("/")
    if not all(PATH_COMPONENT_RE.fullmatch(part) for part in path):
        return REGISTRY_RULE
    # The longest image name a service can give (a name has at most MAX_NAME characters).
    if len(image_name(registry, "a" * MAX_NAME)) > MAX_IMAGE_NAME:
        limit = len(registry) - len(image_name(registry, "a" * MAX_NAME)) + MAX_IMAGE_NAME
        return f"at most {limit} characters (image names)"
    return ""


# Every free-text answer with a check here, by question: what `check` re-validates on update.
ANSWER_CHECKS = {
    "project_name": project_name_error,
    "project_slug": slug_error,
    "description": text_error,
    "registry": registry_error,
}


def slugify(*candidates: object) -> str:
    """The first candidate that gives a slug: ASCII lowercase, digits, single dashes.

    Accents are dropped (Café -> cafe); a leading digit gets 'p-', a YAML word
    (null, yes, ...) SLUG_SUFFIX. A name
    without ASCII letters or digits gives nothing, so the next candidate (the
    destination folder's name) is tried, and 'project' at last.
    """
    for text in candidates:
        ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
        if slug[:1].isdigit():
            slug = f"p-{slug}"
        slug = slug[:MAX_SLUG].rstrip("-")
        if slug in YAML_WORDS:  # a bool or null to YAML: slug_error refuses it
            slug += SLUG_SUFFIX
        if slug:
            return slug
    return "project"


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


def _services_extension() -> type:
    # Imported on first use, like ServiceListHook below: Jinja costs every
    # migration process (hooks/migrations.py imports this module) about 60 ms.
    try:  # Jinja is present whenever Copier is; the unit tests need only the above.
        from jinja2.ext import Extension
    except ImportError:  # pragma: no cover
        Extension = object  # type: ignore[assignment,misc]  # noqa: N806

    class ServicesExtension(Extension):  # type: ignore[misc,valid-type]
        """The filters copier.yml validates and computes answers with, and the help's reserved names."""

        def __init__(self, environment):  # noqa: ANN001
            super().__init__(environment)
            environment.filters["services_error"] = services_error
            environment.filters["parse_services"] = parse_services
            environment.filters["text_error"] = text_error
            environment.filters["project_name_error"] = project_name_error
            environment.filters["usable_name"] = usable_name
            environment.filters["slug_error"] = slug_error
            environment.filters["registry_error"] = registry_error
            environment.filters["slugify_name"] = slugify
            environment.globals["reserved_service_names"] = sorted(RESERVED)
            # The stack's members besides the services (hooks/model.py): name, what, ports.
            environment.filters["stack_members"] = model.stack_members

    ServicesExtension.__qualname__ = "ServicesExtension"
    return ServicesExtension


def _service_list_hook() -> type:
    # Imported on first use: copier_template_extensions imports Copier (about
    # a second), which the migrations that import this module do not need.
    try:  # installed wherever the template runs (copier.yml loads it first)
        from copier_template_extensions import ContextHook
    except ImportError:  # pragma: no cover
        ContextHook = object  # type: ignore[assignment,misc]  # noqa: N806

    class ServiceListHook(ContextHook):  # type: ignore[misc,valid-type]
        """Every render sees service_list computed from services and layout (never supplied)."""

        def hook(self, context: dict) -> None:
            computed_service_list(context)

    ServiceListHook.__qualname__ = "ServiceListHook"
    return ServiceListHook


def __getattr__(name: str) -> type:
    """ServicesExtension and ServiceListHook, built when Copier (or a test) first asks for them."""
    builders = {"ServicesExtension": _services_extension, "ServiceListHook": _service_list_hook}
    if name in builders:
        globals()[name] = builders[name]()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
