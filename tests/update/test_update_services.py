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
import sys
from pathlib import Path

import pytest
import update_project as up
import yaml
from support import TEMPLATE, registry, registry_services

pytestmark = pytest.mark.slow  # renders older template versions and runs copier update

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
    return str(yaml.safe_load((project / ".copier-answers.yml").read_text()).get(key, ""))


def assert_registry_follows_the_answer(project: Path) -> None:
    """The updated scripts/services.json describes the services the answer now has."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert registry(project)["services"] == registry_services(answers)
    assert registry(project)["layout"] == answers["layout"]


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
    assert_registry_follows_the_answer(project)
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
        assert "id: build-billing" in release and "context: services/billing" in release


@pytest.mark.slow
def test_unit_stage_after_add_service(added: Path, copy_of) -> None:  # noqa: ANN001
    project = copy_of(added)
    for folder in ("services/billing", "services/api"):
        up.make(project.joinpath(folder), "test-unit")


def test_add_and_remove_keep_the_other_words_as_written(history, tmp_path: Path) -> None:  # noqa: ANN001
    """update.py builds the new answer from the registry's words: options and order survive."""
    project = up.render(history.path, history.head,
                        {**MULTI, "services": "api:port=8100,worker:worker  web:node"}, tmp_path / "project")
    up.commit_all(project, "generated")
    up.make(project, "add-service", "NAME=billing", "KIND=worker")
    assert answer(project, "services") == "api:port=8100 worker:worker web:node billing:worker"
    assert_registry_follows_the_answer(project)
    assert "${API_PORT:-8100}" in (project / STACKS[0]).read_text()
    up.commit_all(project, "billing added")
    up.make(project, "remove-service", "NAME=worker")
    assert answer(project, "services") == "api:port=8100 web:node billing:worker"
    assert [s["word"] for s in registry(project)["services"]] == ["api:port=8100", "web:node", "billing:worker"]


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
    assert_registry_follows_the_answer(project)
    assert_clean_result(project, expected(history, tmp, {**MULTI, "services": "api web:node"}), edits, owned)
    return project, result.stdout + result.stderr


def test_remove_service_keeps_the_user_owned_files(removed: tuple[Path, str]) -> None:
    project, output = removed
    worker = project / "services/worker"
    assert (worker / "src/worker/jobs.py").read_text() == "JOBS = ['nightly-report']\n"
    assert (worker / "src/worker/worker.py").is_file() and (worker / "tests/unit").is_dir()
    template_files = ["Dockerfile", "Makefile", "pytest.ini", ".dockerignore", "deploy/test/docker-compose.yml"]
    left = [name for name in template_files if (worker / name).exists()]
    assert not left, f"template-owned files of the removed service remain: {left}"
    # Its dependency manifest is the user's, like src/ and tests/: kept and listed.
    assert "services/worker/pyproject.toml" in output, output
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
    release = (project / ".github/workflows/release.yml").read_text()
    assert "id: build-api" in release and "services/worker" not in release


@pytest.mark.slow
def test_unit_stage_after_remove_service(removed: tuple[Path, str], copy_of) -> None:  # noqa: ANN001
    project = copy_of(removed[0])
    up.make(project / "services/api", "test-unit")


def test_remove_service_without_template_edits_keeps_no_patch(removed: tuple[Path, str]) -> None:
    project, output = removed
    assert not (project / ".template-removed").exists()
    assert ".template-removed" not in output, output


# ------------------------------------------------------- service identity
STACKS = ("deploy/dev/docker-compose.yml", "deploy/test/docker-compose.yml", "deploy/prod/docker-compose.yml")
# The .env examples that name the apis' host ports (prod publishes only its edge: issue 15).
ENV_EXAMPLES = ("deploy/dev/.env.example",)


def block(text: str, name: str) -> str:
    """A service's block of a stack file, from its `# begin` to its `# end` line ('' if none)."""
    match = re.search(rf"^  # begin {name}\n.*?^  # end {name}\n", text, re.MULTILINE | re.DOTALL)
    return match.group(0) if match else ""


def identity(project: Path, names: list[str]) -> dict[str, str]:
    """Everything of the named services in the stack files and .env examples, by file."""
    found = {}
    for stack in STACKS:
        text = (project / stack).read_text()
        found |= {f"{stack} {name}": block(text, name) for name in names}
    for example in ENV_EXAMPLES:
        for name in names:
            env = name.replace("-", "_").upper()
            found[f"{example} {name}"] = "".join(re.findall(rf"^{env}_PORT=.*\n", (project / example).read_text(),
                                                            re.MULTILINE))
    return found


def without_calls_to(text: str, target: str) -> str:
    """A block minus the lines that exist because the service calls `target`."""
    text = re.sub(rf"^      UPSTREAM_URL: http://{target}:[0-9]+\n", "", text, flags=re.MULTILINE)
    text = re.sub(rf"^      - {target}\n", "", text, flags=re.MULTILINE)  # prod's list form
    return re.sub(rf"^      {target}:\n        condition: service_healthy\n", "", text, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def removed_edited(history, tmp_path_factory) -> tuple[Path, dict[str, str], up.Edits, str]:  # noqa: ANN001
    """`make remove-service NAME=api` where the team had edited api's dev compose block and Dockerfile.

    Returns the project, the other services' identity before, the edits and the output.
    """
    tmp = tmp_path_factory.mktemp("remove-edited")
    project, edits = project_with_edits(history, tmp, MULTI, "multi")
    assert "      LOG_LEVEL: debug" in block((project / STACKS[0]).read_text(), "api"), "the edit missed api's block"
    before = identity(project, ["postgres", "redis", "worker", "web"])
    result = up.make(project, "remove-service", "NAME=api")
    return project, before, edits, result.stdout + result.stderr


def test_remove_service_with_an_edited_block_leaves_the_other_services_alone(
    removed_edited: tuple[Path, dict[str, str], up.Edits, str], history, owned, tmp_path: Path,  # noqa: ANN001
) -> None:
    """The issue's case: api's extra dev compose line goes with api, ports and URLs of the rest stay."""
    project, before, edits, output = removed_edited
    after = identity(project, ["postgres", "redis", "worker", "web"])
    for stack in STACKS:
        text = (project / stack).read_text()
        assert "LOG_LEVEL" not in text, f"{stack}: api's user line moved into another block:\n{text}"
        assert "api" not in re.findall(r"^  ([a-z-]+):$", text, re.MULTILINE), f"{stack} still has api"
    assert "UPSTREAM_URL" not in block((project / STACKS[0]).read_text(), "web"), "web calls someone else"
    for key, text in before.items():
        want = without_calls_to(text, "api") if key.endswith(" web") else text
        assert after[key] == want, f"{key} changed:\n--- before\n{text}--- after\n{after[key]}"
    assert "WEB_PORT=" in after["deploy/dev/.env.example web"]
    assert not up.leftovers(project), "\n".join(up.leftovers(project))
    assert "CONFLICT" not in output, output
    # Everything else is the fresh render without api, plus the team's other edits.
    kept = up.Edits({k: v for k, v in edits.lines.items() if not k.startswith(("deploy/", "services/api/Dockerfile"))},
                    edits.added, edits.deleted)
    problems = up.missing_lines(project, kept)
    assert not problems, "user edits lost:\n" + "\n".join(problems)
    fresh = expected(history, tmp_path, {**MULTI, "services": "worker:worker web:node"})
    drift = [d for d in up.template_drift(project, fresh, kept, owned) if not d.startswith(".template-removed/")]
    assert not drift, "\n".join(drift)


def test_remove_service_keeps_the_edits_of_its_template_files_in_a_patch(
    removed_edited: tuple[Path, dict[str, str], up.Edits, str],
) -> None:
    project, _, _, output = removed_edited
    patch = project / ".template-removed/api.patch"
    assert patch.is_file(), output
    text = patch.read_text()
    assert '+LABEL org.example.team="payments"' in text and "+++ b/services/api/Dockerfile" in text, text
    assert "+      LOG_LEVEL: debug" in text and "+++ b/deploy/dev/docker-compose.yml" in text, text
    # Only edited files: the untouched pyproject.toml and Makefile are not in it.
    assert set(re.findall(r"^\+\+\+ b/(.*)$", text, re.MULTILINE)) == {
        "deploy/dev/docker-compose.yml", "services/api/Dockerfile"}
    # The output says where, and lists the edited files.
    assert ".template-removed/api.patch" in output, output
    assert re.search(r"^migration:   services/api/Dockerfile$", output, re.MULTILINE), output
    assert re.search(r"^migration:   deploy/dev/docker-compose.yml \(the 'api' block\)$", output, re.MULTILINE), output



def test_the_kept_patch_applies_to_the_template_render(
    removed_edited: tuple[Path, dict[str, str], up.Edits, str], history, tmp_path: Path,  # noqa: ANN001
) -> None:
    """A real diff: on a pristine render it brings the team's edits back."""
    project = removed_edited[0]
    pristine = up.render(history.path, history.head, MULTI, tmp_path / "pristine")
    up.commit_all(pristine, "pristine")
    up.git(pristine, "apply", str(project / ".template-removed/api.patch"))
    assert 'LABEL org.example.team="payments"' in (pristine / "services/api/Dockerfile").read_text()
    assert "      LOG_LEVEL: debug" in block((pristine / STACKS[0]).read_text(), "api")


@pytest.mark.parametrize(
    "services",
    ["web:node worker:worker api", "billing:node:worker api zeta worker:worker web:node", "api web:node worker:worker"],
    ids=["reordered", "added-around", "moved"],
)
def test_other_services_render_byte_identical_when_the_list_changes(history, tmp_path: Path, services: str) -> None:  # noqa: ANN001
    names = ["api", "worker", "web", "postgres", "redis"]
    base = identity(up.render(history.path, history.head, MULTI, tmp_path / "base"), names)
    changed = identity(up.render(history.path, history.head, {**MULTI, "services": services}, tmp_path / "changed"),
                       names)
    missing = [k for k in base if not base[k] and (k.startswith(STACKS) or k.endswith((" api", " web")))]
    assert not missing, f"nothing to compare: {missing}"
    differ = [k for k in base if base[k] != changed[k]]
    assert not differ, "\n".join(f"{k}:\n--- {MULTI['services']}\n{base[k]}--- {services}\n{changed[k]}"
                                  for k in differ)


def test_add_service_changes_no_other_block(added: Path, history, tmp_path: Path) -> None:  # noqa: ANN001
    fresh = identity(up.render(history.path, history.head, MULTI, tmp_path / "fresh"), ["worker", "web"])
    have = identity(added, ["worker", "web"])
    assert have == fresh


# Older templates gave the n-th service host port 8000+n.
OLD_PORTS = {"API": 8000, "WEB": 8002}


def with_old_ports(project: Path) -> None:
    """Make a fresh render look like an older template's: position-derived host ports."""
    for rel in (*STACKS, *ENV_EXAMPLES):
        path = project / rel
        text = path.read_text()
        for env, port in OLD_PORTS.items():
            text = re.sub(rf"(\$\{{{env}_PORT:-)[0-9]+\}}", rf"\g<1>{port}}}", text)
            text = re.sub(rf"^{env}_PORT=[0-9]+$", f"{env}_PORT={port}", text, flags=re.MULTILINE)
        path.write_text(text)


def test_update_keeps_the_ports_an_older_template_gave_by_position(history, owned, tmp_path: Path) -> None:  # noqa: ANN001
    project = up.render(history.path, history.head, MULTI, tmp_path / "project")
    with_old_ports(project)
    assert "${WEB_PORT:-8002}" in (project / STACKS[0]).read_text()
    up.commit_all(project, "generated by a template that derived ports from positions")
    edits = up.user_edits(project, "multi")
    up.commit_all(project, "the team's edits")
    up.update(project, history.head)
    pinned = "api:port=8000 worker:worker web:node:port=8002"
    assert answer(project, "services") == pinned
    # The dev stack publishes the apis on these ports; prod publishes only its edge (issue 15).
    for rel in ("deploy/dev/docker-compose.yml",):
        text = (project / rel).read_text()
        assert "${API_PORT:-8000}" in text and "${WEB_PORT:-8002}" in text, f"{rel}:\n{text}"
    for rel in ENV_EXAMPLES:
        text = (project / rel).read_text()
        assert "API_PORT=8000\n" in text and "WEB_PORT=8002\n" in text, f"{rel}:\n{text}"
    assert_clean_result(project, expected(history, tmp_path, {**MULTI, "services": pinned}), edits, owned)
    # Once kept, the next update changes nothing.
    up.commit_all(project, "update")
    up.update(project, history.head)
    assert not up.git(project, "status", "--porcelain"), up.git(project, "diff")


OLD_STACK = """services:
  core:
    ports:
      - "127.0.0.1:${CORE_PORT:-8000}:8000"
  jobs:
    environment:
      REDIS_URL: redis://redis:6379/0
  web:
    environment:
      UPSTREAM_URL: http://core:8000
    ports:
      - "127.0.0.1:${WEB_PORT:-8002}:8000"
"""


@pytest.mark.parametrize("folded", [False, True], ids=["one-line", "folded"])
def test_keep_ports_pins_positions_and_reports_a_changed_upstream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], folded: bool,
) -> None:
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.core import load_answers
    from update.steps.keep_ports import keep_ports

    (tmp_path / "deploy/dev").mkdir(parents=True)
    (tmp_path / "deploy/dev/docker-compose.yml").write_text(OLD_STACK)
    spec = "core jobs:worker web:node"
    value = f"services: >-\n  {spec.replace(' ', chr(10) + '  ', 1)}\n" if folded else f"services: {spec}\n"
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(f"# Changes here will be overwritten by Copier\n_commit: v0.1.0\nlayout: multi\n"
                       f"{value}zeta: 1\n")
    up.commit_all(tmp_path, "an old project")
    assert keep_ports(tmp_path) == ["core:port=8000", "web:node:port=8002"]
    data = load_answers(answers.read_text())
    assert data == {"_commit": "v0.1.0", "layout": "multi", "zeta": 1,
                    "services": "core:port=8000 jobs:worker web:node:port=8002"}
    err = capsys.readouterr().err
    assert "'web' called 'core' (UPSTREAM_URL)" in err and "(none here)" in err, err
    assert "core:port=8000 web:node:port=8002" in err, err
    # Kept once: nothing left to pin.
    assert keep_ports(tmp_path) == []


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
    assert_registry_follows_the_answer(project)
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
    """Run make targets of the project on the real engine ("target VAR=value" each); always
    remove what they built."""
    import subprocess

    from support import lock, project_env

    try:
        lock(project)  # the images install the lock files; the test updates skip them (SKIP_LOCK)
        for target in targets:
            result = subprocess.run(["make", *target.split()], cwd=project, env=project_env(), capture_output=True,
                                    text=True, timeout=1200)
            if result.returncode != 0:
                pytest.fail(f"make {target} exited {result.returncode}\n"
                            f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}", pytrace=False)
    finally:
        subprocess.run(["make", "test-clean-all"], cwd=project, env=project_env(), capture_output=True, timeout=300)


@pytest.mark.slow
@pytest.mark.docker
def test_added_service_passes_its_docker_stages(added: Path, copy_of) -> None:  # noqa: ANN001
    """The added service's stage 2 and the whole stack's stage 3 (its unit tests:
    test_unit_stage_after_add_service; the other services' stage 2 is unchanged by the add)."""
    project = copy_of(added)
    make_on_containers(project, "test-service SERVICE=billing", "test-integration")


@pytest.mark.slow
@pytest.mark.docker
def test_switched_layout_passes_its_docker_stages(switched: tuple[Path, up.Edits], copy_of) -> None:  # noqa: ANN001
    project = copy_of(switched[0])
    make_on_containers(project, "test")


def test_add_and_remove_a_frontend(history, tmp_path: Path) -> None:  # noqa: ANN001
    """issue 14: make add-service KIND=frontend renders the page, its stacks and release build;
    make remove-service takes the template's files away again."""
    project = up.render(history.path, history.head, MULTI, tmp_path / "project")
    up.commit_all(project, "generated")
    # PORT=N is the option a refused port asks for (hooks/services.py _check_ports).
    up.make(project, "add-service", "NAME=site", "KIND=frontend", "PORT=8600")
    assert answer(project, "services") == f"{MULTI['services']} site:frontend:port=8600"
    assert "127.0.0.1:${SITE_PORT:-8600}:" in (project / "deploy/dev/docker-compose.yml").read_text()
    assert_registry_follows_the_answer(project)
    site = project / "services/site"
    for rel in ("Dockerfile", "Caddyfile", "vite.config.ts", "tsconfig.json", "index.html",
                "src/App.tsx", "tests/unit/frontend.test.tsx", "deploy/test/docker-compose.yml"):
        assert (site / rel).is_file(), f"services/site/{rel} missing"
    assert (site / "eslint.config.js").is_file(), "a frontend's make lint runs typescript-eslint"
    for stack in ("deploy/dev/docker-compose.yml", "deploy/test/docker-compose.yml"):
        assert re.search(r"^  site:$", (project / stack).read_text(), re.MULTILINE), stack
    assert "id: build-site" in (project / ".github/workflows/release.yml").read_text()
    up.commit_all(project, "site added")
    up.make(project, "remove-service", "NAME=site")
    assert answer(project, "services") == MULTI["services"]
    assert not (site / "Caddyfile").exists() and not (site / "Dockerfile").exists()
    assert (site / "src/App.tsx").is_file(), "the page's source is the team's: it stays"


def test_add_and_remove_a_ts_service(history, tmp_path: Path) -> None:  # noqa: ANN001
    """issue 14: make add-service LANG=ts KIND=worker renders a TypeScript worker (tsc's
    settings, typescript-eslint's), its stacks and release build; remove-service takes them away."""
    project = up.render(history.path, history.head, MULTI, tmp_path / "project")
    up.commit_all(project, "generated")
    up.make(project, "add-service", "NAME=jobs", "LANG=ts", "KIND=worker")
    assert answer(project, "services") == f"{MULTI['services']} jobs:ts:worker"
    assert_registry_follows_the_answer(project)
    jobs = project / "services/jobs"
    for rel in ("Dockerfile", "package.json", "tsconfig.json", "tsconfig.build.json",
                "src/worker.ts", "src/config.ts", "tests/unit/worker.test.ts",
                "testkit/wait-for.ts", "deploy/test/docker-compose.yml"):
        assert (jobs / rel).is_file(), f"services/jobs/{rel} missing"
    assert (jobs / "eslint.config.js").is_file() and not (jobs / "src/worker.js").exists()
    for stack in ("deploy/dev/docker-compose.yml", "deploy/test/docker-compose.yml"):
        assert re.search(r"^  jobs:$", (project / stack).read_text(), re.MULTILINE), stack
    assert "id: build-jobs" in (project / ".github/workflows/release.yml").read_text()
    up.commit_all(project, "jobs added")
    up.make(project, "remove-service", "NAME=jobs")
    assert answer(project, "services") == MULTI["services"]
    assert not (jobs / "Dockerfile").exists() and not (jobs / "tsconfig.json").exists()
    assert (jobs / "src/worker.ts").is_file(), "the worker's source is the team's: it stays"
