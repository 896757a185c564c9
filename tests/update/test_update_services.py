"""Services after generation: make add-service, make remove-service, make switch-layout.

Each runs in a generated project (rendered from the synthetic history's
HEAD, committed, edited by the team, committed) through the project's own
Makefile and scripts/update.py, i.e. a `copier update` at the project's
template version with a changed answer. After each: the project equals a
fresh render with the new answers (plus the team's edits), nothing is left
to resolve, and (slow) the unit stage passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import update_project as up

MULTI = up.LAYOUTS["multi"]
SINGLE = up.LAYOUTS["single-python"]


def project_with_edits(history, tmp_path: Path, answers: dict, layout: str) -> tuple[Path, up.Edits]:  # noqa: ANN001
    project = up.render(history.path, history.head, answers, tmp_path / "project")
    up.commit_all(project, "generated")
    edits = up.user_edits(project, layout)
    up.commit_all(project, "the team's edits")
    return project, edits


def expected(history, tmp_path: Path, answers: dict) -> Path:  # noqa: ANN001
    return up.render(history.path, history.head, answers, tmp_path / "expected")


def answer(project: Path, key: str) -> str:
    match = re.search(rf"^{key}: (.*)$", (project / ".copier-answers.yml").read_text(), re.MULTILINE)
    return match.group(1).strip("'\"") if match else ""


def assert_clean_result(project: Path, fresh: Path, edits: up.Edits, owned) -> None:  # noqa: ANN001
    problems = up.missing_lines(project, edits)
    assert not problems, "user edits lost:\n" + "\n".join(problems)
    drift = up.template_drift(project, fresh, edits, owned)
    assert not drift, "the project is not the fresh render plus the team's edits:\n" + "\n".join(drift)
    assert not up.leftovers(project), "\n".join(up.leftovers(project))


# -------------------------------------------------------------------- add
@pytest.fixture(scope="module")
def added(history, owned, tmp_path_factory) -> Path:  # noqa: ANN001
    """A multi project after `make add-service NAME=billing LANG=node KIND=worker`."""
    tmp = tmp_path_factory.mktemp("add-service")
    project, edits = project_with_edits(history, tmp, MULTI, "multi")
    up.make(project, "add-service", "NAME=billing", "LANG=node", "KIND=worker")
    services = f"{MULTI['services']} billing:node:worker"
    assert answer(project, "services") == services
    assert_clean_result(project, expected(history, tmp, {**MULTI, "services": services}), edits, owned)
    return project


def test_add_service_renders_the_new_service_everywhere(added: Path) -> None:
    for rel in ("Dockerfile", "package.json", "Makefile", "deploy/test/docker-compose.yml",
                "src/worker.js", "tests/unit/worker.test.js"):
        assert (added / "services/billing" / rel).is_file(), f"services/billing/{rel} missing"
    assert re.search(r"^  billing:$", (added / "deploy/dev/docker-compose.yml").read_text(), re.MULTILINE)
    assert re.search(r"^  billing:$", (added / "deploy/test/docker-compose.yml").read_text(), re.MULTILINE)
    assert re.search(r"^SERVICES := .*\bbilling$", (added / "Makefile").read_text(), re.MULTILINE)
    for provider in (".github", ".gitea"):
        release = (added / provider / "workflows/release.yml").read_text()
        assert "- service: billing" in release and "context: services/billing" in release


@pytest.mark.slow
def test_unit_stage_after_add_service(added: Path, copy_of) -> None:  # noqa: ANN001
    project = copy_of(added)
    for folder in ("services/billing", "services/api"):
        up.make(project.joinpath(folder), "test-unit")


# ----------------------------------------------------------------- remove
@pytest.fixture(scope="module")
def removed(history, owned, tmp_path_factory) -> tuple[Path, str]:  # noqa: ANN001
    """A multi project after `make remove-service NAME=worker`, and the command's output."""
    tmp = tmp_path_factory.mktemp("remove-service")
    project, edits = project_with_edits(history, tmp, MULTI, "multi")
    jobs = project / "services/worker/src/worker/jobs.py"
    jobs.write_text("JOBS = ['nightly-report']\n")
    up.commit_all(project, "a module of the worker")
    result = up.make(project, "remove-service", "NAME=worker")
    assert answer(project, "services") == "api web:node"
    assert_clean_result(project, expected(history, tmp, {**MULTI, "services": "api web:node"}), edits, owned)
    return project, result.stdout + result.stderr


def test_remove_service_keeps_the_user_owned_files(removed: tuple[Path, str]) -> None:
    project, output = removed
    worker = project / "services/worker"
    assert (worker / "src/worker/jobs.py").read_text() == "JOBS = ['nightly-report']\n"
    assert (worker / "src/worker/worker.py").is_file() and (worker / "tests/unit").is_dir()
    template_files = ["Dockerfile", "Makefile", "pyproject.toml", ".dockerignore", "deploy/test/docker-compose.yml"]
    left = [name for name in template_files if (worker / name).exists()]
    assert not left, f"template-owned files of the removed service remain: {left}"
    # Its compose override is the user's (an extension point): kept, like src/ and tests/.
    assert "services/worker/deploy/test/docker-compose.override.yml" in output, output
    # The user is told what remains and how to delete it.
    assert "service 'worker' removed" in output, output
    assert "services/worker/src/worker/jobs.py" in output, output
    assert "git rm -r services/worker" in output, output


def test_remove_service_drops_it_from_compose_make_and_release(removed: tuple[Path, str]) -> None:
    project, _ = removed
    for compose in ("deploy/dev/docker-compose.yml", "deploy/test/docker-compose.yml",
                    "deploy/prod/docker-compose.yml"):
        assert not re.search(r"^  worker:$", (project / compose).read_text(), re.MULTILINE), compose
    assert re.search(r"^SERVICES := api web$", (project / "Makefile").read_text(), re.MULTILINE)
    assert "- service: worker" not in (project / ".github/workflows/release.yml").read_text()


@pytest.mark.slow
def test_unit_stage_after_remove_service(removed: tuple[Path, str], copy_of) -> None:  # noqa: ANN001
    project = copy_of(removed[0])
    up.make(project / "services/api", "test-unit")


# ----------------------------------------------------------------- layout
MOVED = {
    "Dockerfile": "services/app/Dockerfile",
    "pyproject.toml": "services/app/pyproject.toml",
}


@pytest.fixture(scope="module")
def switched(history, owned, tmp_path_factory) -> tuple[Path, up.Edits]:  # noqa: ANN001
    """A single project with the team's edits after `make switch-layout`."""
    tmp = tmp_path_factory.mktemp("switch-layout")
    project = up.render(history.path, history.head, SINGLE, tmp / "project")
    up.commit_all(project, "generated")
    edits = up.user_edits(project, "single-python")
    pyproject = project / "pyproject.toml"
    dependency = '    "structlog>=24",'
    text = re.sub(r"(?m)^dependencies = \[$", "dependencies = [\n" + dependency, pyproject.read_text(), count=1)
    pyproject.write_text(text)
    edits.line("pyproject.toml", dependency)
    up.commit_all(project, "the team's edits")
    up.make(project, "switch-layout")
    moved = {**MOVED, **{p: f"services/app/{p}" for p in [*edits.lines, *edits.added, *edits.deleted]
                         if p.startswith(("src/", "tests/"))}}
    edits = edits.moved(moved)
    assert answer(project, "layout") == "multi"
    assert_clean_result(project, expected(history, tmp, {**SINGLE, "layout": "multi"}), edits, owned)
    return project, edits


def test_switch_layout_moves_the_code_with_its_history(switched: tuple[Path, up.Edits]) -> None:
    project, _ = switched
    assert not (project / "src").exists() and not (project / "Dockerfile").exists()
    renames = up.git(project, "diff", "--cached", "--name-status", "-M")
    assert re.search(r"^R100\tsrc/app/main.py\tservices/app/src/app/main.py$", renames, re.MULTILINE), renames
    up.commit_all(project, "switch to the multi layout")
    log = up.git(project, "log", "--follow", "--format=%s", "--", "services/app/src/app/settings.py")
    assert log.splitlines() == ["switch to the multi layout", "the team's edits", "generated"], log


def test_switch_layout_renders_the_multi_project(switched: tuple[Path, up.Edits]) -> None:
    project, _ = switched
    assert (project / "tests/integration/test_stack.py").is_file()
    assert (project / "scripts/test-service.sh").is_file()
    assert "switch-layout:" not in (project / "Makefile").read_text()


@pytest.mark.slow
def test_unit_stage_after_switch_layout(switched: tuple[Path, up.Edits], copy_of) -> None:  # noqa: ANN001
    project = copy_of(switched[0])
    up.make(project / "services/app", "test-unit")


# ------------------------------------------------------------------ refused
def test_service_commands_refuse_what_they_cannot_do(history, tmp_path: Path) -> None:  # noqa: ANN001
    project = up.render(history.path, history.head, SINGLE, tmp_path / "project")
    up.commit_all(project, "generated")
    usage = up.make(project, "add-service", ok=False)
    assert usage.returncode == 2 and "usage: make add-service NAME=name" in usage.stderr
    single = up.make(project, "add-service", "NAME=billing", ok=False)
    assert single.returncode != 0 and "make switch-layout" in single.stderr, single.stderr
    only = up.make(project, "remove-service", "NAME=app", ok=False)
    assert only.returncode != 0 and "the only service" in only.stderr, only.stderr
    assert not up.git(project, "status", "--porcelain"), "a refused command changed the project"


def test_switch_layout_while_updating_from_an_old_version(history, owned, tmp_path: Path) -> None:  # noqa: ANN001
    """v0.1.0 single -> HEAD multi in one `copier update`: the rename and the move both happen."""
    project = up.render(history.path, "v0.1.0", SINGLE, tmp_path / "project")
    up.commit_all(project, "generated")
    edits = up.user_edits(project, "single-python", old_script=True)
    up.commit_all(project, "the team's edits")
    up.update(project, history.head, layout="multi")
    moved = {**MOVED, "scripts/integration.sh": "scripts/run-integration-tests.sh",
             **{p: f"services/app/{p}" for p in [*edits.lines, *edits.added, *edits.deleted]
                if p.startswith(("src/", "tests/"))}}
    assert_clean_result(project, expected(history, tmp_path, {**SINGLE, "layout": "multi"}), edits.moved(moved), owned)


# ------------------------------------------------------------ on containers
def make_on_containers(project: Path, *targets: str) -> None:
    """Run make targets of the project on the real engine; always remove what they built."""
    import subprocess

    from support import project_env

    try:
        for target in targets:
            result = subprocess.run(["make", target], cwd=project, env=project_env(), capture_output=True,
                                    text=True, timeout=1200)
            if result.returncode != 0:
                pytest.fail(f"make {target} exited {result.returncode}\n"
                            f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}", pytrace=False)
    finally:
        subprocess.run(["make", "test-clean-all"], cwd=project, env=project_env(), capture_output=True, timeout=300)


@pytest.mark.slow
@pytest.mark.docker
def test_added_service_passes_its_docker_stages(added: Path, copy_of) -> None:  # noqa: ANN001
    project = copy_of(added)
    make_on_containers(project, "test")


@pytest.mark.slow
@pytest.mark.docker
def test_switched_layout_passes_its_docker_stages(switched: tuple[Path, up.Edits], copy_of) -> None:  # noqa: ANN001
    project = copy_of(switched[0])
    make_on_containers(project, "test")
