"""Update layer: projects rendered from older template versions update to HEAD.

For every supported layout and every older tag of the synthetic history
(template_history.py): render, commit, edit like a team would (service code,
a new module and test, a deleted test, a Dockerfile LABEL, a compose env var,
README notes, and the integration script the template later renames), commit,
`copier update` to HEAD, then check that every user line is still there,
that every template-owned file is what the new version renders (plus the
user's lines), that the rename migration ran, and that nothing is left to
resolve. The slow tests run the updated project's unit stage.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import template_history as th
import update_project as up
from support import run

pytestmark = pytest.mark.slow  # renders older template versions and runs copier update

OLD_TAGS = ["v0.1.0", "v0.2.0"]
CASES = [pytest.param(layout, old, id=f"{layout}-from-{old}") for layout in up.LAYOUTS for old in OLD_TAGS]


def edits_after(case) -> up.Edits:  # noqa: ANN001
    """The user's edits where they belong after the update (the renamed script)."""
    return case.edits.moved({th.OLD_SCRIPT: th.NEW_SCRIPT})


@pytest.mark.parametrize(("layout", "old"), CASES)
def test_update_keeps_every_user_edit(updated, layout: str, old: str) -> None:
    case = updated(layout, old)
    problems = up.missing_lines(case.project, edits_after(case))
    assert not problems, "the update lost user edits:\n" + "\n".join(problems)
    assert not up.leftovers(case.project), "unresolved update:\n" + "\n".join(up.leftovers(case.project))
    unmerged = up.git(case.project, "ls-files", "--unmerged")
    assert not unmerged, f"git still records conflicts:\n{unmerged}"
    # The project's own check agrees.
    run(["scripts/check-conflicts.sh"], cwd=case.project)


@pytest.mark.parametrize(("layout", "old"), CASES)
def test_update_brings_the_new_template_version(updated, owned, layout: str, old: str) -> None:
    case = updated(layout, old)
    drift = up.template_drift(case.project, case.expected, edits_after(case), owned)
    assert not drift, "template-owned files are not the new version:\n" + "\n".join(drift)
    answers = (case.project / ".copier-answers.yml").read_text()
    assert re.search(r"^_commit: v0\.3\.0$", answers, re.MULTILINE), answers
    # The question v0.3.0 added got its default, which is what old projects had.
    assert re.search(rf"^{th.NEW_QUESTION}: slim$", answers, re.MULTILINE), answers
    folder = up.EDITED_SERVICE[layout][2]
    dockerfile = (case.project / folder / "Dockerfile").read_text()
    assert th.OLD_INTERVAL not in dockerfile, "the Dockerfile change of v0.3.0 is missing"


@pytest.mark.parametrize(("layout", "old"), CASES)
def test_rename_migration_ran(updated, layout: str, old: str) -> None:
    case = updated(layout, old)
    old_script, new_script = case.project / th.OLD_SCRIPT, case.project / th.NEW_SCRIPT
    assert not old_script.exists(), f"{th.OLD_SCRIPT} survived the update"
    assert new_script.is_file() and up.is_executable(new_script), f"{th.NEW_SCRIPT}: missing or not executable"
    makefile = (case.project / "Makefile").read_text()
    assert th.OLD_SCRIPT not in makefile and th.NEW_SCRIPT in makefile
    if old == "v0.1.0":
        assert "# team: keep the stack logs for a week" in new_script.read_text().splitlines()


def unit_stage(project: Path, layout: str) -> None:
    """The unit stage of the project, one service per language."""
    folders = ["services/api", "services/web"] if layout == "multi" else ["."]
    for folder in folders:
        run(["scripts/unit-tests.sh", folder], cwd=project, timeout=900)


@pytest.mark.slow
@pytest.mark.parametrize("layout", list(up.LAYOUTS))
def test_unit_stage_passes_after_update(updated, copy_of, layout: str) -> None:
    case = updated(layout, "v0.1.0")
    unit_stage(copy_of(case.project), layout)


# ---------------------------------------------------------------- conflicts
@pytest.mark.parametrize("mode", ["inline", "rej"])
def test_a_real_conflict_is_caught(history, tmp_path: Path, mode: str) -> None:
    """The user changed the very line the template changes: the check must fail, in both modes."""
    project = up.render(history.path, "v0.2.0", up.LAYOUTS["single-python"], tmp_path / "project")
    up.commit_all(project, "generated")
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(th.OLD_INTERVAL, "--interval=5s"))
    up.commit_all(project, "check more often")
    up.update(project, history.head, conflict=mode)
    found = up.leftovers(project)
    expected = "Dockerfile.rej: rejected hunks" if mode == "rej" else "Dockerfile: '<<<<<<< before updating'"
    assert expected in found, found
    result = subprocess.run(
        ["scripts/check-conflicts.sh", "--list"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 1, result
    assert ("Dockerfile.rej" if mode == "rej" else "Dockerfile:") in result.stdout, result.stdout


@pytest.mark.parametrize(("layout", "old"), CASES)
def test_the_update_leaves_its_report_and_no_render(updated, layout: str, old: str) -> None:  # noqa: ANN001
    """The after stage writes what make update's summary prints (hooks/update/report.py) and
    drops the renders it shared between its stages."""
    case = updated(layout, old)
    git_dir = case.project / ".git"
    report = json.loads((git_dir / "copier-update-report.json").read_text())
    assert (report["from"], report["to"]) == (old, "v0.3.0"), report
    assert any(path.endswith("Dockerfile") for path in report["merged"]), report["merged"]
    if (case.project / th.OLD_SCRIPT).exists() or old == "v0.1.0":
        assert th.NEW_SCRIPT in report["created"], report["created"]
    assert not (git_dir / "copier-update-renders").exists()


def test_an_update_to_the_same_release_changes_nothing(history, tmp_path: Path) -> None:  # noqa: ANN001
    """copier update to the version the project has (no make update in between: the CLI): the
    team's deleted file stays deleted and nothing else moves, without a render of the engine's own."""
    project = up.render(history.path, history.head, up.LAYOUTS["multi"], tmp_path / "project")
    up.commit_all(project, "generated")
    edits = up.user_edits(project, "multi")
    up.commit_all(project, "The team's edits")
    assert edits.deleted, "the team's edits delete a file of theirs: update this test"
    up.update(project, history.head)
    status = up.git(project, "status", "--porcelain", "--untracked-files=all")
    assert not status, f"a no-op update changed the project:\n{status}"
