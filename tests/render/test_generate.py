"""`make generate` and README's commands give projects that can be updated.

A project records its template's location (`_src_path`) and commit
(`_commit`); `make update`, `make add-service` and `make remove-service`
need both to work from the project folder. hooks/generate.py is what
`make generate` runs.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import TEMPLATE, git_init, project_env, run, service_list

sys.path.insert(0, str(TEMPLATE / "hooks"))
import generate  # noqa: E402

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def snapshot(dst: Path) -> Path:
    """The template's working tree (uncommitted changes too), committed in a new repo at dst."""
    files = git(TEMPLATE, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for rel in filter(None, files):
        source = TEMPLATE / rel
        if source.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            (dst / rel).write_bytes(source.read_bytes())
            (dst / rel).chmod(source.stat().st_mode)
    git(dst, "init", "--quiet", "--initial-branch=main")
    git(dst, "add", "--all")
    git(dst, "commit", "--quiet", "-m", "snapshot")
    return dst


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "copier-docker-services")


def make_generate(template: Path, venv: Path, dest: str, data: str = "") -> subprocess.CompletedProcess[str]:
    """`make generate` with VENV pointing at a stand-in whose python is this test's."""
    # Newer than the template's pyproject.toml, so make never installs into the stand-in.
    (venv / "bin/.installed").touch()
    return subprocess.run(
        ["make", "generate", f"VENV={venv}", f"DEST={dest}", f"DATA={data}"],
        cwd=template, capture_output=True, text=True, env=project_env(), timeout=300,
    )


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A VENV for the template's Makefile: its python runs this interpreter; marked installed."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin/python"
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    return venv


def answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def assert_updatable(project: Path, template: Path) -> None:
    """The recorded template exists from the project folder and has the recorded commit."""
    recorded = answers(project)
    src = Path(recorded["_src_path"])
    assert src.is_absolute(), f"_src_path {src} only works from the folder it was typed in"
    assert src.resolve() == template.resolve()
    exists = subprocess.run(["git", "cat-file", "-e", f"{recorded['_commit']}^{{commit}}"], cwd=src,
                            capture_output=True, text=True)
    assert exists.returncode == 0, f"_commit {recorded['_commit']} is not in the template: {exists.stderr}"


# ------------------------------------------------------------ the wrapper
def test_generate_records_an_absolute_source_and_an_existing_commit(template: Path, venv: Path) -> None:
    result = make_generate(template, venv, "../shop", "-d layout=single -d services=app -d ci_provider=none")
    assert result.returncode == 0, result.stdout + result.stderr
    project = template.parent / "shop"
    assert_updatable(project, template)
    assert answers(project)["project_name"] == "shop"
    assert answers(project)["_commit"] == git(template, "describe", "--tags", "--always").strip()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("-d services=Bad", "'Bad': use a-z, 0-9, single -"),
        ("-d layout=weird", "Invalid choice for 'layout'"),
        ("-d services", "-d services: expected NAME=VALUE"),
    ],
    ids=["invalid-service", "invalid-choice", "not-a-pair"],
)
def test_generate_refuses_bad_answers_in_one_line(template: Path, venv: Path, data: str, message: str) -> None:
    result = make_generate(template, venv, "../refused", data)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("generate: ")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert not (template.parent / "refused").exists(), "a refused answer wrote the project folder"


def test_generate_refuses_a_dirty_template(venv: Path, tmp_path: Path) -> None:
    dirty = snapshot(tmp_path / "dirty")
    (dirty / "copier.yml").write_text((dirty / "copier.yml").read_text() + "\n# a draft\n")
    result = make_generate(dirty, venv, "../from-dirty")
    assert result.returncode != 0
    assert "uncommitted changes (copier.yml)" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "from-dirty").exists()


def test_build_leftovers_do_not_make_the_template_dirty(tmp_path: Path) -> None:
    """What `make install` (pip install -e) and the tests leave is git-ignored."""
    repo = snapshot(tmp_path / "repo")
    for leftover in ("copier_docker_services.egg-info/PKG-INFO", ".venv/bin/.installed", "hooks/__pycache__/x.pyc",
                     ".pytest_cache/README.md", ".ruff_cache/CACHEDIR.TAG", "build/lib/x", "dist/x.whl"):
        (repo / leftover).parent.mkdir(parents=True, exist_ok=True)
        (repo / leftover).write_text("")
    generate.check_template(repo)  # raises Refused if dirty
    (repo / "notes.txt").write_text("draft\n")
    with pytest.raises(generate.Refused, match=r"uncommitted changes \(notes.txt\)"):
        generate.check_template(repo)


def test_generate_refuses_a_folder_that_is_not_the_checkout(tmp_path: Path) -> None:
    with pytest.raises(generate.Refused, match="not a git checkout"):
        generate.check_template(tmp_path)


def test_generate_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/keep.txt").write_text("mine\n")
    with pytest.raises(generate.Refused, match="already exists and is not empty"):
        generate.check_destination(tmp_path / "taken")
    generate.check_destination(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    generate.check_destination(tmp_path / "empty")


def test_parse_data_reads_pairs_and_a_data_file(tmp_path: Path) -> None:
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text("layout: single\ncomponents: [redis]\n")
    assert generate.parse_data(["services=app", "description=a=b"], answers_file) == {
        "layout": "single", "components": ["redis"], "services": "app", "description": "a=b",
    }
    answers_file.write_text("- not a mapping\n")
    with pytest.raises(generate.Refused, match="expected a mapping"):
        generate.parse_data([], answers_file)
    with pytest.raises(generate.Refused, match="expected NAME=VALUE"):
        generate.parse_data(["=x"], None)


# ------------------------------------------------- README, on a fresh clone
def readme_command(marker: str) -> str:
    """The shell command of README.md's code block line that ends with `# <marker>`."""
    lines = (TEMPLATE / "README.md").read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if re.search(rf"#\s*{re.escape(marker)}\s*$", line))
    start = end
    while start > 0 and lines[start - 1].rstrip().endswith("\\"):
        start -= 1
    command = "\n".join(lines[start : end + 1])
    return command.rsplit("#", 1)[0].strip()


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # `git clone` holds committed work only (what a user gets), not this
    # checkout's uncommitted changes: commit before running these tests.
    # The path is the one README's non-interactive example names.
    base = tmp_path_factory.mktemp("fresh")
    clone = base / "path/to/copier-docker-services"
    run(["git", "clone", "--quiet", str(TEMPLATE), str(clone)], cwd=base)
    return clone


def add_service(project: Path) -> None:
    """README's second step for a project: git init, then `make add-service`, which must work."""
    git_init(project)
    run(["make", "add-service", "NAME=billing"], cwd=project, env=project_env(), timeout=900)
    assert (project / "services/billing/Dockerfile").is_file()
    assert "billing" in [svc["name"] for svc in service_list(answers(project))]
    status = git(project, "status", "--porcelain")
    assert "services/billing/" in status, status


@pytest.mark.slow
def test_readme_first_command_then_add_service(fresh_clone: Path) -> None:
    command = readme_command("1. render a project from this checkout (non-interactive)")
    assert command == "make generate DEST=../my-project", command
    # The real thing: `make` creates .venv from PyPI (pip install -e leaves *.egg-info behind).
    run(command, cwd=fresh_clone, env=project_env(), timeout=900)
    project = fresh_clone.parent / "my-project"
    assert_updatable(project, fresh_clone)
    add_service(project)


@pytest.mark.slow
def test_readme_non_interactive_example_then_add_service(fresh_clone: Path) -> None:
    command = readme_command("non-interactive, from a clone")
    assert command.startswith("copier copy --trust --defaults"), command
    base = fresh_clone.parent.parent.parent  # README's path/to/copier-docker-services is relative to here
    run(command, cwd=base, env=project_env(), timeout=900)
    project = base / "my-project"
    assert answers(project)["project_name"] == "Acme Shop"
    assert_updatable(project, fresh_clone)
    add_service(project)


def test_readme_command_helper_finds_continued_lines() -> None:
    command = readme_command("non-interactive, from a clone")
    assert command.count("\n") == 2 and command.endswith("my-project"), command

