"""Layer 3: the generated files pass the real linters, for every named combination.

Each test fails with the tool's own output (conftest.run). actionlint runs in
test_workflows.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import COMBOS, compose_binary, project_env, run, service_list, tool


def shell_scripts(project: Path) -> list[str]:
    return sorted(str(p.relative_to(project)) for p in project.glob("scripts/**/*.sh"))


@pytest.mark.parametrize("name", COMBOS)
def test_shellcheck(render, name: str) -> None:
    project = render(name)
    scripts = shell_scripts(project)
    assert len(scripts) >= 4, scripts
    run([tool("shellcheck"), "--external-sources", "--severity=style", *scripts], cwd=project)


@pytest.mark.parametrize("name", COMBOS)
def test_hadolint(render, name: str) -> None:
    project = render(name)
    dockerfiles = sorted(str(p.relative_to(project)) for p in project.rglob("Dockerfile"))
    assert dockerfiles
    # --failure-threshold=info: every finding fails, including style and info.
    run([tool("hadolint"), "--failure-threshold", "info", *dockerfiles], cwd=project)


def compose_files(project: Path) -> list[Path]:
    return sorted(project.glob("deploy/*/docker-compose.yml")) + sorted(
        project.glob("services/*/deploy/test/docker-compose.yml")
    )


def compose_config(project: Path, compose_file: Path, env: dict[str, str] | None = None):
    """`docker compose config` of a compose file merged with its override, as the scripts run it."""
    args = [compose_binary(), "-f", str(compose_file)]
    override = compose_file.with_name("docker-compose.override.yml")
    if override.is_file():
        args += ["-f", str(override)]
    example = compose_file.parent / ".env.example"
    if example.is_file():
        args += ["--env-file", str(example)]
    args += ["config", "--quiet"]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "POSTGRES_"))}
    return subprocess.run(args, cwd=project, capture_output=True, text=True,
                          env={**clean_env, **(env or {})}, timeout=60)


@pytest.mark.parametrize("name", COMBOS)
def test_compose_config(render, name: str) -> None:
    """Every compose file, merged with the user-owned override beside it (each has one)."""
    project = render(name)
    files = compose_files(project)
    assert len(files) >= 3
    no_override = [str(f.relative_to(project)) for f in files
                   if not f.with_name("docker-compose.override.yml").is_file()]
    assert not no_override, f"no docker-compose.override.yml beside {no_override}"
    failures = []
    for compose_file in files:
        result = compose_config(project, compose_file)
        if result.returncode != 0:
            failures.append(f"{compose_file.relative_to(project)}:\n{result.stderr}")
    assert not failures, "docker compose config failed:\n" + "\n".join(failures)


def test_compose_config_can_fail() -> None:
    """The check above is real: the binary refuses a broken file (the wrapper would not)."""
    result = subprocess.run([compose_binary(), "-f", "/nonexistent/compose.yml", "config"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0


def test_prod_compose_needs_no_secret_in_the_environment(render, tmp_path: Path) -> None:
    """issue 15: compose reads the prod file with no password anywhere in its environment:
    every secret is a file of deploy/prod/secrets, mounted where a service reads it."""
    project = render("multi-github-pg-redis-mixed")
    prod = project / "deploy/prod/docker-compose.yml"
    env = {k: v for k, v in os.environ.items() if "PASSWORD" not in k}
    result = subprocess.run([compose_binary(), "-f", str(prod), "--env-file", os.devnull, "config", "--format",
                             "json"], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    stack = json.loads(result.stdout)
    assert {name: s["file"] for name, s in stack["secrets"].items()} == {
        name: str(project / "deploy/prod/secrets" / name)
        # api_key: the key clients send to the python api (issue 26)
        for name in ("postgres_password", "redis_password", "api_key")}
    assert stack["services"]["api"]["environment"]["API_KEY_FILE"] == "/run/secrets/api_key"
    assert stack["services"]["api"]["environment"]["APP_ENV"] == "production"
    assert stack["services"]["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "PASSWORD" not in json.dumps(stack["services"]["redis"].get("environment", {}))


def env_file_values(path: Path) -> dict[str, str]:
    """KEY=value lines of an env file, quotes removed (what compose reads from it)."""
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip().strip('"')
    return values


def stack_config_available() -> bool:
    """`docker stack config` (docker CLI 24+) renders a stack offline."""
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "stack", "config", "--help"], capture_output=True,
                          timeout=60).returncode == 0


@pytest.mark.parametrize("name", COMBOS)
def test_prod_compose_start_order_and_swarm_files(render, name: str) -> None:
    """issue 15: compose reads the prod file alone and with its start order (make prod-up);
    `docker stack config` reads it with the override and swarm.yml (make swarm-deploy)."""
    project = render(name)
    prod = project / "deploy/prod"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "POSTGRES_"))}
    for extra in ([], ["-f", "start-order.yml"]):
        run([compose_binary(), "-f", "docker-compose.yml", *extra, "-f", "docker-compose.override.yml",
             "--env-file", ".env.example", "config", "--quiet"], cwd=prod, env=clean_env)
    if "swarm" not in COMBOS[name].get("deploy_targets", ()):
        assert not (prod / "swarm.yml").exists(), "swarm.yml without the swarm deploy target"
        return
    if not stack_config_available():
        pytest.skip("no `docker stack config` in this docker CLI")
    env = {**clean_env, **env_file_values(prod / ".env.example")}
    result = subprocess.run(["docker", "stack", "config", "-c", "docker-compose.yml", "-c",
                             "docker-compose.override.yml", "-c", "swarm.yml"], cwd=prod, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"docker stack config failed:\n{result.stderr}"
    assert "endpoint_mode: dnsrr" in result.stdout, result.stdout


def test_stack_config_can_fail(render) -> None:
    """The stack check above is real: swarm refuses the conditions compose's start order uses."""
    if not stack_config_available():
        pytest.skip("no `docker stack config` in this docker CLI")
    prod = render("multi-github-pg-redis-mixed") / "deploy/prod"
    env = {**os.environ, **env_file_values(prod / ".env.example")}
    result = subprocess.run(["docker", "stack", "config", "-c", "docker-compose.yml", "-c", "start-order.yml"],
                            cwd=prod, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "depends_on must be a list" in result.stderr, result.stderr


def test_prod_check_refuses_missing_placeholder_and_empty_secrets(render, tmp_path: Path) -> None:
    """issue 15: make prod-check (scripts/prod-check.sh) refuses a missing, empty or change-me
    secret file (one per `secrets:` entry of the prod compose file) and a placeholder setting,
    one line each; make prod-secrets (--write-secrets) writes random passwords, keeps an older
    .env's values (the environment first, as compose reads it) and never makes up an API key."""
    project = render("multi-none-pg-redis-llm-scheduler")
    check = project / "scripts/prod-check.sh"
    env_dir = tmp_path / "prod"
    env_dir.mkdir()
    example = (project / "deploy/prod/.env.example").read_text()
    assert "=change-me" not in example and "PASSWORD=" not in example and "LLM_API_KEY=" not in example
    (env_dir / ".env.example").write_text(example + "MY_TOKEN=change-me\n")
    (env_dir / "docker-compose.yml").write_bytes((project / "deploy/prod/docker-compose.yml").read_bytes())
    secrets = env_dir / "secrets"
    # api_key: the key clients send to the python api (issue 26), made up like a password.
    names = ["postgres_password", "redis_password", "llm_api_key", "api_key"]
    clean_env = {k: v for k, v in os.environ.items()
                 if k not in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "LLM_API_KEY", "MY_TOKEN")}

    def prod_check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(check), *args, str(env_dir)], capture_output=True, text=True, timeout=60,
                              env={**clean_env, **env})

    result = prod_check()
    assert result.returncode != 0 and ".env is missing" in result.stderr, result.stderr
    (env_dir / ".env").write_text("MY_TOKEN=t0ken\nPOSTGRES_PASSWORD=old-pg\nLLM_API_KEY=change-me\n")
    result = prod_check()
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"prod-check: {secrets}/{name} is missing: " + ("write the secret into it" if name == "llm_api_key"
                                                         else "run make prod-secrets") for name in names]

    result = prod_check("--write-secrets", REDIS_PASSWORD="from-env")
    assert result.returncode == 1 and result.stderr == (
        f"prod-check: {secrets}/llm_api_key: not written (only our own secrets are made up): "
        "write the secret into it\n")
    assert (secrets / "postgres_password").read_text() == "old-pg\n"  # kept from the older .env
    assert (secrets / "redis_password").read_text() == "from-env\n"
    assert not (secrets / "llm_api_key").exists()
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    assert oct((secrets / "redis_password").stat().st_mode & 0o777) == "0o644"
    (secrets / "redis_password").unlink()
    assert prod_check("--write-secrets").returncode == 1
    assert re.fullmatch(r"[0-9a-f]{64}\n", (secrets / "redis_password").read_text())
    assert re.fullmatch(r"[0-9a-f]{64}\n", (secrets / "api_key").read_text())
    (secrets / "llm_api_key").write_text("sk-real\n")
    assert prod_check().returncode == 0, prod_check().stderr
    assert prod_check("--write-secrets").stdout == f"prod-secrets: every secret of {env_dir}/secrets is there\n"

    (secrets / "llm_api_key").write_text("change-me\n")
    (secrets / "postgres_password").write_text("")
    (secrets / "redis_password").write_text("two words\n")
    result = prod_check(MY_TOKEN="change-me")
    assert result.returncode == 1 and result.stderr.splitlines() == [
        f"prod-check: {secrets}/postgres_password is empty: write the secret into it (make prod-secrets makes "
        "passwords)",
        f"prod-check: {secrets}/redis_password has a space, quote or backslash, which redis's requirepass line "
        "cannot take",
        f"prod-check: {secrets}/llm_api_key is still the placeholder change-me: write a real secret into it",
        f"prod-check: MY_TOKEN is still the placeholder change-me: set it in {env_dir}/.env",
    ], result.stderr


@pytest.mark.parametrize("name", COMBOS)
def test_ruff(render, name: str) -> None:
    project = render(name)
    python_files = sorted(str(p.relative_to(project)) for p in project.rglob("*.py"))
    if not python_files:
        pytest.skip("no python in this combination")
    # The project's own ruff settings (per service pyproject.toml), with our rule set.
    run([tool("ruff"), "check", "--no-cache", "--select", "E,F,W,I,B,UP", *python_files],
        cwd=project)


@pytest.mark.parametrize("name", [n for n, c in COMBOS.items() if any(
    s["language"] == "node" and s["kind"] != "frontend" for s in service_list(c))])
def test_node_sources_parse(render, name: str) -> None:
    project = render(name)
    sources = sorted(str(p.relative_to(project)) for p in project.rglob("*.js"))
    assert sources
    for source in sources:
        run(["node", "--check", source], cwd=project)


# ----------------------------------------------------------- extension points
# The user-owned override files reach compose through every command the project runs.
MARK = "FROM_THE_OVERRIDE"
EXTENSION_COMBOS = ["multi-github-pg-redis-mixed", "single-github-python-api"]


def override_for(service: str) -> str:
    return f"services:\n  {service}:\n    environment:\n      {MARK}: \"yes\"\n"


def first_service(name: str) -> str:
    return str(service_list(COMBOS[name])[0]["name"])


def checked(result: subprocess.CompletedProcess[str], what: str) -> str:
    assert result.returncode == 0, f"{what} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("name", EXTENSION_COMBOS)
def test_make_dev_commands_merge_the_dev_override(render, tmp_path: Path, name: str) -> None:
    """$(DEV) of dev-up/dev-down/build, seen from local.mk, merges the dev override when there is one."""
    project = Path(shutil.copytree(render(name), tmp_path / "p"))
    override = project / "deploy/dev/docker-compose.override.yml"
    override.write_text(override_for(first_service(name)))
    local_mk = project / "local.mk"
    # $(info) prints the command as make expands it, whatever quotes it holds.
    local_mk.write_text(local_mk.read_text() + "\n.PHONY: print-dev\nprint-dev:\n\t@:$(info $(DEV))\n")

    def dev_config() -> str:
        out = checked(subprocess.run(["make", "--no-print-directory", "print-dev"], cwd=project,
                                     capture_output=True, text=True, env=project_env(), timeout=60),
                      "make print-dev")
        command = shlex.split(out)
        assert command[:2] == ["docker", "compose"], out
        return checked(subprocess.run(
            [compose_binary(), *command[2:], "--env-file", "deploy/dev/.env.example", "config"],
            cwd=project, capture_output=True, text=True, timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "POSTGRES_"))}),
            f"{command} config")

    assert f"{MARK}: \"yes\"" in dev_config()
    override.unlink()  # the user may delete it: nothing breaks
    assert MARK not in dev_config()


# scripts/stack's run.init, as test-service.sh and run-integration-tests.sh call it.
STACK_INIT = """
import os, sys
from pathlib import Path
sys.path.insert(0, "scripts")
from stack import run
run.init("test-project", Path(sys.argv[1]), Path(".artifacts/lint/t"))
print(os.environ["COMPOSE_FILE"], end="")
"""


@pytest.mark.parametrize("name", EXTENSION_COMBOS)
def test_stack_scripts_merge_the_test_overrides(render, tmp_path: Path, name: str) -> None:
    """run.init (test-service.sh, run-integration-tests.sh) sets COMPOSE_FILE to base + override."""
    project = Path(shutil.copytree(render(name), tmp_path / "p"))
    env = project_env(TEST_INSTANCE_ID="lint")
    bases = sorted(project.glob("deploy/test/docker-compose.yml")) + sorted(
        project.glob("services/*/deploy/test/docker-compose.yml"))
    assert len(bases) == (4 if COMBOS[name]["layout"] == "multi" else 1), bases
    for base in bases:
        override = base.with_name("docker-compose.override.yml")
        service = base.parent.parent.parent.name if "services" in base.parts else first_service(name)
        override.write_text(override_for(service))
        compose_file = checked(subprocess.run([sys.executable, "-c", STACK_INIT, str(base)], cwd=project,
                                              capture_output=True, text=True, env=env, timeout=60),
                               "run.init")
        assert compose_file.split("\n") == [str(base), str(override)]
        config = checked(subprocess.run(
            [compose_binary(), "config"], cwd=project, capture_output=True, text=True, timeout=60,
            env={**env, "COMPOSE_FILE": compose_file, "COMPOSE_PATH_SEPARATOR": "\n"}),
            f"compose config of {base.relative_to(project)}")
        assert f"{MARK}: \"yes\"" in config, config
        override.unlink()
        compose_file = checked(subprocess.run([sys.executable, "-c", STACK_INIT, str(base)], cwd=project,
                                              capture_output=True, text=True, env=env, timeout=60),
                               "run.init")
        assert compose_file == str(base), "a deleted override must not be passed"


# A docker that records what each removal hands to compose instead of removing
# anything; `compose ls` knows a suite stack whose folder is gone, and others' projects.
RECORDING_DOCKER = """#!/usr/bin/env bash
if [[ $2 == ls ]]; then
  printf '%s\\n' acme-shop-test-lint-suite-gone acme-shop-test-lint-x other-test-lint-suite-a
  exit
fi
printf '%s %s\\n' "$COMPOSE_PROJECT_NAME" "${COMPOSE_FILE//$'\\n'/,}" >>"$DOCKER_LOG"
"""


def test_clean_all_passes_every_override(render, tmp_path: Path) -> None:
    project = Path(shutil.copytree(render("multi-github-pg-redis-mixed"), tmp_path / "p"))
    (project / "services/web/deploy/test/docker-compose.override.yml").unlink()
    (project / "tests/integration/orders").mkdir()
    bin_dir, log = tmp_path / "bin", tmp_path / "docker.log"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(RECORDING_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    env = project_env(TEST_INSTANCE_ID="lint", DOCKER_LOG=str(log))
    checked(subprocess.run(["scripts/run-integration-tests.sh", "--clean-all"], cwd=project, capture_output=True,
                           text=True, env={**env, "PATH": f"{bin_dir}:{env['PATH']}"}, timeout=60), "--clean-all")
    out = log.read_text()
    root = str(project)
    assert out.splitlines() == [
        f"acme-shop-test-lint {root}/deploy/test/docker-compose.yml,{root}/deploy/test/docker-compose.override.yml",
        f"acme-shop-test-lint-svc-api {root}/services/api/deploy/test/docker-compose.yml,"
        f"{root}/services/api/deploy/test/docker-compose.override.yml",
        # The services in the order scripts/services.json lists them.
        f"acme-shop-test-lint-svc-worker {root}/services/worker/deploy/test/docker-compose.yml,"
        f"{root}/services/worker/deploy/test/docker-compose.override.yml",
        f"acme-shop-test-lint-svc-web {root}/services/web/deploy/test/docker-compose.yml",
        # Every suite stack of this instance: its folder's, and one compose still knows.
        f"acme-shop-test-lint-suite-gone {root}/deploy/test/docker-compose.yml,"
        f"{root}/deploy/test/docker-compose.override.yml",
        f"acme-shop-test-lint-suite-orders {root}/deploy/test/docker-compose.yml,"
        f"{root}/deploy/test/docker-compose.override.yml",
    ]


def test_prod_requires_the_llm_url_and_key_and_runs_no_stand_in(render, tmp_path: Path) -> None:
    """llm: prod needs LLM_BASE_URL and the key's secret file and has no stand-in; dev and test run it."""
    project = render("multi-none-pg-redis-llm-scheduler")
    prod = project / "deploy/prod/docker-compose.yml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "LLM_", "REDIS_"))}
    result = subprocess.run([compose_binary(), "-f", str(prod), "--env-file", os.devnull, "config", "-q"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0 and "set LLM_BASE_URL in deploy/prod/.env" in result.stderr, result.stderr
    full = subprocess.run([compose_binary(), "-f", str(prod), "--env-file", os.devnull, "config", "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**env, "LLM_BASE_URL": "https://llm.example/v1"})
    assert full.returncode == 0, full.stderr
    stack = json.loads(full.stdout)
    assert stack["secrets"]["llm_api_key"]["file"] == str(project / "deploy/prod/secrets/llm_api_key")
    for name in ("api", "worker", "beat"):
        service = stack["services"][name]
        assert service["environment"]["LLM_API_KEY_FILE"] == "/run/secrets/llm_api_key", name
        assert "LLM_API_KEY" not in service["environment"], name
        assert "llm_api_key" in [s["source"] for s in service["secrets"]], name
    config = subprocess.run([compose_binary(), "-f", str(prod), "--env-file", os.devnull, "config", "--services"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**env, "LLM_BASE_URL": "u"})
    assert config.returncode == 0, config.stderr
    assert "llm" not in config.stdout.split(), config.stdout
    for stack in ("deploy/dev/docker-compose.yml", "deploy/test/docker-compose.yml",
                  "services/worker/deploy/test/docker-compose.yml"):
        services = subprocess.run([compose_binary(), "-f", str(project / stack), "config", "--services"],
                                  cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
        assert services.returncode == 0, services.stderr
        assert "llm" in services.stdout.split(), f"{stack}: {services.stdout}"
