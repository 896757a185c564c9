"""A conflicted update never locks the user out.

With conflict markers in the Makefile, make cannot read it, so `make
check-conflicts` is no way to find them: the update's summary names every
conflicted file with its marker lines, and its last line prints a command
that does not go through make. The template's own history here is two tagged versions built from the
working tree: v2.0.0 changes the Makefile line the user changed too.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import template_history as th
import update_project as up
import yaml
from support import BASE_ANSWERS, COMBOS, TEMPLATE, project_env

MAKEFILE = "template/Makefile.jinja"
GOAL = ".DEFAULT_GOAL := help"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
ANSWERS = {"layout": "single", "services": "app", "components": [], "ci_provider": "none"}


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert f"\n{old}\n" in text, f"{path} has no line {old!r}: pick another line in this test"
    path.write_text(text.replace(f"\n{old}\n", f"\n{new}\n", 1))


@pytest.fixture(scope="module")
def conflicted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A project whose `make update` left markers in its Makefile, and that update's output."""
    from copier import run_copy

    base = tmp_path_factory.mktemp("conflicts")
    template = base / "template"
    template.mkdir()
    th.copy_parts(TEMPLATE, template)
    git(template, "init", "--quiet", "--initial-branch=main")
    git(template, "add", "--all")
    git(template, "commit", "--quiet", "-m", "v1")
    git(template, "tag", "v1.0.0")

    project = base / "project"
    run_copy(str(template), str(project), data={**BASE_ANSWERS, **ANSWERS}, vcs_ref="v1.0.0",
             defaults=True, unsafe=True, quiet=True)
    replace_line(project / "Makefile", GOAL, ".DEFAULT_GOAL := test-unit")
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "generated, then the team's default goal")

    replace_line(template / MAKEFILE, GOAL, ".DEFAULT_GOAL := help  # the target list")
    git(template, "commit", "--quiet", "-am", "v2")
    git(template, "tag", "v2.0.0")

    # The project's own `make update`, with the copier of the test venv (COPIER is its documented override).
    update = subprocess.run(["make", "update"], cwd=project, capture_output=True, text=True, timeout=600,
                            env=project_env(COPIER="copier"))
    return project, update


@pytest.mark.slow
def test_markers_in_the_makefile_are_listed_by_the_printed_command(conflicted) -> None:  # noqa: ANN001
    project, update = conflicted
    assert update.returncode != 0, "an update that left conflicts must fail:\n" + update.stderr
    makefile_lines = [n for n, line in enumerate((project / "Makefile").read_text().splitlines(), 1)
                      if re.match(r"^(<{7}|>{7})( |$)", line)]
    assert len(makefile_lines) == 2, (project / "Makefile").read_text()
    # make itself cannot read the Makefile now, so its target is no way to check.
    locked = subprocess.run(["make", "check-conflicts"], cwd=project, capture_output=True, text=True)
    assert locked.returncode != 0 and "missing separator" in locked.stderr, locked.stderr

    # The update's summary names every conflicted file with its marker lines ...
    numbers = ", ".join(map(str, makefile_lines))
    assert f"\n  conflicts in 1 file:\n    Makefile: 2 marker lines ({numbers})\n" in update.stderr, update.stderr
    # ... and its last line, the one error, prints a command that works without make, which lists them too.
    # (make adds its own "make: *** [Makefile:...: update] Error 1" after it.)
    last = [line for line in update.stderr.splitlines() if not line.startswith("make: ***")][-1]
    printed = re.search(r"^update: CONFLICTS in 1 file: .*check again with: (.+)$", last)
    assert printed, update.stderr
    command = shlex.split(printed.group(1))
    assert "make" not in command, command
    check = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=60)
    assert check.returncode == 1, check.stdout + check.stderr
    for number in makefile_lines:
        assert f"Makefile:{number}:" in check.stderr, check.stderr


@pytest.mark.slow
def test_conflicts_are_listed_when_the_check_script_itself_is_conflicted(conflicted, tmp_path: Path) -> None:  # noqa: ANN001
    project = Path(shutil.copytree(conflicted[0], tmp_path / "project", symlinks=True))
    script = project / "scripts/check-conflicts.sh"
    # An update that conflicted inside the check script: bash cannot parse it any more.
    script.write_text(script.read_text().replace("set -euo pipefail\n",
                                                 "<<<<<<< before updating\nset -eu\n=======\nset -euo pipefail\n"
                                                 ">>>>>>> after updating\n", 1))
    broken = subprocess.run([str(script), "--list"], cwd=project, capture_output=True, text=True)
    assert broken.returncode not in (0, 1), broken.stdout + broken.stderr
    (project / "deploy.rej").write_text("@@ -1 +1 @@\n")
    found = up.load_update_module(project).gitutil.conflicts(project)
    assert [line.split(":")[0] for line in found] == ["Makefile", "Makefile", "scripts/check-conflicts.sh",
                                                      "scripts/check-conflicts.sh", "deploy.rej"], found


@pytest.mark.parametrize("name", [n for n, c in COMBOS.items() if c["ci_provider"] != "none"])
def test_ci_checks_conflicts_before_anything_reads_the_files(render, name: str) -> None:  # noqa: ANN001
    """In every job that runs make, the conflict check is the first step after checkout.

    A conflicted Makefile stops make with "missing separator" and a conflicted
    workflow, compose file or lockfile fails elsewhere: the check must say why first.
    """
    project = render(name)
    checked = []
    for workflow in sorted([*project.glob(".github/workflows/*.yml"), *project.glob(".gitea/workflows/*.yml")]):
        for job_name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            steps = job.get("steps", [])
            runs = [str(step.get("run", "")) for step in steps]
            if not any(re.search(r"(^|\s)make\s", run) for run in runs):
                continue
            where = f"{workflow.relative_to(project)}: job {job_name}"
            assert str(steps[0].get("uses", "")).startswith("actions/checkout@"), where
            assert runs[1] == "scripts/check-conflicts.sh", f"{where}: steps {runs}"
            checked.append(where)
    assert checked, "no workflow job runs make"
