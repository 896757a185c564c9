"""The questions, answered through Copier itself: what is refused and what renders.

Layer 1 of the template's tests. Every refused answer must raise with the
validator's own words and leave no file behind; every accepted edge case must
render and be recorded in .copier-answers.yml. tests/test_services_parser.py
covers the `services` parser without Copier.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import BASE_ANSWERS, TEMPLATE, run_copy

# The template is copied from the working tree, which is dirty while people edit it.
pytestmark = pytest.mark.filterwarnings("ignore::copier.errors.DirtyLocalWarning")

NAME_31 = "a" * 31
NAME_30 = "a" + "b" * 29
NAME_RULE = "use lowercase letters, digits and single dashes; start with a letter"
SLUG_RULE = "use lowercase letters, digits and single dashes; start with a letter"
REGISTRY_RULE = "a lowercase image prefix such as ghcr.io/acme"
NAME_CHARS = "the name may not contain double quotes, backticks, '$' or backslashes"


def refused(id: str, data: dict[str, Any], question: str, fragment: str, xfail: str = "") -> Any:
    """One REJECTED case: the answers, the question Copier names, and its message."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(data, question, fragment, id=id, marks=marks)


REJECTED = [
    # ------------------------------------------------------------ services
    refused("services:upper", {"services": "API"}, "services", f"'API': {NAME_RULE}"),
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
    refused("services:reserved-deploy", {"services": "deploy"}, "services", "'deploy' is reserved"),
    refused("services:reserved-scripts", {"services": "api scripts"}, "services", "'scripts' is reserved"),
    refused("services:reserved-services", {"services": "services"}, "services", "'services' is reserved"),
    refused("services:reserved-tests", {"services": "tests:node"}, "services", "'tests' is reserved"),
    refused("services:reserved-src", {"layout": "single", "services": "src"}, "services", "'src' is reserved"),
    refused("services:infra-postgres", {"services": "api postgres"}, "services", "'postgres' is reserved"),
    refused("services:infra-redis", {"services": "redis:node:worker"}, "services", "'redis' is reserved"),
    refused("services:31-chars", {"services": NAME_31}, "services", f"'{NAME_31}': at most 30 characters"),
    refused("services:64-chars", {"services": "s" * 64}, "services", "at most 30 characters"),
    refused("services:empty", {"services": ""}, "services", "give at least one service"),
    refused("services:only-spaces", {"services": "    "}, "services", "give at least one service"),
    refused("services:no-name", {"services": ":node"}, "services", "a service needs a name before ':'"),
    refused(
        "services:single-two",
        {"layout": "single", "services": "api web:node"},
        "services",
        "the single layout has exactly one service; got 2",
    ),
    refused("services:unknown-language", {"services": "api:go"}, "services", "'api:go': unknown option 'go'"),
    refused("services:unknown-kind", {"services": "api:cron"}, "services", "'api:cron': unknown option 'cron'"),
    refused("services:two-languages", {"services": "api:python:node"}, "services", "give one language, not two"),
    refused("services:two-kinds", {"services": "api:worker:api"}, "services", "give one kind, not two"),
    refused(
        "services:python-keyword",
        {"services": "class"},
        "services",
        "package would be 'class', which is a Python keyword",
    ),
    refused("services:python-stdlib", {"services": "json"}, "services", "package would be 'json'"),
    refused("services:python-dependency", {"services": "fastapi"}, "services", "package would be 'fastapi'"),
    refused(
        "services:python-transitive-dependency",
        {"services": "anyio"},
        "services",
        "package would be 'anyio'",
    ),
    refused(
        "services:database",
        {"services": "api database"},
        "services",
        "'database' is reserved",
    ),
    # -------------------------------------------------------- project_slug
    refused("slug:upper", {"project_slug": "Acme"}, "project_slug", SLUG_RULE),
    refused("slug:leading-digit", {"project_slug": "1acme"}, "project_slug", SLUG_RULE),
    refused("slug:spaces", {"project_slug": "acme shop"}, "project_slug", SLUG_RULE),
    refused("slug:trailing-dash", {"project_slug": "acme-"}, "project_slug", SLUG_RULE),
    refused("slug:31-chars", {"project_slug": NAME_31}, "project_slug", "at most 30 characters"),
    refused("slug:derived-empty", {"project_name": "!!!"}, "project_slug", SLUG_RULE),
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
        "one line",
    ),
    # --------------------------------------------------------- description
    refused("description:newline", {"description": "one\ntwo"}, "description", "one line only"),
    # ------------------------------------------------------------ registry
    refused("registry:upper", {"registry": "GHCR.io/acme"}, "registry", REGISTRY_RULE),
    refused("registry:trailing-slash", {"registry": "ghcr.io/acme/"}, "registry", REGISTRY_RULE),
    refused("registry:tag", {"registry": "ghcr.io/acme:latest"}, "registry", REGISTRY_RULE),
    refused("registry:scheme", {"registry": "https://ghcr.io/acme"}, "registry", REGISTRY_RULE),
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
    refused("components:unknown", {"components": ["mysql"]}, "components", "'mysql' is not in ['postgres', 'redis']"),
    refused(
        "components:one-unknown",
        {"components": ["postgres", "kafka"]},
        "components",
        "'kafka' is not in ['postgres', 'redis']",
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
