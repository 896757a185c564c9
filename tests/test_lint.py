"""Layer 3: the generated files pass the real linters, for every named combination.

Each test fails with the tool's own output (conftest.run). actionlint runs in
test_workflows.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import COMBOS, compose_binary, run, tool


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
    args = [compose_binary(), "-f", str(compose_file)]
    example = compose_file.parent / ".env.example"
    if example.is_file():
        args += ["--env-file", str(example)]
    args += ["config", "--quiet"]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "POSTGRES_"))}
    return subprocess.run(args, cwd=project, capture_output=True, text=True,
                          env={**clean_env, **(env or {})}, timeout=60)


@pytest.mark.parametrize("name", COMBOS)
def test_compose_config(render, name: str) -> None:
    project = render(name)
    files = compose_files(project)
    assert len(files) >= 3
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


def test_prod_compose_refuses_missing_secrets(render, tmp_path: Path) -> None:
    project = render("multi-github-pg-redis-mixed")
    prod = project / "deploy/prod/docker-compose.yml"
    # Without the .env.example values the required password is missing.
    result = subprocess.run([compose_binary(), "-f", str(prod), "--env-file", os.devnull, "config", "-q"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")})
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in deploy/prod/.env" in result.stderr


@pytest.mark.parametrize("name", COMBOS)
def test_ruff(render, name: str) -> None:
    project = render(name)
    python_files = sorted(str(p.relative_to(project)) for p in project.rglob("*.py"))
    if not python_files:
        pytest.skip("no python in this combination")
    # The project's own ruff settings (per service pyproject.toml), with our rule set.
    run([tool("ruff"), "check", "--no-cache", "--select", "E,F,W,I,B,UP", *python_files],
        cwd=project)


@pytest.mark.parametrize("name", [n for n, c in COMBOS.items() if ":node" in c["services"]])
def test_node_sources_parse(render, name: str) -> None:
    project = render(name)
    sources = sorted(str(p.relative_to(project)) for p in project.rglob("*.js"))
    assert sources
    for source in sources:
        run(["node", "--check", source], cwd=project)
