"""scripts/services.json, the generated project's one description of its services.

The template renders it from the same computed list as every other file
(hooks/services.py parse_services); scripts/stack/registry.py (also importable
as scripts/lib/services.py) reads it for the stack package and
scripts/update.py, and falls back to a folder scan only for
a service folder added by hand. These tests pin the file against the parser,
the reader's functions and fallback, and update.py's refusals that read it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import COMBOS, TEMPLATE, compose_binary, registry, registry_services, run, run_copy, tool

FIELDS = ["name", "path", "language", "kind", "package", "env", "port", "dev_port", "framework", "word",
          "upstream"]
READER = "scripts/lib/services.py"


def reader(project: Path):
    """The project's registry module (scripts/stack/registry.py), imported from its file."""
    spec = importlib.util.spec_from_file_location("project_registry", project / "scripts/stack/registry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table(project: Path, *fields: str) -> str:
    """A line per service: FIELDS tab-separated, an empty or missing field as -."""
    return "".join("\t".join(str(s.get(f) or "-") for f in fields) + "\n"
                   for s in reader(project).services(project))


@pytest.fixture
def project(render, tmp_path: Path) -> Path:
    """A copy of the mixed multi project that a test may change."""
    return Path(shutil.copytree(render("multi-github-pg-redis-mixed"), tmp_path / "project"))


# ------------------------------------------------------------- the file
@pytest.mark.parametrize("name", COMBOS)
def test_registry_is_the_parsed_services_answer(render, name: str) -> None:
    project = render(name)
    text = (project / "scripts/services.json").read_text()
    data = json.loads(text)
    combo = COMBOS[name]
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert data == {"layout": combo["layout"], "project_slug": answers["project_slug"],
                    "services": registry_services(combo)}
    # Written like json.dumps(indent=2): the keys in this order, a final newline.
    assert list(data) == ["layout", "project_slug", "services"]
    assert all(list(svc) == FIELDS for svc in data["services"]), [list(svc) for svc in data["services"]]
    assert text == json.dumps(data, indent=2) + "\n"


def test_registry_keeps_each_word_as_the_answer_has_it(tmp_path: Path) -> None:
    answer = "api:port=8100,jobs:worker:python  web:node"
    project = run_copy({"layout": "multi", "services": answer, "components": [], "ci_provider": "none"},
                       tmp_path / "project")
    services = registry(project)["services"]
    assert [s["word"] for s in services] == ["api:port=8100", "jobs:worker:python", "web:node"]
    assert [(s["name"], s["framework"]) for s in services] == [("api", "pytest"), ("jobs", "pytest"),
                                                               ("web", "vitest")]
    assert services[0]["dev_port"] == 8100


def test_registry_is_template_owned() -> None:
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.core import user_owned

    owned = user_owned(TEMPLATE)
    assert not owned("scripts/services.json") and not owned("scripts/lib/services.py")


# ----------------------------------------------------------- the reader
def test_reader_answers_from_the_registry(render) -> None:
    project = render("multi-github-pg-redis-mixed")
    services = reader(project)
    assert services.names(project) == ["api", "worker", "web"]
    assert services.names(project, "api") == ["api", "web"]
    assert services.names(project, "worker") == ["worker"]
    assert services.service("web", project)["framework"] == "vitest"
    assert services.service("worker", project)["word"] == "worker:worker"
    assert services.service("web", project)["upstream"] == "api"
    assert services.load(project)["layout"] == "multi"
    assert table(project, "name", "env", "port", "upstream") == (
        "api\tAPI\t8000\t-\nworker\tWORKER\t8000\t-\nweb\tWEB\t8000\tapi\n")
    assert services.framework(project / "services/worker", project) == "pytest"
    assert services.framework(project / "services/web/.", project) == "vitest"
    # The cross-service tests at the root of the multi layout: no service, so by manifest.
    assert services.framework(project, project) == "pytest"


def test_reader_single_layout(render) -> None:
    project = render("single-gitea-node-api")
    services = reader(project)
    assert services.names(project) == ["web"]
    assert table(project, "name", "path") == "web\t.\n"
    assert services.framework(project, project) == "vitest"
    assert services.load(project)["layout"] == "single"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, p: s.service("billing", p), "no service 'billing'; the services are: api worker web"),
        (lambda s, p: s.framework(p / "deploy", p), "has neither pyproject.toml nor package.json"),
    ],
    ids=["unknown-service", "no-manifest"],
)
def test_reader_refuses_bad_input_in_one_line(render, call, message: str) -> None:
    project = render("multi-github-pg-redis-mixed")
    services = reader(project)
    with pytest.raises(services.RegistryError) as error:
        call(services, project)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_reader_built_from_names_the_service_each_compose_service_builds(project: Path) -> None:
    """scripts/stack's prebuilt images: by build folder, so a one-shot step
    that builds from a service's folder runs that service's image too."""
    (project / "deploy/test/docker-compose.override.yml").write_text(
        "services:\n  api-extra:\n    build:\n      context: ../../services/api\n")
    config = subprocess.run(
        [compose_binary(), "-f", "deploy/test/docker-compose.yml", "-f", "deploy/test/docker-compose.override.yml",
         "config", "--format", "json"],
        cwd=project, capture_output=True, text=True, timeout=60)
    assert config.returncode == 0, config.stderr
    built = reader(project).built_from(json.loads(config.stdout), project)
    # the template's own one-shot migrate steps, and one the team added, run their service's image
    assert sorted(" ".join(pair) for pair in built) == [
        "api api", "api-extra api", "api-migrate api", "web web", "web-migrate web", "worker worker",
        "worker-migrate worker"]


def test_prebuilt_images_need_a_prefix(project: Path) -> None:
    result = subprocess.run(
        ["scripts/run-integration-tests.sh"],
        cwd=project, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], "TEST_INSTANCE_ID": "t1", "TEST_IMAGE_TAG": "1.2.3"})
    assert result.returncode == 2, result
    assert result.stderr == ("run-integration-tests.sh: TEST_IMAGE_TAG needs TEST_IMAGE_PREFIX "
                             "(registry/namespace of the images)\n")


def test_reader_without_the_registry_says_how_to_restore_it(project: Path) -> None:
    services = reader(project)
    (project / "scripts/services.json").unlink()
    with pytest.raises(services.RegistryError) as error:
        services.names(project)
    assert str(error.value) == ("scripts/services.json not found: restore it with "
                                "`git checkout -- scripts/services.json` (the template renders it)")
    (project / "scripts/services.json").write_text("{not json")
    with pytest.raises(services.RegistryError) as error:
        services.names(project)
    assert "scripts/services.json is unreadable" in str(error.value) and "\n" not in str(error.value)


def test_reader_adds_hand_made_service_folders(project: Path) -> None:
    """The fallback: a services/<name>/ with a manifest the registry lacks; the registry wins otherwise."""
    (project / "services/mailer").mkdir()
    (project / "services/mailer/package.json").write_text('{"name": "mailer"}\n')
    (project / "services/audit-log").mkdir()
    (project / "services/audit-log/pyproject.toml").write_text('[project]\nname = "audit-log"\n')
    (project / "services/notes").mkdir()  # no manifest: not a service
    # A registered python service that also has a package.json stays pytest.
    (project / "services/api/package.json").write_text("{}\n")
    services = reader(project)
    assert services.names(project) == ["api", "worker", "web", "audit-log", "mailer"]
    assert services.names(project, "api") == ["api", "web"]
    assert table(project, "name", "path", "framework", "env", "port", "word", "kind") == (
        "api\tservices/api\tpytest\tAPI\t8000\tapi\tapi\n"
        "worker\tservices/worker\tpytest\tWORKER\t8000\tworker:worker\tworker\n"
        "web\tservices/web\tvitest\tWEB\t8000\tweb:node\tapi\n"
        "audit-log\tservices/audit-log\tpytest\tAUDIT_LOG\t8000\t-\t-\n"
        "mailer\tservices/mailer\tvitest\tMAILER\t8000\t-\t-\n")
    assert services.service("mailer", project)["word"] == ""
    assert services.framework(project / "services/mailer", project) == "vitest"
    assert services.framework(project / "services/api", project) == "pytest"


def test_reader_runs_on_python_3_9(render) -> None:
    """macOS's own python3 is 3.9: no syntax or library call of a later version."""
    run([tool("ruff"), "check", "--no-cache", "--isolated", "--target-version", "py39",
         "--select", "E,F,W,I,B,UP", "--line-length", "120", READER, "scripts/stack"],
        cwd=render("single-gitea-node-api"))


# ------------------------------------------------------- the stack package
# A docker command for the stack functions that start no container: `compose
# config --services` lists COMPOSE_SERVICES, `compose ps --all --format json` has a
# container for each service in PUBLISHED, which publishes every container port a
# registry entry could name (<port> on 127.0.0.1:1<port>), every call is logged.
DOCKER = """#!/usr/bin/env bash
files=${COMPOSE_FILE:-}
printf '%s|%s|%s\\n' "${COMPOSE_PROJECT_NAME:-}" "${files//$'\\n'/,}" "$*" >>"$DOCKER_LOG"
case "$1 $2" in
  "compose config") for svc in $COMPOSE_SERVICES; do echo "$svc"; done ;;
  "compose ps") for svc in $PUBLISHED; do
      pubs=; for port in 3000 5432 6379 8000; do
        pubs+="${pubs:+,}{\\"URL\\":\\"127.0.0.1\\",\\"TargetPort\\":$port,\\"PublishedPort\\":1$port}"
      done
      echo "{\\"Name\\":\\"p-$svc-1\\",\\"Service\\":\\"$svc\\",\\"Publishers\\":[$pubs]}"
    done ;;
esac
"""


def stack_python(project: Path, tmp_path: Path, script: str, **env: str) -> tuple[str, list[str]]:
    """python -c script with scripts/stack imported as `run` and docker recorded: (stdout, docker calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text(DOCKER)
    (bin_dir / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    log.write_text("")
    environ = {"PATH": f"{bin_dir}:/usr/bin:/bin", "DOCKER_LOG": str(log), "TEST_INSTANCE_ID": "t1", **env}
    code = f"import os, sys; sys.path.insert(0, 'scripts'); from stack import run; {script}"
    result = subprocess.run([sys.executable, "-c", code],
                            cwd=project, capture_output=True, text=True, timeout=60, env=environ)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout, log.read_text().splitlines()


def test_stack_export_urls_reads_env_and_port_from_the_registry(project: Path, tmp_path: Path) -> None:
    services = json.loads((project / "scripts/services.json").read_text())
    # The registry, not the compose name, says a service's env stem and container port.
    services["services"][2].update(env="STOREFRONT", port=3000)
    (project / "scripts/services.json").write_text(json.dumps(services, indent=2) + "\n")
    (project / "services/mailer").mkdir()
    (project / "services/mailer/package.json").write_text("{}\n")
    out, calls = stack_python(
        project, tmp_path, "run.export_urls(); print(*sorted(f'{k}={v}' for k, v in os.environ.items() "
        "if k.startswith('TEST_') and 'INSTANCE' not in k and 'STACK_SERVICES' not in k), sep='\\n')",
        COMPOSE_SERVICES="postgres redis web worker api mailer extra", PUBLISHED="postgres redis web api mailer extra",
    )
    assert out.splitlines() == [
        "TEST_API_URL=http://127.0.0.1:18000",
        "TEST_DATABASE_URL=postgresql://app:app@127.0.0.1:15432/app",
        "TEST_MAILER_URL=http://127.0.0.1:18000",
        "TEST_REDIS_URL=redis://127.0.0.1:16379/0",
        "TEST_STOREFRONT_URL=http://127.0.0.1:13000",
    ]
    # One call finds every published port (not a `compose port` call per service).
    assert [call.split("|")[2] for call in calls] == ["compose ps --all --format json"]


def test_stack_export_urls_first_api_without_one_named_api(project: Path, tmp_path: Path) -> None:
    out, _ = stack_python(project, tmp_path, 'run.export_urls(); print(os.environ["TEST_API_URL"])',
                         COMPOSE_SERVICES="web", PUBLISHED="web")
    assert out == "http://127.0.0.1:18000\n"


def test_clean_all_removes_the_stage_2_stacks_of_the_registry(project: Path, tmp_path: Path) -> None:
    (project / "services/mailer/deploy/test").mkdir(parents=True)
    (project / "services/mailer/package.json").write_text("{}\n")
    (project / "services/mailer/deploy/test/docker-compose.yml").write_text("services: {}\n")
    (project / "services/worker/deploy/test/docker-compose.yml").unlink()
    _, calls = stack_python(project, tmp_path, "run.clean_all('t1')")
    removed = [(name, Path(files.split(",")[0]).relative_to(project).as_posix())
               for name, files, args in (call.split("|") for call in calls) if args.startswith("compose down")]
    assert removed == [
        ("acme-shop-test-t1", "deploy/test/docker-compose.yml"),
        ("acme-shop-test-t1-svc-api", "services/api/deploy/test/docker-compose.yml"),
        ("acme-shop-test-t1-svc-web", "services/web/deploy/test/docker-compose.yml"),
        ("acme-shop-test-t1-svc-mailer", "services/mailer/deploy/test/docker-compose.yml"),
    ]


def test_run_suite_takes_the_framework_from_the_registry(project: Path) -> None:
    services = json.loads((project / "scripts/services.json").read_text())
    services["services"][0]["framework"] = "nose"
    (project / "scripts/services.json").write_text(json.dumps(services, indent=2) + "\n")
    result = subprocess.run(["scripts/unit-tests.sh", "services/api"], cwd=project, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result
    assert "services/api: no test runner for framework 'nose'" in result.stderr, result.stderr


def test_run_suite_refuses_a_folder_without_manifest(project: Path) -> None:
    (project / "services/notes/tests/unit").mkdir(parents=True)
    result = subprocess.run(["scripts/unit-tests.sh", "services/notes"], cwd=project, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result
    assert "services/notes has neither pyproject.toml nor package.json" in result.stderr, result.stderr


# ----------------------------------------------------------- update.py
def update_py(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/update.py, refusing before it would run Copier (COPIER is a command that fails)."""
    return subprocess.run([sys.executable, "scripts/update.py", *args], cwd=project, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "COPIER": "false"})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add-service", "web"], "update: 'web' is already a service: api worker:worker web:node\n"),
        (["add-service", "mailer"], "update: services/mailer exists, added by hand: the template would "
                                    "write into it; move it away first, or pick another name\n"),
        (["remove-service", "mailer"], "update: 'mailer' is not a service (services/mailer was added by "
                                       "hand: delete it yourself); the services are: api worker web\n"),
        (["remove-service", "billing"], "update: 'billing' is not a service; the services are: api worker web\n"),
        (["switch-layout"], "update: the project already has the multi layout\n"),
    ],
    ids=["add-existing", "add-hand-made", "remove-hand-made", "remove-unknown", "switch-multi"],
)
def test_update_checks_names_against_the_registry(project: Path, args: list[str], message: str) -> None:
    (project / "services/mailer").mkdir()
    (project / "services/mailer/package.json").write_text("{}\n")
    before = sorted(p.relative_to(project).as_posix() for p in project.rglob("*"))
    result = update_py(project, *args)
    assert (result.returncode, result.stderr) == (1, message), result
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == before


def test_update_refuses_without_the_registry(project: Path) -> None:
    (project / "scripts/services.json").unlink()
    result = update_py(project, "add-service", "billing")
    assert result.returncode == 1, result
    assert result.stderr == ("update: scripts/services.json not found: restore it with "
                             "`git checkout -- scripts/services.json` (the template renders it)\n")
