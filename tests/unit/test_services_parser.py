"""hooks/services.py called directly: the parser behind the `services` question.

copier.yml validates `services` with `services_error` and computes
`service_list` with `parse_services`; these tests pin both without Copier, so a
failure here names the parser, not the template. tests/render/test_questions.py checks
the same rules through Copier.
"""

from __future__ import annotations

import keyword

import pytest
from support import TEMPLATE, hook_module, hook_services

services = hook_services()
answers = hook_module("answers")
jinja = hook_module("jinja")
ServicesError = services.ServicesError


def triples(spec: object, layout: str = "multi") -> list[tuple[str, str, str]]:
    return [(s.name, s.language, s.kind) for s in services.parse(spec, layout)]


# ------------------------------------------------------------------ parse()

PARSED: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "defaults": ("api", [("api", "python", "api")]),
    "kind-only": ("jobs:worker", [("jobs", "python", "worker")]),
    "language-only": ("web:node", [("web", "node", "api")]),
    "language-then-kind": ("a:node:worker", [("a", "node", "worker")]),
    "kind-then-language": ("a:worker:node", [("a", "node", "worker")]),
    "scheduler": ("beat:scheduler", [("beat", "python", "scheduler")]),
    "scheduler-python": ("beat:python:scheduler", [("beat", "python", "scheduler")]),
    # a BullMQ job scheduler, feeding the node workers
    "scheduler-node": ("beat:node:scheduler", [("beat", "node", "scheduler")]),
    "explicit-defaults": ("a:python:api", [("a", "python", "api")]),
    "explicit-defaults-reversed": ("a:api:python", [("a", "python", "api")]),
    "spaces": (
        "api worker:worker web:node",
        [("api", "python", "api"), ("worker", "python", "worker"), ("web", "node", "api")],
    ),
    "commas": (
        "api,worker:worker,web:node",
        [("api", "python", "api"), ("worker", "python", "worker"), ("web", "node", "api")],
    ),
    "commas-and-spaces": (
        " api , worker:worker,, web:node ",
        [("api", "python", "api"), ("worker", "python", "worker"), ("web", "node", "api")],
    ),
    "tabs-and-newlines": (
        "api\tweb:node\n jobs:worker\n",
        [
            ("api", "python", "api"),
            ("web", "node", "api"),
            ("jobs", "python", "worker"),
        ],
    ),
    "digits-and-dashes": (
        "svc2 v8-engine:node a1-b2-c3:worker",
        [("svc2", "python", "api"), ("v8-engine", "node", "api"), ("a1-b2-c3", "python", "worker")],
    ),
    "order-kept": (
        "zeta alpha mid",
        [
            ("zeta", "python", "api"),
            ("alpha", "python", "api"),
            ("mid", "python", "api"),
        ],
    ),
    "30-chars": ("a" + "b" * 29, [("a" + "b" * 29, "python", "api")]),
    "one-letter": ("x", [("x", "python", "api")]),
    # Stdlib names shadow nothing in a node service.
    "stdlib-name-for-node": (
        "json:node os:node:worker",
        [
            ("json", "node", "api"),
            ("os", "node", "worker"),
        ],
    ),
    # Soft keywords are valid package names.
    "soft-keyword": ("match", [("match", "python", "api")]),
    # A frontend is node-built whatever the word says (it needs the python api 'api').
    "frontend": ("api web:frontend", [("api", "python", "api"), ("web", "node", "frontend")]),
    "frontend-node": ("api web:node:frontend", [("api", "python", "api"), ("web", "node", "frontend")]),
    "frontend-then-node": ("web:frontend:node api", [("web", "node", "frontend"), ("api", "python", "api")]),
    # TypeScript: every kind but frontend (a frontend is TypeScript already).
    "ts": (
        "gw:ts jobs:ts:worker beat:scheduler:ts",
        [("gw", "ts", "api"), ("jobs", "ts", "worker"), ("beat", "ts", "scheduler")],
    ),
    "ts-python-names": ("json:ts os:worker:ts", [("json", "ts", "api"), ("os", "ts", "worker")]),
}


@pytest.mark.parametrize(("spec", "expected"), PARSED.values(), ids=PARSED.keys())
def test_parse(spec: str, expected: list[tuple[str, str, str]]) -> None:
    assert triples(spec) == expected


def test_parse_single_layout_one_service() -> None:
    assert triples("tasks:node:worker", "single") == [("tasks", "node", "worker")]


def test_layout_defaults_to_multi() -> None:
    with pytest.raises(ServicesError):
        services.parse("api web", "single")
    assert len(services.parse("api web")) == 2


def test_service_is_frozen_with_package() -> None:
    service = services.parse("billing-api")[0]
    assert service == services.Service("billing-api", "python", "api")
    assert service.package == "billing_api"
    with pytest.raises(AttributeError):
        service.name = "other"  # type: ignore[misc]


# ---------------------------------------------------------- parse_services()


def test_parse_services_multi_fields() -> None:
    assert services.parse_services("api worker:worker web-ui:node", "multi") == [
        {
            "name": "api",
            "language": "python",
            "kind": "api",
            "package": "api",
            "runtime": "python",
            "typescript": False,
            "tsc": False,
            "http": True,
            "heartbeat": False,
            "owns_schema": False,
            "migrate": "",
            "queue": "",
            "sends_jobs": False,
            "manifest": "pyproject.toml",
            "lock": "uv.lock",
            "env": "API",
            "port": 8000,
            "dev_port": 8359,
            "upstream": "",
            "path": "services/api",
            "framework": "pytest",
            "word": "api",
        },
        {
            "name": "worker",
            "language": "python",
            "kind": "worker",
            "package": "worker",
            "runtime": "python",
            "typescript": False,
            "tsc": False,
            "http": False,
            "heartbeat": True,
            "owns_schema": False,
            "migrate": "",
            "queue": "",
            "sends_jobs": False,
            "manifest": "pyproject.toml",
            "lock": "uv.lock",
            "env": "WORKER",
            "port": 8000,
            "dev_port": 8746,
            "upstream": "",
            "path": "services/worker",
            "framework": "pytest",
            "word": "worker:worker",
        },
        {
            "name": "web-ui",
            "language": "node",
            "kind": "api",
            "package": "web_ui",
            "runtime": "node",
            "typescript": False,
            "tsc": False,
            "http": True,
            "heartbeat": False,
            "owns_schema": False,
            "migrate": "",
            "queue": "",
            "sends_jobs": False,
            "manifest": "package.json",
            "lock": "package-lock.json",
            "env": "WEB_UI",
            "port": 8000,
            "dev_port": 8195,
            "upstream": "api",
            "path": "services/web-ui",
            "framework": "vitest",
            "word": "web-ui:node",
        },
    ]


def test_facts_follow_the_components() -> None:
    """Who owns a schema and which queue a service uses depend on the components."""
    found = {svc["name"]: svc for svc in services.parse_services(
        "api w:worker b:scheduler gw:ts web:frontend", "multi", ["postgres", "redis"])}
    assert {n for n, svc in found.items() if svc["owns_schema"]} == {"api", "w", "gw"}
    assert found["api"]["migrate"] == "api-migrate" and found["b"]["migrate"] == ""
    assert {n: svc["queue"] for n, svc in found.items()} == {
        "api": "celery", "w": "celery", "b": "celery", "gw": "bullmq", "web": ""}
    assert {n for n, svc in found.items() if svc["http"]} == {"api", "gw", "web"}
    assert {n for n, svc in found.items() if svc["typescript"]} == {"gw"}
    assert {n for n, svc in found.items() if svc["tsc"]} == {"gw", "web"}
    assert {n for n, svc in found.items() if svc["sends_jobs"]} == {"api", "b", "gw"}
    bare = services.parse_services("api w:worker", "multi", [])
    assert not any(svc["owns_schema"] or svc["queue"] or svc["sends_jobs"] for svc in bare)


def test_parse_services_single_lives_at_root() -> None:
    assert services.parse_services("my-app:node:worker", "single") == [
        {
            "name": "my-app",
            "language": "node",
            "kind": "worker",
            "package": "my_app",
            "runtime": "node",
            "typescript": False,
            "tsc": False,
            "http": False,
            "heartbeat": True,
            "owns_schema": False,
            "migrate": "",
            "queue": "",
            "sends_jobs": False,
            "manifest": "package.json",
            "lock": "package-lock.json",
            "env": "MY_APP",
            "port": 8000,
            "dev_port": services.default_port("my-app"),
            "upstream": "",
            "path": ".",
            "framework": "vitest",
            "word": "my-app:node:worker",
        }
    ]


def test_parse_services_dev_ports_are_distinct() -> None:
    items = services.parse_services(" ".join(f"s{i}" for i in range(12)))
    ports = [item["dev_port"] for item in items]
    assert len(set(ports)) == 12, ports
    assert all(p in services.DEV_PORTS for p in ports), ports
    assert {item["port"] for item in items} == {services.API_PORT}


# ------------------------------------------------- identity, not position

IDENTITY_KEYS = ("dev_port", "env", "package", "path", "upstream")


def by_name(spec: str) -> dict[str, dict[str, object]]:
    return {item["name"]: item for item in services.parse_services(spec)}


@pytest.mark.parametrize(
    "changed",
    [
        "web:node worker:worker api",  # reordered
        "billing:node:worker api zeta worker:worker web:node",  # added before and after
        "api web:node",  # one removed
    ],
)
def test_per_service_values_do_not_depend_on_the_other_services(changed: str) -> None:
    before, after = by_name("api worker:worker web:node"), by_name(changed)
    for name in set(before) & set(after):
        for key in IDENTITY_KEYS:
            assert after[name][key] == before[name][key], f"{name}.{key} changed with '{changed}'"


def test_default_port_is_a_checksum_of_the_name() -> None:
    assert services.default_port("api") == 8359  # stable across Python runs: not hash()
    assert services.default_port("api") != services.default_port("api2")
    assert by_name("zeta api")["api"]["dev_port"] == 8359


def test_port_option_sets_the_host_port_only() -> None:
    item = by_name("api:port=8010 web:node:port=8011")
    assert (item["api"]["dev_port"], item["api"]["port"]) == (8010, services.API_PORT)
    assert (item["web"]["language"], item["web"]["dev_port"]) == ("node", 8011)
    assert services.parse("api:port=8010") == [services.Service("api", dev_port=8010)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("api:port=80", "'api:port=80': not in 1024-65535"),
        ("api:port=070000", "'api:port=070000': not in 1024-65535"),
        ("api:port=", "'api:port=': not in 1024-65535"),
        ("api:port=８０８０", "'api:port=８０８０': not in 1024-65535"),
        ("api:port=8010:port=8011", "'api:port=…': give one port, not 2"),
        ("w:worker:port=8010", "'w:worker:…': port= is for apis"),
        ("api:port=5432", "'api:port=5432': 5432 is postgres's"),
        ("api:port=8010 web:node:port=8010", "8010 taken: add :port=8011 to 'web'"),
        ("api web:port=8359", "8359 taken: add :port=8360 to 'web'"),
        # The llm stand-in's port, whatever the components: an update may add llm later.
        ("api:port=8089", "'api:port=8089': 8089 is llm's"),
        ("api cab", "8089 is llm's: add :port=8090 to 'cab'"),
    ],
    ids=["low", "leading-zero", "empty", "fullwidth", "two", "worker", "infra", "explicit-twice",
         "explicit-on-default", "member-explicit", "member-default"],
)
def test_port_problems_are_refused_with_a_fix(spec: str, message: str) -> None:
    assert services.services_error(spec) == message
    # Copier prefixes "Validation error for question 'services': " and cuts at 80 columns.
    assert len(f"Validation error for question 'services': {message}") <= 80


def test_colliding_default_ports_are_refused_with_a_free_port() -> None:
    """Two names whose checksums collide: the message gives a port that works."""
    names = {}
    for i in range(5000):
        port = services.default_port(f"s{i}")
        if port in names:
            first, second = names[port], f"s{i}"
            break
        names[port] = f"s{i}"
    error = services.services_error(f"{first} {second}")
    assert error.startswith(f"{port} taken: add :port="), error
    assert error.endswith(f" to '{second}'"), error
    option = error.split("add ")[1].split(" ")[0]
    assert services.services_error(f"{first} {second}{option}") == ""


def test_workers_never_collide() -> None:
    """Workers publish no port, so their checksums may coincide with anything."""
    port = services.default_port("api")
    twin = next(f"w{i}" for i in range(100000) if services.default_port(f"w{i}") == port)
    assert services.services_error(f"api {twin}:worker") == ""


def test_runtime_is_node_for_both_javascript_and_typescript() -> None:
    """What the compose files, Makefile and scripts share between node and ts services."""
    found = by_name("api web:node gw:ts jobs:ts:worker ui:frontend")
    assert {name: svc["runtime"] for name, svc in found.items()} == {
        "api": "python", "web": "node", "gw": "node", "jobs": "node", "ui": "node"}
    assert {svc["framework"] for name, svc in found.items() if name != "api"} == {"vitest"}


def test_a_ts_api_calls_the_python_api_like_a_node_one() -> None:
    assert by_name("api gw:ts")["gw"]["upstream"] == "api"
    assert by_name("api:ts gw:ts")["gw"]["upstream"] == ""


def test_colliding_ports_of_a_ts_api_are_fixed_with_its_language() -> None:
    port = services.default_port("api")
    twin = next(f"w{i}" for i in range(100000) if services.default_port(f"w{i}") == port)
    error = services.services_error(f"api {twin}:ts")
    assert f"add :port={port + 1} to '{twin}'" in error, error
    assert services.services_error(f"api {twin}:ts:port={port + 1}") == ""


def test_upstream_is_the_python_api_named_api() -> None:
    assert by_name("api web:node")["web"]["upstream"] == "api"
    assert by_name("web:node other api")["web"]["upstream"] == "api"
    # Its target gone (or not a python api): no upstream, never another service.
    assert by_name("other web:node")["web"]["upstream"] == ""
    assert by_name("api:node web:node")["web"]["upstream"] == ""
    assert by_name("api:worker web:node")["web"]["upstream"] == ""
    # Only node apis call it.
    assert {by_name("api x w:worker z:node:worker")[n]["upstream"] for n in "xwz"} == {""}


def test_frontend_proxies_the_python_api_named_api() -> None:
    assert by_name("api web:frontend")["web"]["upstream"] == "api"
    assert by_name("web:frontend jobs:worker api")["web"]["upstream"] == "api"
    # Without it there is nothing to show: refused, in either layout.
    for spec, layout in [("web:frontend", "single"), ("web:frontend other", "multi"),
                         ("api:node web:frontend", "multi"), ("api:worker web:frontend", "multi")]:
        assert services.services_error(spec, layout) == "'web': needs python api 'api'"


def test_frontend_has_a_port_like_an_api() -> None:
    parsed = by_name("api web:frontend:port=8500")
    assert parsed["web"]["dev_port"] == 8500
    assert parsed["web"]["port"] == services.API_PORT
    port = services.default_port("api")
    message = services.services_error(f"api web:frontend:port={port}")
    assert message == f"{port} taken: add :port={port + 1} to 'web'", message


def test_parse_services_raises_like_parse() -> None:
    with pytest.raises(ServicesError, match="listed twice"):
        services.parse_services("api api")


# ------------------------------------------------------- services_error()


@pytest.mark.parametrize("spec", ["api", "api worker:worker web:node", "a,b,c"])
def test_services_error_empty_when_fine(spec: str) -> None:
    assert services.services_error(spec) == ""


def test_services_error_returns_the_message() -> None:
    assert services.services_error("api web", "single") == "single layout: one service, not 2"
    assert services.services_error("API") == "'API': use a-z, 0-9, single -"


def test_services_error_is_a_value_error() -> None:
    """Copier reports validator failures as ValueError; the parser's error is one."""
    assert issubclass(ServicesError, ValueError)


def test_extension_registers_both_filters() -> None:
    import jinja2

    env = jinja2.Environment(extensions=[jinja.ServicesExtension])
    assert env.filters["services_error"] is services.services_error
    assert env.filters["parse_services"] is services.parse_services
    rendered = env.from_string("{{ s | services_error(l) }}|{{ (s | parse_services(l))[0].path }}").render(
        s="web:node", l="single"
    )
    assert rendered == "|."


# ---------------------------------------------------------------- errors

LONG_31 = "a" * 31
LONG_64 = "s" + "x" * 63
NAME_RULE = "use a-z, 0-9, single -"

# Every message of ServicesError, word for word, once. Copier shows them after
# "Validation error for question 'services': " (42 columns) in an 80-column line.
MESSAGES: dict[str, tuple[object, str, str]] = {
    "not-text": (42, "multi", "services must be text, not int"),
    "empty": ("", "multi", "give at least one service, e.g. 'api'"),
    "no-name": (":node", "multi", "':node': no name before ':'"),
    "too-long": (LONG_31, "multi", "'aaaaaaaaa…': at most 30 characters"),
    "name-rule": ("API", "multi", "'API': use a-z, 0-9, single -"),
    "reserved": ("db", "multi", "'db' is a reserved name"),
    "two-languages": ("api:python:node", "multi", "'api:pytho…': two languages"),
    "two-kinds": ("api:api:worker", "multi", "'api:api:w…': two kinds"),
    "unknown-option": ("api:go", "multi", "'go': not a language or kind"),
    "python-keyword": ("class", "multi", "'class' is a Python keyword"),
    "python-shadow": ("json", "multi", "'json' shadows a Python module"),
    "duplicate": ("api api", "multi", "'api' is listed twice"),
    "single-layout": ("api web", "single", "single layout: one service, not 2"),
    "frontend-python": ("web:python:frontend", "multi", "'web:pytho…': frontend is node only"),
    "frontend-alone": ("web:frontend", "multi", "'web': needs python api 'api'"),
    "frontend-ts": ("web:ts:frontend", "multi", "'web:ts:fr…': frontend is TS already"),
}
SERVICES_PREFIX = "Validation error for question 'services': "


@pytest.mark.parametrize(("spec", "layout", "message"), MESSAGES.values(), ids=MESSAGES.keys())
def test_exact_message(spec: object, layout: str, message: str) -> None:
    with pytest.raises(ServicesError) as caught:
        services.parse(spec, layout)
    assert str(caught.value) == message


# id -> (spec, layout, fragment of the message)
ERRORS: dict[str, tuple[object, str, str]] = {
    "not-text:list": (["api"], "multi", "services must be text"),
    "not-text:none": (None, "multi", "not NoneType"),
    "empty": ("", "multi", "give at least one service"),
    "only-spaces": ("   \t ", "multi", "give at least one service"),
    "only-commas": (" , ,, ", "multi", "give at least one service"),
    "no-name:colon-first": (":node", "multi", "':node': no name before ':'"),
    "no-name:colon-only": (":", "multi", "':': no name before ':'"),
    "too-long:31": (LONG_31, "multi", "at most 30 characters"),
    "too-long:64": (LONG_64, "multi", "'sxxxxxxxx…': at most 30 characters"),
    "name:upper": ("API", "multi", f"'API': {NAME_RULE}"),
    "name:camel": ("myApi", "multi", f"'myApi': {NAME_RULE}"),
    "name:leading-digit": ("1api", "multi", f"'1api': {NAME_RULE}"),
    "name:leading-dash": ("-api", "multi", f"'-api': {NAME_RULE}"),
    "name:trailing-dash": ("api-", "multi", f"'api-': {NAME_RULE}"),
    "name:double-dash": ("a--b", "multi", f"'a--b': {NAME_RULE}"),
    "name:underscore": ("my_api", "multi", f"'my_api': {NAME_RULE}"),
    "name:dot": ("my.api", "multi", f"'my.api': {NAME_RULE}"),
    "name:dotdot": ("..", "multi", f"'..': {NAME_RULE}"),
    "name:slash": ("a/b", "multi", f"'a/b': {NAME_RULE}"),
    "name:traversal": ("../etc", "multi", f"'../etc': {NAME_RULE}"),
    "name:dollar": ("$HOME", "multi", f"'$HOME': {NAME_RULE}"),
    "name:subshell": ("$(id)", "multi", f"'$(id)': {NAME_RULE}"),
    "name:semicolon": ("a;b", "multi", f"'a;b': {NAME_RULE}"),
    "name:backtick": ("`id`", "multi", f"'`id`': {NAME_RULE}"),
    "name:ampersand": ("a&b", "multi", f"'a&b': {NAME_RULE}"),
    "name:pipe": ("a|b", "multi", f"'a|b': {NAME_RULE}"),
    "name:quote": ("a'b", "multi", f"'a'b': {NAME_RULE}"),
    "name:non-ascii": ("café", "multi", f"'café': {NAME_RULE}"),
    "name:line-separator": ("a\u2028b", "multi", f"'a\u2028b': {NAME_RULE}"),
    "name:nel": ("a\x85b", "multi", f"'a\x85b': {NAME_RULE}"),
    "name:zero-width": ("a\u200bb", "multi", f"'a\u200bb': {NAME_RULE}"),
    "reserved:deploy": ("deploy", "multi", "'deploy' is a reserved name"),
    "reserved:scripts": ("api scripts:worker", "multi", "'scripts' is a reserved name"),
    "reserved:services": ("services", "multi", "'services' is a reserved name"),
    "reserved:tests": ("tests:node", "multi", "'tests' is a reserved name"),
    "reserved:src": ("src", "single", "'src' is a reserved name"),
    "reserved:postgres": ("postgres", "multi", "'postgres' is a reserved name"),
    "reserved:redis": ("redis:node:worker", "multi", "'redis' is a reserved name"),
    "step:migrate": ("api api-migrate:worker", "multi", "'api-migra…': -migrate is reserved"),
    "shadows:alembic": ("alembic", "multi", "'alembic' shadows a Python module"),
    "option:two-languages": ("api:python:node", "multi", "two languages"),
    "option:same-language-twice": ("api:node:node", "multi", "two languages"),
    "option:node-and-ts": ("api:node:ts", "multi", "two languages"),
    "option:ts-then-frontend": ("web:frontend:ts", "multi", "frontend is TS already"),
    "option:two-kinds": ("api:api:worker", "multi", "two kinds"),
    "option:three": ("api:node:api:worker", "multi", "two kinds"),
    "option:unknown-language": ("api:go", "multi", "'go': not a language or kind"),
    "option:unknown-kind": ("api:cron", "multi", "'cron': not a language or kind"),
    "option:upper": ("api:Node", "multi", "'Node': not a language or kind"),
    "option:empty": ("api:", "multi", "'': not a language or kind"),
    "python:keyword": ("class", "multi", "'class' is a Python keyword"),
    "python:keyword-async": ("async:worker", "multi", "'async' is a Python keyword"),
    "python:stdlib": ("json", "multi", "'json' shadows a Python module"),
    "python:stdlib-explicit": ("email:python:worker", "multi", "'email' shadows a Python module"),
    "python:dependency": ("fastapi", "multi", "'fastapi' shadows a Python module"),
    "duplicate": ("api api", "multi", "'api' is listed twice"),
    "duplicate:other-options": ("api web:node api:worker", "multi", "'api' is listed twice"),
    "duplicate:commas": ("api,api", "multi", "'api' is listed twice"),
    "single:two": ("api web", "single", "single layout: one service, not 2"),
    "single:three": ("a,b,c", "single", "single layout: one service, not 3"),
    "single:none": ("", "single", "give at least one service"),
}


@pytest.mark.parametrize(("spec", "layout", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_error_message(spec: object, layout: str, message: str) -> None:
    with pytest.raises(ServicesError) as caught:
        services.parse(spec, layout)
    assert message in str(caught.value)
    assert services.services_error(spec, layout) == str(caught.value)


@pytest.mark.parametrize(("spec", "layout"), [v[:2] for v in ERRORS.values()], ids=ERRORS.keys())
def test_message_fits_one_prompt_line(spec: object, layout: str) -> None:
    """Copier's interactive prompt shows the prefix and the message on one 80-column line."""
    line = SERVICES_PREFIX + services.services_error(spec, layout)
    assert len(line) <= 80, f"{len(line)} columns: {line}"


def test_quoted_shortens_long_words() -> None:
    assert services.quoted("a" * services.MAX_QUOTED) == "'" + "a" * services.MAX_QUOTED + "'"
    assert services.quoted("b" * 64) == "'" + "b" * (services.MAX_QUOTED - 1) + "…'"


def test_first_error_wins() -> None:
    """Words are checked left to right; a name error comes before a duplicate."""
    with pytest.raises(ServicesError, match="^'API'"):
        services.parse("api api API")


def test_dash_underscore_collision_is_caught_by_the_name_rule() -> None:
    """'a-b' and 'a_b' would share package a_b, but '_' never passes the name rule.

    The "differ only by '-' and '_'" check in parse() is therefore unreachable
    today; this pins which message a person actually sees.
    """
    with pytest.raises(ServicesError, match="^'a_b': use a-z"):
        services.parse("a-b a_b")


@pytest.mark.parametrize("name", ["json", "os", "class", "typing", "fastapi", "pytest"])
def test_python_only_names_are_fine_for_node(name: str) -> None:
    with pytest.raises(ServicesError):
        services.parse(name)
    assert triples(f"{name}:node") == [(name, "node", "api")]
    assert triples(f"{name}:node:worker") == [(name, "node", "worker")]


def test_reserved_covers_folders_and_infrastructure() -> None:
    """The project's own folders and the compose names of the components."""
    required = {"deploy", "scripts", "services", "tests", "src", "postgres", "redis", "db"}
    assert required <= services.RESERVED, sorted(required - services.RESERVED)


@pytest.mark.parametrize("name", sorted(services.RESERVED))
def test_every_reserved_name_is_refused_for_both_languages(name: str) -> None:
    for spec in (name, f"{name}:node"):
        with pytest.raises(ServicesError, match="is a reserved name"):
            services.parse(spec)


def test_every_python_keyword_that_is_a_valid_name_is_refused() -> None:
    names = [k for k in keyword.kwlist if services.NAME_RE.match(k)]
    assert names, "no keyword passes the name rule: the keyword check is untested"
    for name in names:
        assert "Python keyword" in services.services_error(name), name


def test_dashed_name_is_checked_as_its_package() -> None:
    """'-' becomes '_' in the package, so a dashed name can still shadow nothing."""
    assert triples("e-mail") == [("e-mail", "python", "api")]


# ------------------------------------------------- gaps (see the report)

# Modules the generated python services import through their dependencies
# (starlette -> anyio, uvicorn -> click/h11, pydantic -> pydantic_core, ...).
# A service package of that name shadows them: in the dev stack PYTHONPATH is
# /app/src, and `pip install .` in the image writes into the same folder of
# site-packages. PYTHON_SHADOWED lists only the direct dependencies.
TRANSITIVE = [
    "anyio",
    "sniffio",
    "idna",
    "click",
    "h11",
    "certifi",
    "httpcore",
    "annotated-types",
    "pydantic-core",
    "typing-extensions",
    "typing-inspection",
    "pluggy",
    "iniconfig",
    "packaging",
    "pygments",
    "coverage",
    "pytest-cov",
]


def test_python_transitive_dependency_names_are_refused() -> None:
    accepted = [name for name in TRANSITIVE if not services.services_error(name)]
    assert not accepted, f"python services that would shadow a dependency: {accepted}"


def test_database_is_reserved() -> None:
    assert "is a reserved name" in services.services_error("database api")


# ------------------------------------------------------------ other answers

# Characters that end a line for YAML (U+0085, U+2028, U+2029), JSON or a
# terminal, or that hide text: refused in project_name and description.
REFUSED_CHARACTERS = {
    "newline": ("\n", "U+000A is a line break"),
    "carriage-return": ("\r", "U+000D is a line break"),
    "tab": ("\t", "U+0009 is a control character"),
    "nul": ("\x00", "U+0000 is a control character"),
    "escape": ("\x1b", "U+001B is a control character"),
    "delete": ("\x7f", "U+007F is a control character"),
    "nel-u0085": ("\x85", "U+0085 is a line break"),
    "line-separator-u2028": ("\u2028", "U+2028 is a line break"),
    "paragraph-separator-u2029": ("\u2029", "U+2029 is a line break"),
    "zero-width-space": ("\u200b", "U+200B is an invisible character"),
    "right-to-left-override": ("\u202e", "U+202E is an invisible character"),
    "byte-order-mark": ("\ufeff", "U+FEFF is an invisible character"),
    "lone-surrogate": ("\ud800", "U+D800 is a lone surrogate"),
}


@pytest.mark.parametrize(("char", "message"), REFUSED_CHARACTERS.values(), ids=REFUSED_CHARACTERS.keys())
def test_text_error_refuses(char: str, message: str) -> None:
    assert answers.text_error(f"Acme{char}Shop") == message


@pytest.mark.parametrize("text", ["Acme Shop", "Café Crème", "日本語", "Bob's Shop (beta)", "Ünïcödé ✓", "a\u00a0b"])
def test_text_error_accepts_printable_text(text: str) -> None:
    assert answers.text_error(text) == ""


SLUGS = {
    "plain": (("Acme Shop",), "acme-shop"),
    "punctuation": (("  Hello, World!! (beta) ",), "hello-world-beta"),
    "leading-digit": (("1st Shop!",), "p-1st-shop"),
    "accents-dropped": (("Café Crème",), "cafe-creme"),
    "no-ascii-letters-uses-folder": (("日本語", "shop-backend"), "shop-backend"),
    "nothing-usable": (("日本語", "Ωμέγα"), "project"),
    "cut-at-30-without-trailing-dash": (("a" * 29 + " b",), "a" * 29),
}


@pytest.mark.parametrize(("candidates", "slug"), SLUGS.values(), ids=SLUGS.keys())
def test_slugify(candidates: tuple[str, ...], slug: str) -> None:
    assert answers.slugify(*candidates) == slug
    assert services.NAME_RE.fullmatch(slug) and len(slug) <= answers.MAX_SLUG


# ------------------------------------------------------------- service_list


def test_computed_service_list_replaces_a_supplied_one() -> None:
    context = {
        "services": "api web:node",
        "layout": "multi",
        "service_list": [{"name": "a b$(id)", "path": "services/a b$(id)"}],
    }
    services.computed_service_list(context)
    assert context["service_list"] == services.parse_services("api web:node", "multi")


def test_computed_service_list_removed_while_services_is_invalid() -> None:
    context = {"services": "API", "layout": "multi", "service_list": [{"name": "a b$(id)"}]}
    services.computed_service_list(context)
    assert "service_list" not in context


def test_computed_service_list_waits_for_both_answers() -> None:
    context = {"services": "api", "service_list": "supplied"}
    services.computed_service_list(context)
    assert context == {"services": "api", "service_list": "supplied"}


def test_service_list_hook_recomputes_in_every_render() -> None:
    import jinja2

    env = jinja2.Environment(extensions=[jinja.ServiceListHook])
    text = env.from_string("{% for s in service_list %}{{ s.name }} {% endfor %}").render(
        _copier_conf={}, services="api jobs:worker", layout="multi", service_list=[{"name": "a b$(id)"}]
    )
    assert text == "api jobs "


def test_help_global_lists_every_reserved_name() -> None:
    import jinja2

    env = jinja2.Environment(extensions=[jinja.ServicesExtension])
    assert env.globals["reserved_service_names"] == sorted(services.RESERVED)


PROJECT_NAMES = {
    "fine": ("Acme Shop", ""),
    "non-ascii": ("日本語", ""),
    "empty": ("", "give the project a name"),
    "spaces": ("   ", "give the project a name"),
    "double-quote": ('Acme "Shop"', 'no " ` $ or \\ in the name'),
    "backslash": ("Acme\\Shop", 'no " ` $ or \\ in the name'),
    "u2028": ("Acme\u2028on: push", "U+2028 is a line break"),
    "80-chars": ("A" * 80, ""),
    "81-chars": ("A" * 81, "at most 80 characters"),
}


@pytest.mark.parametrize(("name", "message"), PROJECT_NAMES.values(), ids=PROJECT_NAMES.keys())
def test_project_name_error(name: str, message: str) -> None:
    assert answers.project_name_error(name) == message


SLUG_CHECKS = {
    "fine": ("acme-shop", ""),
    "30-chars": ("a" * 30, ""),
    "31-chars": ("a" * 31, "at most 30 characters"),
    "trailing-newline": ("acme\n", "a letter, then a-z, 0-9, single -"),
    "upper": ("Acme", "a letter, then a-z, 0-9, single -"),
    "leading-digit": ("1acme", "a letter, then a-z, 0-9, single -"),
    "double-dash": ("a--b", "a letter, then a-z, 0-9, single -"),
}


@pytest.mark.parametrize(("slug", "message"), SLUG_CHECKS.values(), ids=SLUG_CHECKS.keys())
def test_slug_error(slug: str, message: str) -> None:
    assert answers.slug_error(slug) == message


REGISTRY_CHECKS = {
    "ghcr": ("ghcr.io/acme", True),
    "port-and-path": ("registry.example.com:5000/team/sub", True),
    "host-only": ("localhost:5000", True),
    "trailing-newline": ("ghcr.io/acme\n", False),
    "trailing-slash": ("ghcr.io/acme/", False),
    "tag": ("ghcr.io/acme:latest", False),
    "upper": ("GHCR.io/acme", False),
    "scheme": ("https://ghcr.io/acme", False),
    "u2028": ("ghcr.io/acme\u2028", False),
}


@pytest.mark.parametrize(("registry", "fine"), REGISTRY_CHECKS.values(), ids=REGISTRY_CHECKS.keys())
def test_registry_error(registry: str, fine: bool) -> None:
    assert answers.registry_error(registry) == ("" if fine else "like ghcr.io/acme: lowercase, no tag")


def test_answer_checks_cover_every_free_text_question() -> None:
    import yaml

    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    free_text = {name for name, spec in config.items()
                 if isinstance(spec, dict) and spec.get("type") == "str" and "choices" not in spec
                 and name != "services" and "when" not in spec}
    assert free_text == set(answers.ANSWER_CHECKS), "a free-text question without its check on update"
    for name, check in answers.ANSWER_CHECKS.items():
        assert f"| {check.__name__}" in config[name]["validator"], (name, config[name]["validator"])


USABLE_NAMES = {
    "fine": ("shop-backend", "shop-backend"),
    "refused-characters-dropped": ('shop$backend "v2"', "shopbackend v2"),
    "line-breaks-dropped": ("a\u2028b\nc", "abc"),
    "nothing-left": ("$$$", ""),
    "cut-at-80": ("x" * 100, "x" * 80),
}


@pytest.mark.parametrize(("folder", "name"), USABLE_NAMES.values(), ids=USABLE_NAMES.keys())
def test_usable_name(folder: str, name: str) -> None:
    assert answers.usable_name(folder) == name
    assert not name or answers.project_name_error(name) == ""


def test_parse_services_keeps_each_word_as_written() -> None:
    items = services.parse_services("api:port=8100,web:node  jobs:worker:python")
    assert [item["word"] for item in items] == ["api:port=8100", "web:node", "jobs:worker:python"]
    assert [item["framework"] for item in items] == ["pytest", "vitest", "pytest"]
