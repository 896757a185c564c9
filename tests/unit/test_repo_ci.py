"""The template repository's own CI: .github/workflows/ci.yml and .gitea/workflows/ci.yml.

Both are written by tools/workflows.py from tools/ci.yml.jinja. These tests
lint them with actionlint (and zizmor where it is installed), check that the
committed files are exactly the render (and that the generator's --check
names a hand edit and changes nothing), and check what the job promises: it
runs README's test command with the docker tests required, on a full-history
checkout, with README's minimum Python and Node, on every push and pull
request, with minimal permissions, a timeout and pinned actions.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from support import TEMPLATE, run, tool

GENERATOR = TEMPLATE / "tools" / "workflows.py"
FILES = {"github": ".github/workflows/ci.yml", "gitea": ".gitea/workflows/ci.yml"}
README = TEMPLATE / "README.md"
# A tag (v5, v8.3.2) or a full commit SHA; zizmor's ignore comment may follow.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("repo_ci_workflows", GENERATOR)
    assert spec is not None and spec.loader is not None, f"cannot load {GENERATOR}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(forge: str) -> dict[str, Any]:
    data = yaml.safe_load((TEMPLATE / FILES[forge]).read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job["steps"]]


def readme_test_command() -> str:
    """The `make test` line of README's first code block, without its comment."""
    block = re.search(r"^```\w*\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    assert block, "README.md has no code block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    found = [command for command in commands if command.startswith("make test")]
    assert len(found) == 1, f"README's first code block should name one `make test` command: {commands}"
    return found[0]


def readme_minimum(name: str) -> str:
    """README's minimum version of Python or Node ("Python 3.11+", "(Node 20+)")."""
    found = re.findall(rf"\b{name} (\d+(?:\.\d+)?)\+", README.read_text())
    assert len(set(found)) == 1, f"README.md should state one minimum {name} version, found {found}"
    return found[0]


def run_generator(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "tools/workflows.py", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The generator and its source, the partials it reads the pins from, and both workflows written."""
    shutil.copytree(TEMPLATE / "partials", tmp_path / "partials")
    shutil.copytree(TEMPLATE / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    result = run_generator(tmp_path)
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"
    return tmp_path


# -------------------------------------------------------------------- lint
def test_actionlint() -> None:
    # -shellcheck makes sure the run: scripts are checked too, not skipped silently.
    run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *FILES.values()], cwd=TEMPLATE)


def test_generator_is_ruff_clean() -> None:
    """tools/ is not in `make lint`'s list (hooks, tests, bench); the generator is held to the same rules."""
    run([tool("ruff"), "check", "tools"], cwd=TEMPLATE)


def test_zizmor() -> None:
    zizmor = shutil.which("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed (not in this environment's test dependencies)")
    # Offline: no GitHub API call; the findings it cannot fix carry their reason and an ignore comment.
    run([zizmor, "--offline", "--no-progress", "--color=never", *FILES.values()], cwd=TEMPLATE)


# ------------------------------------------------------------- one source
def test_committed_workflows_equal_their_source() -> None:
    diffs = generator().stale()
    assert not diffs, (
        "the committed CI workflows differ from tools/ci.yml.jinja: run `python3 tools/workflows.py` "
        "and commit both files\n" + "".join(diffs)
    )


def test_check_names_a_hand_edit_and_changes_nothing(repo_copy: Path) -> None:
    gitea = repo_copy / FILES["gitea"]
    rendered = gitea.read_text()
    edited = rendered.replace("timeout-minutes: ", "timeout-minutes: 1")
    gitea.write_text(edited)
    result = run_generator(repo_copy, "--check")
    assert result.returncode == 1, f"--check passed a hand-edited file\n{result.stdout}{result.stderr}"
    assert f"+++ {FILES['gitea']} (from tools/ci.yml.jinja)" in result.stdout, result.stdout
    assert FILES["github"] not in result.stdout, f"the untouched file was reported:\n{result.stdout}"
    assert "run `python3 tools/workflows.py`" in result.stderr, result.stderr
    assert gitea.read_text() == edited, "--check wrote the file"

    result = run_generator(repo_copy)
    assert result.returncode == 0, result.stderr
    assert gitea.read_text() == rendered, "the generator did not repair the hand edit"
    result = run_generator(repo_copy, "--check")
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"


def test_a_pin_bumped_in_the_projects_partial_moves_both_files(repo_copy: Path) -> None:
    partial = repo_copy / "partials/workflows/ci.yml.jinja"
    text = partial.read_text()
    pin = re.search(r"""["'](actions/checkout@[^"'\s]+)""", text)
    assert pin, "partials/workflows/ci.yml.jinja pins no actions/checkout"
    partial.write_text(text.replace(pin.group(1), "actions/checkout@v99"))
    result = run_generator(repo_copy)
    assert result.returncode == 0, result.stderr
    for path in FILES.values():
        uses = re.findall(r"uses: (actions/checkout@\S+)", (repo_copy / path).read_text())
        assert uses == ["actions/checkout@v99"], f"{path}: {uses}"


def test_a_partial_without_pins_is_refused_in_one_line(repo_copy: Path) -> None:
    partial = repo_copy / "partials/workflows/ci.yml.jinja"
    text = partial.read_text()
    assert "{%- set pins = " in text, "partials/workflows/ci.yml.jinja: where does it set `pins`?"
    partial.write_text(text.replace("{%- set pins = ", "{%- set action_pins = ", 1))
    before = {path: (repo_copy / path).read_text() for path in FILES.values()}
    result = run_generator(repo_copy)
    assert result.returncode == 1, f"{result.stdout}{result.stderr}"
    assert result.stderr.strip() == ("tools/workflows.py: cannot render tools/ci.yml.jinja: "
                                     "partials/workflows/ci.yml.jinja no longer sets a `pins` mapping"), result.stderr
    assert {path: (repo_copy / path).read_text() for path in FILES.values()} == before, "a failed run wrote files"


def test_a_bad_argument_is_refused_in_one_line_and_writes_nothing(repo_copy: Path) -> None:
    for path in FILES.values():
        (repo_copy / path).unlink()
    result = run_generator(repo_copy, "--chek")
    assert result.returncode == 2, f"{result.stdout}{result.stderr}"
    assert result.stderr.strip() == "usage: python3 tools/workflows.py [--check]", result.stderr
    assert not [path for path in FILES.values() if (repo_copy / path).exists()], "a refused run wrote files"


def test_github_and_gitea_run_the_same_workflow() -> None:
    """The source lets the two files differ in comments only (Gitea ignores what it lacks)."""
    assert load("github") == load("gitea")


# ------------------------------------------------------------------ the job
@pytest.mark.parametrize("forge", FILES)
def test_runs_readme_test_command_with_docker_tests_required(forge: str) -> None:
    command = readme_test_command()
    data = load(forge)
    found = [step for step in steps(data) if step.get("run", "").strip() == command]
    assert len(found) == 1, f"{FILES[forge]}: expected one step running README's `{command}`: {steps(data)}"
    env = {**data.get("env", {}), **found[0].get("env", {})}
    assert env.get("REQUIRE_DOCKER") == "1", f"{FILES[forge]}: `{command}` runs without REQUIRE_DOCKER=1"
    runs = [step["run"] for step in steps(data) if "run" in step]
    assert runs.index(found[0]["run"]) == len(runs) - 1, f"{FILES[forge]}: README's command is not the last"


@pytest.mark.parametrize("forge", FILES)
def test_checkout_fetches_the_full_history(forge: str) -> None:
    data = load(forge)
    checkouts = [step for step in steps(data) if step.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 1, f"{FILES[forge]}: {checkouts}"
    assert checkouts[0].get("with", {}).get("fetch-depth") == 0, (
        f"{FILES[forge]}: the update tests render earlier commits; checkout needs fetch-depth: 0"
    )
    first = steps(data)[0]
    assert first is checkouts[0], f"{FILES[forge]}: the checkout is not the first step"


@pytest.mark.parametrize("forge", FILES)
def test_readme_minimum_python_and_node(forge: str) -> None:
    data = load(forge)
    versions = {
        step["uses"].split("@")[0]: step.get("with", {})
        for step in steps(data)
        if step.get("uses", "").startswith(("actions/setup-python@", "actions/setup-node@"))
    }
    assert versions == {
        "actions/setup-python": {"python-version": readme_minimum("Python")},
        "actions/setup-node": {"node-version": readme_minimum("Node")},
    }, f"{FILES[forge]}: {versions}"


@pytest.mark.parametrize("forge", FILES)
def test_workflow_policy(forge: str) -> None:
    data = load(forge)
    name = FILES[forge]
    assert data["on"] == {"push": None, "pull_request": None}, f"{name}: not every push and pull request"
    assert data["permissions"] == {"contents": "read"}, f"{name}: {data['permissions']}"
    assert data["concurrency"] == {"group": "${{ github.workflow }}-${{ github.ref }}",
                                   "cancel-in-progress": True}, f"{name}: {data['concurrency']}"
    for job_name, job in data["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{name}: job {job_name} has no timeout-minutes"
        assert "permissions" not in job, f"{name}: job {job_name} widens the permissions"
    for step in steps(data):
        if "uses" in step:
            assert PINNED.match(step["uses"]), f"{name}: unpinned {step['uses']}"


# -------------------------------------------------------- release process
RELEASING = TEMPLATE / "docs" / "releasing.md"


def test_the_release_process_is_linked_and_names_what_exists() -> None:
    """docs/releasing.md is reachable from README and updating.md, and every file and name it cites is real."""
    for doc, link in ((README, "(docs/releasing.md)"), (TEMPLATE / "docs/updating.md", "(releasing.md)")):
        assert link in doc.read_text(), f"{doc.name} does not link {link}"
    text = RELEASING.read_text()
    # The last section cites a generated project's files; the others, this repository's.
    ours = text.split("## How generated projects see a release")[0]
    assert ours != text, "docs/releasing.md lost its section on generated projects"
    cited = set(re.findall(r"`(\.?[\w.-]+(?:/[\w.-]+)*\.(?:py|md|yml|jinja|toml))`", ours)) | {".ci/run"}
    # A project's answers file, named where the doc says why tags never move.
    missing = sorted(path for path in cited - {".copier-answers.yml"} if not (TEMPLATE / path).is_file())
    assert not missing, f"docs/releasing.md cites files that do not exist: {missing}"
    for path, name in (("tests/update/real_history.py", "REAL_COMMITS"),
                       ("tests/render/test_render_unchanged.py", "BEFORE"),
                       ("tests/render/test_render_unchanged.py", "INTENDED")):
        assert name in text, f"docs/releasing.md no longer names {name}"
        assert re.search(rf"^{name}\b.*=", (TEMPLATE / path).read_text(), re.MULTILINE), f"{path} has no {name}"
    assert re.search(r"^## Unreleased$", (TEMPLATE / "CHANGELOG.md").read_text(), re.MULTILINE), (
        "CHANGELOG.md has no `## Unreleased` section, where docs/releasing.md says changes go"
    )
