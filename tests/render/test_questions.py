"""The questions, answered through Copier itself: what is refused and what renders.

Layer 1 of the template's tests. Every refused answer must raise with the
validator's own words and leave no file behind; every accepted edge case must
render and be recorded in .copier-answers.yml. tests/unit/test_services_parser.py
covers the `services` parser without Copier.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import BASE_ANSWERS, TEMPLATE, hook_module, hook_services, run_copy

# The template is copied from the working tree, which is dirty while people edit it.
pytestmark = pytest.mark.filterwarnings("ignore::copier.errors.DirtyLocalWarning")

NAME_31 = "a" * 31
NAME_30 = "a" + "b" * 29
NAME_RULE = "use a-z, 0-9, single -"
SLUG_RULE = "a letter, then a-z, 0-9, single -"
REGISTRY_RULE = "like ghcr.io/acme: lowercase, no tag"
NAME_CHARS = 'no " ` $ or \\ in the name'
# Questions whose refusals are Copier's own choice checks (a menu when interactive).
CHOICE_QUESTIONS = {"layout", "ci_provider", "image_flavor", "python_version", "node_version", "components",
                    "deploy_targets"}
# A service_list as a --data-file could carry it: a name that runs `id` in a script.
INJECTED_SERVICE_LIST = [
    {
        "name": "a b$(id)",
        "language": "python",
        "kind": "api",
        "package": "a",
        "env": "A",
        "port": 8000,
        "dev_port": 8000,
        "path": "services/a b$(id)",
    }
]


def refused(id: str, data: dict[str, Any], question: str, fragment: str, xfail: str = "") -> Any:
    """One REJECTED case: the answers, the question Copier names, and its message."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(data, question, fragment, id=id, marks=marks)


REJECTED = [
    # ------------------------------------------------------------ services
    refused("services:upper", {"services": "API"}, "services", f"'API': {NAME_RULE}"),
    refused("services:line-separator-u2028", {"services": "api\u2028web"}, "services", NAME_RULE),
    refused("services:nel-u0085", {"services": "api\x85web"}, "services", NAME_RULE),
    refused("services:upper-in-list", {"services": "api Web:node"}, "services", f"'Web': {NAME_RULE}"),
    refused("services:leading-digit", {"services": "1api"}, "services", f"'1api': {NAME_RULE}"),
    refused("services:slash", {"services": "api/v1"}, "services", f"'api/v1': {NAME_RULE}"),
    refused("services:dotdot", {"services": ".."}, "services", f"'..': {NAME_RULE}"),
    refused("services:dollar", {"services": "$HOME"}, "services", f"'$HOME': {NAME_RULE}"),
    refused("services:semicolon", {"services": "api;rm"}, "services", f"'api;rm': {NAME_RULE}"),
    refused("services:backtick", {"services": "`id`"}, "services", f"'`id`': {NAME_RULE}"),
    refused("services:ampersand", {"services": "a&b"}, "services", f"'a&b': {NAME_RULE}"),
    refused("services:pipe", {"services": "a|b"}, "services", f"'a|b': {NAME_RULE}"),
    refused("services:trailing-dash", {"services": "api-"}, "services", f"'api-': {NAME_RULE}"),
    refused("services:double-dash", {"services": "a--b"}, "services", f"'a--b': {NAME_RULE}"),
    refused("services:duplicate", {"services": "api web:node api:worker"}, "services", "'api' is listed twice"),
    refused("services:reserved-deploy", {"services": "deploy"}, "services", "'deploy' is a reserved name"),
    refused("services:reserved-scripts", {"services": "api scripts"}, "services", "'scripts' is a reserved name"),
    refused("services:reserved-services", {"services": "services"}, "services", "'services' is a reserved name"),
    refused("services:reserved-tests", {"services": "tests:node"}, "services", "'tests' is a reserved name"),
    refused("services:reserved-src", {"layout": "single", "services": "src"}, "services", "'src' is a reserved name"),
    refused("services:infra-postgres", {"services": "api postgres"}, "services", "'postgres' is a reserved name"),
    refused("services:infra-redis", {"services": "redis:node:worker"}, "services", "'redis' is a reserved name"),
    refused("services:31-chars", {"services": NAME_31}, "services", "'aaaaaaaaa…': at most 30 characters"),
    refused("services:64-chars", {"services": "s" * 64}, "services", "at most 30 characters"),
    refused("services:empty", {"services": ""}, "services", "give at least one service"),
    refused("services:only-spaces", {"services": "    "}, "services", "give at least one service"),
    refused("services:no-name", {"services": ":node"}, "services", "':node': no name before ':'"),
    refused(
        "services:single-two",
        {"layout": "single", "services": "api web:node"},
        "services",
        "single layout: one service, not 2",
    ),
    refused("services:unknown-language", {"services": "api:go"}, "services", "'go': not a language or kind"),
    refused("services:unknown-kind", {"services": "api:cron"}, "services", "'cron': not a language or kind"),
    refused("services:two-languages", {"services": "api:python:node"}, "services", "two languages"),
    refused("services:two-kinds", {"services": "api:worker:api"}, "services", "two kinds"),
    refused(
        "services:python-keyword",
        {"services": "class"},
        "services",
        "'class' is a Python keyword",
    ),
    refused("services:python-stdlib", {"services": "json"}, "services", "'json' shadows a Python module"),
    refused("services:python-dependency", {"services": "fastapi"}, "services", "'fastapi' shadows a Python module"),
    refused(
        "services:python-transitive-dependency",
        {"services": "anyio"},
        "services",
        "'anyio' shadows a Python module",
    ),
    refused(
        "services:database",
        {"services": "api database"},
        "services",
        "'database' is a reserved name",
    ),
    # -------------------------------------------------------- project_slug
    refused("slug:upper", {"project_slug": "Acme"}, "project_slug", SLUG_RULE),
    refused("slug:leading-digit", {"project_slug": "1acme"}, "project_slug", SLUG_RULE),
    refused("slug:spaces", {"project_slug": "acme shop"}, "project_slug", SLUG_RULE),
    refused("slug:trailing-dash", {"project_slug": "acme-"}, "project_slug", SLUG_RULE),
    refused("slug:31-chars", {"project_slug": NAME_31}, "project_slug", "at most 30 characters"),
    refused("slug:trailing-newline", {"project_slug": "acme\n"}, "project_slug", SLUG_RULE),
    refused("slug:inner-newline", {"project_slug": "acme\nshop"}, "project_slug", SLUG_RULE),
    refused("slug:non-ascii", {"project_slug": "café"}, "project_slug", SLUG_RULE),
    # YAML reads these as a bool or null: the slug is an unquoted namespace, name and label in deploy/k8s.
    refused("slug:yaml-null", {"project_slug": "null"}, "project_slug", "a YAML null; write null-project"),
    refused("slug:yaml-yes", {"project_slug": "yes"}, "project_slug", "a YAML bool; write yes-project"),
    refused("slug:yaml-n", {"project_slug": "n"}, "project_slug", "a YAML bool; write n-project"),
    # -------------------------------------------------------- project_name
    refused("name:empty", {"project_name": ""}, "project_name", "give the project a name"),
    refused("name:double-quote", {"project_name": 'Acme "Shop"'}, "project_name", NAME_CHARS),
    refused("name:backtick", {"project_name": "Acme `Shop`"}, "project_name", NAME_CHARS),
    refused("name:dollar", {"project_name": "Acme $HOME"}, "project_name", NAME_CHARS),
    refused("name:backslash", {"project_name": "Acme\\Shop"}, "project_name", NAME_CHARS),
    refused(
        "name:81-chars", {"project_name": "A" * 81, "project_slug": "acme"}, "project_name", "at most 80 characters"
    ),
    refused(
        "name:newline",
        {"project_name": "Acme\nShop", "description": "Shop"},
        "project_name",
        "U+000A is a line break",
    ),
    refused("name:trailing-newline", {"project_name": "Acme\n"}, "project_name", "U+000A is a line break"),
    refused("name:nel-u0085", {"project_name": "Acme\x85on: push"}, "project_name", "U+0085 is a line break"),
    refused("name:u2028", {"project_name": "Acme\u2028on: push"}, "project_name", "U+2028 is a line break"),
    refused("name:u2029", {"project_name": "Acme\u2029x"}, "project_name", "U+2029 is a line break"),
    refused("name:tab", {"project_name": "Acme\tShop"}, "project_name", "U+0009 is a control character"),
    refused("name:nul", {"project_name": "Acme\x00"}, "project_name", "U+0000 is a control character"),
    refused("name:escape", {"project_name": "Acme\x1b[2J"}, "project_name", "U+001B is a control character"),
    refused("name:zero-width", {"project_name": "Ac\u200bme"}, "project_name", "U+200B is an invisible character"),
    refused("name:rtl", {"project_name": "Acme\u202eShop"}, "project_name", "U+202E is an invisible character"),
    # --------------------------------------------------------- description
    refused("description:newline", {"description": "one\ntwo"}, "description", "U+000A is a line break"),
    refused("description:nel-u0085", {"description": "one\x85two"}, "description", "U+0085 is a line break"),
    refused("description:line-separator-u2028", {"description": "a\u2028b"}, "description", "U+2028 is a line break"),
    refused("description:bom", {"description": "\ufeffShop"}, "description", "U+FEFF is an invisible character"),
    # -------------------------------------------------------- service_list
    # Computed from services (when: false): never taken from --data or --data-file.
    refused(
        "service_list:supplied",
        {"service_list": INJECTED_SERVICE_LIST},
        "service_list",
        "computed; set services instead",
    ),
    refused(
        "service_list:supplied-as-text",
        {"service_list": '[{"name": "a b$(id)"}]'},
        "service_list",
        "computed; set services instead",
    ),
    refused("service_list:supplied-empty", {"service_list": []}, "service_list", "computed; set services instead"),
    # ------------------------------------------------------------ registry
    refused("registry:upper", {"registry": "GHCR.io/acme"}, "registry", REGISTRY_RULE),
    refused("registry:trailing-slash", {"registry": "ghcr.io/acme/"}, "registry", REGISTRY_RULE),
    refused("registry:tag", {"registry": "ghcr.io/acme:latest"}, "registry", REGISTRY_RULE),
    refused("registry:scheme", {"registry": "https://ghcr.io/acme"}, "registry", REGISTRY_RULE),
    refused("registry:trailing-newline", {"registry": "ghcr.io/acme\n"}, "registry", REGISTRY_RULE),
    refused("registry:inner-newline", {"registry": "ghcr.io/acme\nx"}, "registry", REGISTRY_RULE),
    refused("registry:line-separator-u2028", {"registry": "ghcr.io/acme\u2028"}, "registry", REGISTRY_RULE),
    refused("registry:port-99999", {"registry": "registry.example.com:99999/acme"}, "registry",
            "the port is a number from 1 to 65535"),
    refused("registry:port-0", {"registry": "localhost:0/acme"}, "registry", "the port is a number from 1 to 65535"),
    refused("registry:underscore-in-host", {"registry": "my_host.io/acme"}, "registry",
            "host like ghcr.io: a-z, 0-9, -, dots"),
    # <registry>/<service> with a 30-character service name stays within Docker's 255.
    refused("registry:longer-than-an-image-name", {"registry": "ghcr.io/" + "a" * 250}, "registry",
            "at most 224 characters (image names)"),
    # ------------------------------------------- names the template uses itself
    # A Jinja global the templates call: supplied, it stopped the render halfway.
    refused("internal:template_changelog", {"template_changelog": "x"}, "data",
            "template_changelog: internal; drop it"),
    refused("internal:forge_list", {"forge_list": ["gitlab"]}, "data", "forge_list: internal; drop it"),
    refused("internal:jinja-range", {"range": 3}, "data", "range: internal; drop it"),
    # ------------------------------------------------------------- choices
    refused("layout:unknown", {"layout": "triple"}, "layout", "'triple' is not in ['multi', 'single']"),
    refused(
        "layout:label",
        {"layout": "multi: several services under services/<name>/"},
        "layout",
        "is not in ['multi', 'single']",
    ),
    refused(
        "ci:unknown", {"ci_provider": "gitlab"}, "ci_provider", "'gitlab' is not in ['github', 'gitea', 'both', 'none']"
    ),
    refused(
        "flavor:unknown", {"image_flavor": "distroless"}, "image_flavor", "'distroless' is not in ['slim', 'alpine']"
    ),
    refused("python:3.10", {"python_version": "3.10"}, "python_version", "'3.10' is not in ['3.11', '3.12', '3.13']"),
    refused("node:18", {"node_version": "18"}, "node_version", "'18' is not in ['20', '22']"),
    refused("components:unknown", {"components": ["mysql"]}, "components",
            "'mysql' is not in ['postgres', 'redis', 'llm']"),
    refused(
        "components:one-unknown",
        {"components": ["postgres", "kafka"]},
        "components",
        "'kafka' is not in ['postgres', 'redis', 'llm']",
    ),
    refused(
        "components:scheduler-without-redis",
        {"services": "api beat:scheduler", "components": ["postgres"]},
        "components",
        "a scheduler service needs redis",
    ),
    refused(
        "components:llm-without-redis",
        {"components": ["postgres", "llm"]},
        "components",
        "llm needs postgres and redis",
    ),
    # ------------------------------------------------------- deploy targets
    refused("deploy:without-compose", {"deploy_targets": ["kubernetes"]}, "deploy_targets",
            "keep compose: dev/test use it"),
    refused("deploy:none", {"deploy_targets": []}, "deploy_targets", "keep compose: dev/test use it"),
    refused("deploy:unknown", {"deploy_targets": ["compose", "nomad"]}, "deploy_targets",
            "'nomad' is not in ['compose', 'swarm', 'kubernetes']"),
    refused(
        "components:node-scheduler-without-redis",
        {"services": "api beat:node:scheduler", "components": ["postgres"]},
        "components",
        "a scheduler service needs redis",
    ),
]


def leftovers(dst: Path) -> list[str]:
    if not dst.exists():
        return []
    return sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*"))


@pytest.mark.parametrize(("data", "question", "fragment"), REJECTED)
def test_refused_answer_raises_and_writes_nothing(
    tmp_path: Path, data: dict[str, Any], question: str, fragment: str
) -> None:
    dst = tmp_path / "project"
    with pytest.raises(ValueError) as caught:
        run_copy(data, dst)
    message = str(caught.value)
    assert f"'{question}'" in message, f"the error does not name {question!r}: {message}"
    assert fragment in message, f"expected {fragment!r} in: {message}"
    assert not leftovers(dst), f"a refused answer wrote files: {leftovers(dst)}"
    if question not in CHOICE_QUESTIONS:
        # The interactive prompt shows this line cut at 80 columns.
        assert len(message) <= 80 and "\n" not in message, f"{len(message)} columns: {message}"


def test_rejected_list_is_broad() -> None:
    questions = {param.values[1] for param in REJECTED}
    assert len(REJECTED) >= 25
    assert questions >= {
        "services",
        "project_slug",
        "project_name",
        "registry",
        "layout",
        "ci_provider",
        "image_flavor",
        "python_version",
        "node_version",
        "components",
        "deploy_targets",
    }, questions


# -------------------------------------------------------------- accepted


def accepted(
    id: str,
    data: dict[str, Any],
    recorded: dict[str, Any] | None = None,
    files: tuple[str, ...] = (),
    absent: tuple[str, ...] = (),
    xfail: str = "",
) -> Any:
    """One ACCEPTED case: answers, values recorded differently, files that must (not) exist."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(data, recorded or {}, files, absent, id=id, marks=marks)


ACCEPTED = [
    accepted(
        "services:30-chars", {"services": NAME_30, "project_slug": "a" * 30}, files=(f"services/{NAME_30}/Dockerfile",)
    ),
    accepted(
        "services:digits-and-dashes",
        {"services": "svc2 v8-engine:node a1-b2:worker"},
        files=("services/svc2/src/svc2/main.py", "services/v8-engine/src/app.js", "services/a1-b2/src/a1_b2/worker.py"),
    ),
    accepted(
        "services:options-any-order",
        {"services": "a:node:worker b:worker:node"},
        files=("services/a/src/worker.js", "services/b/src/worker.js"),
        absent=("services/a/src/app.js", "services/b/src/app.js"),
    ),
    accepted(
        "services:commas",
        {"services": "api,jobs:worker, web:node"},
        files=("services/api/Dockerfile", "services/jobs/Dockerfile", "services/web/Dockerfile"),
    ),
    accepted(
        "services:many-spaces",
        {"services": "   api      jobs:worker \t web:node   "},
        files=("services/api/Dockerfile", "services/jobs/Dockerfile", "services/web/Dockerfile"),
    ),
    accepted(
        "services:stdlib-name-for-node",
        {"services": "json:node"},
        files=("services/json/package.json",),
        absent=("services/json/pyproject.toml",),
    ),
    accepted(
        "services:single-node-worker",
        {"layout": "single", "services": "tasks:node:worker"},
        files=("Dockerfile", "package.json", "src/worker.js"),
        absent=("services",),
    ),
    accepted("components:empty", {"components": [], "ci_provider": "none"}, absent=(".github", ".gitea")),
    # Projects from before the question get this default: no deploy file they did not choose.
    accepted("deploy:default", {}, recorded={"deploy_targets": ["compose"]},
             files=("deploy/prod/docker-compose.yml",), absent=("deploy/k8s", "docs/kubernetes.md")),
    accepted(
        "deploy:kubernetes",
        {"deploy_targets": ["compose", "kubernetes"]},
        files=("deploy/k8s/base/kustomization.yaml", "deploy/k8s/base/services.yaml",
               "deploy/k8s/overlays/prod/kustomization.yaml", "docs/kubernetes.md"),
    ),
    accepted("deploy:swarm-adds-no-k8s", {"deploy_targets": ["compose", "swarm"]},
             absent=("deploy/k8s", "docs/kubernetes.md")),
    # Copier drops a repeated choice of a multiselect question.
    accepted("components:repeated", {"components": ["postgres", "postgres"]}, recorded={"components": ["postgres"]}),
    accepted(
        "ci:github-alpine",
        {"ci_provider": "github", "image_flavor": "alpine"},
        files=(".github/workflows/ci.yml",),
        absent=(".gitea",),
    ),
    accepted(
        "ci:gitea-python-3.11",
        {"ci_provider": "gitea", "python_version": "3.11"},
        files=(".gitea/workflows/ci.yml",),
        absent=(".github",),
    ),
    accepted(
        "ci:both-python-3.13-node-22",
        {"ci_provider": "both", "python_version": "3.13", "node_version": "22"},
        files=(".github/workflows/ci.yml", ".gitea/workflows/ci.yml"),
    ),
    # A version typed as a number (a YAML data file) is cast to the choice's text.
    accepted("python:number", {"python_version": 3.11}, recorded={"python_version": "3.11"}),
    accepted(
        "slug:from-punctuation",
        {"project_name": "  Hello, World!! (beta) "},
        recorded={"project_slug": "hello-world-beta", "registry": "ghcr.io/hello-world-beta"},
    ),
    accepted(
        "slug:from-leading-digit",
        {"project_name": "1st Shop!"},
        recorded={"project_slug": "p-1st-shop"},
    ),
    accepted("name:apostrophe", {"project_name": "Bob's Shop"}, recorded={"project_slug": "bob-s-shop"}),
    accepted(
        "slug:accents-dropped",
        {"project_name": "Café Crème"},
        recorded={"project_slug": "cafe-creme", "registry": "ghcr.io/cafe-creme"},
    ),
    # No ASCII letter in the name: the slug comes from the folder's name (here "project").
    accepted("slug:non-ascii-name", {"project_name": "日本語"}, recorded={"project_slug": "project"}),
    accepted("slug:punctuation-only-name", {"project_name": "!!!"}, recorded={"project_slug": "project"}),
    # A name YAML reads as null or a bool: its slug gets -project (slugify), so --defaults works.
    accepted("slug:from-yaml-null-name", {"project_name": "null"},
             recorded={"project_slug": "null-project", "registry": "ghcr.io/null-project"}),
    accepted("slug:from-yaml-bool-name", {"project_name": "True"}, recorded={"project_slug": "true-project"}),
    accepted("registry:docker-hub-separators", {"registry": "acme--team/images__x.y"}),
    accepted("registry:port-65535", {"registry": "localhost:65535/acme"}),
    accepted("name:non-breaking-space", {"project_name": "Acme\u00a0Shop"}, recorded={"project_slug": "acme-shop"}),
]


@pytest.mark.parametrize(("data", "recorded", "files", "absent"), ACCEPTED)
def test_accepted_answer_renders_and_is_recorded(
    tmp_path: Path,
    data: dict[str, Any],
    recorded: dict[str, Any],
    files: tuple[str, ...],
    absent: tuple[str, ...],
) -> None:
    dst = run_copy(data, tmp_path / "project")
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    expected = {**BASE_ANSWERS, **data, **recorded}
    wrong = {k: answers.get(k, "<missing>") for k, v in expected.items() if answers.get(k) != v}
    assert not wrong, f"recorded answers differ from {expected}: {wrong}"
    missing = [f for f in files if not (dst / f).is_file()]
    assert not missing, f"missing files: {missing}"
    unexpected = [f for f in absent if (dst / f).exists()]
    assert not unexpected, f"unexpected files: {unexpected}"


# ------------------------------------------------------ copier's own checks


@pytest.mark.parametrize("value", ["postgres", ""], ids=repr)
def test_components_must_be_a_list(tmp_path: Path, value: str) -> None:
    """A bare word for the multiselect is refused (TypeError, not ValueError): on the
    command line it must be written as a YAML list, -d 'components=[postgres]'."""
    dst = tmp_path / "project"
    with pytest.raises(TypeError, match="Not a YAML list"):
        run_copy({"components": value}, dst)
    assert not leftovers(dst), f"a refused answer wrote files: {leftovers(dst)}"


def test_cli_refuses_and_creates_nothing(tmp_path: Path) -> None:
    dst = tmp_path / "project"
    cmd = [
        sys.executable,
        "-m",
        "copier",
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        "HEAD",
        "-d",
        "project_name=X",
        "-d",
        "services=API",
        str(TEMPLATE),
        str(dst),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode != 0, f"copier accepted services=API\n{output}"
    assert "Validation error for question 'services'" in result.stderr, output
    assert f"'API': {NAME_RULE}" in result.stderr, output
    assert not dst.exists(), f"copier created {dst}: {leftovers(dst)}"


def copier_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`copier copy --trust --defaults --vcs-ref HEAD ARGS...` of this template, as a person runs it."""
    cmd = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_cli_refuses_service_list_from_a_data_file(tmp_path: Path) -> None:
    """The computed service_list with a name that would run `id` in scripts/test-service.sh."""
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump({"project_name": "Acme", "service_list": INJECTED_SERVICE_LIST}))
    dst = tmp_path / "project"
    result = copier_cli("--data-file", str(data_file), str(TEMPLATE), str(dst))
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode != 0, f"copier accepted a service_list\n{output}"
    assert "Validation error for question 'service_list': computed; set services instead" in result.stderr, output
    assert not dst.exists(), f"copier created {dst}: {leftovers(dst)}"


def test_service_list_from_user_defaults_is_recomputed(tmp_path: Path) -> None:
    """Copier's user defaults (settings.yml) skip validators: ServiceListHook ignores them."""
    from copier import run_copy as copier_run_copy

    dst = tmp_path / "project"
    copier_run_copy(
        str(TEMPLATE), str(dst), data={**BASE_ANSWERS, "services": "api jobs:worker"},
        user_defaults={"service_list": INJECTED_SERVICE_LIST},
        defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD",
    )
    assert sorted(p.name for p in (dst / "services").iterdir()) == ["api", "jobs"]
    injected = [p.relative_to(dst).as_posix() for p in dst.rglob("*")
                if p.is_file() and "b$(id)" in p.read_text(errors="replace")]
    assert not injected, f"the supplied service_list reached: {injected}"
    assert "SERVICES := api jobs" in (dst / "Makefile").read_text()


def test_cli_defaults_without_project_name_uses_the_folder(tmp_path: Path) -> None:
    dst = tmp_path / "shop-backend"
    result = copier_cli(str(TEMPLATE), str(dst))
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["project_slug"]) == ("shop-backend", "shop-backend")


def test_name_without_ascii_letters_takes_the_slug_of_the_folder(tmp_path: Path) -> None:
    from copier import run_copy as copier_run_copy

    dst = tmp_path / "shop-backend"
    copier_run_copy(str(TEMPLATE), str(dst), data={"project_name": "日本語"},
                    defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["project_slug"]) == ("日本語", "shop-backend")


def rendered_helps() -> dict[str, str]:
    """Every question's help as Copier renders it (the services help lists reserved names)."""
    import jinja2

    env = jinja2.Environment(extensions=[hook_module("jinja").ServicesExtension])
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    return {
        name: env.from_string(spec["help"]).render()
        for name, spec in config.items()
        if not name.startswith("_") and isinstance(spec, dict) and "help" in spec
    }


def test_every_help_line_fits_80_columns() -> None:
    long = {name: line for name, text in rendered_helps().items() for line in text.splitlines() if len(line) > 80}
    assert not long, f"help lines the prompt would cut: {long}"


def test_services_help_shows_the_example_and_the_reserved_names() -> None:
    text = rendered_helps()["services"]
    RESERVED = hook_services().RESERVED
    assert "e.g.: api worker:worker web:node" in text.splitlines()[0], text
    missing = [name for name in sorted(RESERVED) if name not in text.split()]
    assert not missing, f"reserved names missing from the help: {missing}\n{text}"


def test_folder_name_loses_what_the_name_may_not_have(tmp_path: Path) -> None:
    """Copier validates a default before it prompts: a refused one would crash the prompt."""
    dst = tmp_path / "shop$backend \"v2\""
    result = copier_cli(str(TEMPLATE), str(dst))
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["project_slug"]) == ("shopbackend v2", "shopbackend-v2")


def test_folder_name_with_nothing_usable_is_no_default(tmp_path: Path) -> None:
    from copier import run_copy as copier_run_copy

    dst = tmp_path / "$$$"
    with pytest.raises(ValueError, match='Question "project_name" is required'):
        copier_run_copy(str(TEMPLATE), str(dst), defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    assert not leftovers(dst), f"a refused answer wrote files: {leftovers(dst)}"


def computed_questions() -> list[str]:
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    return [name for name, spec in config.items()
            if not name.startswith("_") and isinstance(spec, dict) and spec.get("when") is False]


def test_there_are_computed_questions() -> None:
    assert "service_list" in computed_questions()


@pytest.mark.parametrize("name", computed_questions())
def test_every_computed_answer_refuses_supplied_data(tmp_path: Path, name: str) -> None:
    """Copier takes --data for a `when: false` question and runs only its validator."""
    dst = tmp_path / "project"
    with pytest.raises(ValueError, match=f"Validation error for question '{name}'"):
        run_copy({name: "supplied"}, dst)
    assert not leftovers(dst), f"a refused answer wrote files: {leftovers(dst)}"


# An accepted name with every character YAML, TOML, JSON or Jinja could trip on
# but none that ends a line: it must stay text in every generated file.
AWKWARD_NAME = "Acme: Shop # {{ x }} [y] & 'z' | ünï ✓ <b> % - ?"


def data_files(root: Path) -> dict[str, object]:
    import json
    import tomllib

    parsers = {".yml": yaml.safe_load, ".yaml": yaml.safe_load, ".toml": tomllib.loads, ".json": json.loads}
    parsed = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        if path.suffix in parsers:
            rel = path.relative_to(root).as_posix()
            try:
                parsed[rel] = parsers[path.suffix](path.read_text())
            except Exception as error:  # noqa: BLE001 - report which file and why
                pytest.fail(f"{rel} does not parse with project_name={AWKWARD_NAME!r}: {error}")
    return parsed


def shape(value: object) -> object:
    """The keys of a parsed file, recursively: what an injected line would change."""
    if isinstance(value, dict):
        return {str(k): shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return None


def test_awkward_name_stays_text_in_every_data_file(tmp_path: Path) -> None:
    answers = {"ci_provider": "both", "description": f"{AWKWARD_NAME} description"}
    plain = data_files(run_copy(answers, tmp_path / "plain"))
    awkward_root = run_copy({**answers, "project_name": AWKWARD_NAME, "project_slug": "acme-shop"},
                            tmp_path / "awkward")
    awkward = data_files(awkward_root)
    assert sorted(awkward) == sorted(plain)
    changed = [rel for rel in plain if shape(awkward[rel]) != shape(plain[rel])]
    assert not changed, f"the name changed the structure of: {changed}"
    recorded = yaml.safe_load((awkward_root / ".copier-answers.yml").read_text())
    assert recorded["project_name"] == AWKWARD_NAME


# ------------------------------------------------------------ the prompt

ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>])")


class Terminal:
    """Copier's interactive prompt in an 80-column pseudo terminal, read as plain text."""

    def __init__(self, args: list[str], columns: int = 80) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: Copier
            os.environ.update(COLUMNS=str(columns), LINES="50", TERM="xterm")
            os.execv(sys.executable, [sys.executable, "-m", "copier", *args])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        self.raw = b""
        self.seen = 0

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode(errors="replace"))

    def expect(self, fragment: str, timeout: float = 60) -> None:
        """Wait until fragment appears in the output after the last match; fail with the screen."""
        import select
        import time

        deadline = time.monotonic() + timeout
        while fragment not in self.text[self.seen:]:
            left = deadline - time.monotonic()
            ready = select.select([self.fd], [], [], max(left, 0))[0] if left > 0 else []
            chunk = b""
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child is gone
                    chunk = b""
            if not chunk:
                pytest.fail(f"{fragment!r} never appeared; the terminal showed:\n{self.text[-4000:]}",
                            pytrace=False)
            self.raw += chunk
        self.seen = self.text.index(fragment, self.seen) + len(fragment)

    def type(self, text: str, clear: bool = False) -> None:
        os.write(self.fd, (b"\x7f" * 40 if clear else b"") + text.encode())

    def close(self) -> int:
        import signal

        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.close(self.fd)
        return os.waitpid(self.pid, 0)[1]


def test_prompt_non_ascii_name_full_refusal_and_services_example(tmp_path: Path) -> None:
    """The prompt: a name without ASCII letters, the services help and a refusal, all on screen."""
    dst = tmp_path / "shop-backend"
    term = Terminal(["copy", "--trust", "--vcs-ref", "HEAD", str(TEMPLATE), str(dst)])
    try:
        term.expect("Project name, as people write it")
        term.expect("shop-backend")  # the folder's name is the default
        term.type("日本語\r", clear=True)
        term.expect("Slug for folders")
        term.expect("shop-backend")  # no ASCII letter in the name: the folder's slug
        term.type("\r")
        term.expect("One-line description")
        term.type("\r")
        term.expect("Project layout")
        term.type("\r")
        term.expect("Services, separated by spaces, e.g.: api worker:worker web:node")
        term.type("api postgres\r", clear=True)
        term.expect("Validation error for question 'services': 'postgres' is a reserved name")
    finally:
        term.close()
    assert not leftovers(dst), f"an interrupted prompt wrote files: {leftovers(dst)}"
