"""Projects rendered at REAL earlier commits of this repository, with a team's edits, updated to HEAD.

The projects come from the `real_updated` fixture (real_history.py): the
default multi project at every commit of real_history.REAL_COMMITS and one
single-layout project, each edited like a team would and updated to the
working tree with `copier update --trust --defaults --conflict=inline`.
Their lint, unit stage and integration collection, then remove-service and
add-service: test_update_real_stages.py.

The named tests of issue 8 (the extension points): old projects had to
append their own targets to the template-owned Makefile and their notes to
README.md. After the update the Makefile includes the user-owned local.mk,
which holds the team's target (a migration moves it there), and README.md
is the team's: both edits survive with no conflict, and the target works.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import real_history as rh
import update_project as up
from support import TEMPLATE, project_files

HTTPX_IMPORT = re.compile(r"^[ \t]*(?:import[ \t]+(?:[\w.]+[ \t]*,[ \t]*)*|from[ \t]+)(httpx2?)\b", re.MULTILINE)
# Checked by the extension-point tests at the end, against that contract.
EXTENSION_FILES = ("Makefile", "README.md", rh.LOCAL_MAKEFILE)
TARGET_RULE = re.compile(rf"^{re.escape(rh.CUSTOM_TARGET)}:", re.MULTILINE)


@pytest.fixture(params=rh.project_params(rh.PROJECTS, packed=True))
def real(request: pytest.FixtureRequest, real_updated) -> rh.RealUpdate:  # noqa: ANN001
    return real_updated(*request.param)


@pytest.mark.slow
def test_the_team_code_and_tests_survive(real: rh.RealUpdate) -> None:
    problems = up.missing_lines(real.project, real.edits)
    assert not problems, f"update from {real.commit} lost edits:\n" + "\n".join(problems) + "\n" + real.output


@pytest.mark.slow
def test_the_summary_names_the_files_of_the_team_the_template_changed(real: rh.RealUpdate, owned) -> None:  # noqa: ANN001
    """make update's summary (the report the after stage writes) lists files of the team's that
    the update left as they are although the template changed them, with the template's diff:
    what it adds is what a fresh render of the new version has."""
    report = json.loads((real.project / ".git" / "copier-update-report.json").read_text())
    listed = {entry["path"]: entry["diff"] for entry in report["user_owned_changed"]}
    # The newest commit is recent: the template may not have changed a file of the team's since.
    assert listed or real.commit == rh.REAL_COMMITS[-1], f"no file of the team's changed since {real.commit}?"
    for path, diff in listed.items():
        assert owned(path) and (real.project / path).is_file(), path
        assert diff and diff.startswith(f"--- a/{path}\n"), diff
        fresh = (real.expected / path).read_text()
        added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
        assert all(line in fresh for line in added), f"{path}: the diff adds lines the new version lacks"
    if real.commit == rh.REAL_COMMITS[0]:
        assert f"{real.service.base}src/{real.service.package}/main.py" in listed, sorted(listed)
    assert report["merged"], report


@pytest.mark.slow
def test_no_conflict_markers_or_rejects(real: rh.RealUpdate) -> None:
    result = subprocess.run(["bash", "scripts/check-conflicts.sh", "--list"], cwd=real.project,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), (
        f"scripts/check-conflicts.sh --list exited {result.returncode} after the update from {real.commit}:\n"
        f"{result.stdout}{result.stderr}\n{real.output}"
    )
    leftovers = up.leftovers(real.project)
    assert not leftovers, "\n".join(leftovers)


@pytest.mark.slow
def test_template_owned_files_equal_a_fresh_render(real: rh.RealUpdate, owned) -> None:  # noqa: ANN001
    problems = [p for p in up.template_drift(real.project, real.expected, real.edits, owned)
                if not p.startswith(tuple(f"{name}:" for name in EXTENSION_FILES))]
    assert not problems, (f"update from {real.commit} differs from a fresh render:\n" + "\n".join(problems)
                          + "\n" + real.output)


def imported_httpx(text: str) -> set[str]:
    return set(HTTPX_IMPORT.findall(text))


@pytest.mark.slow
def test_user_tests_import_the_http_client_the_new_template_installs(real: rh.RealUpdate) -> None:
    """The httpx -> httpx2 migration: user-owned tests import what their pyproject.toml installs."""
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.steps.switch_import import declared

    problems = []
    for folder in rh.python_projects(real.project):
        installed = declared(folder / "pyproject.toml") or set()
        for path in sorted((folder / "tests").rglob("*.py")):
            missing = imported_httpx(path.read_text()) - installed
            if missing:
                problems.append(f"{path.relative_to(real.project)} imports {', '.join(sorted(missing))}, "
                                f"which {folder.relative_to(real.project)}/pyproject.toml does not install")
    assert not problems, "\n".join(problems) + "\n" + real.output
    team_test = next(p for p in real.edits.added if p.endswith("test_team_live.py"))
    changed = f"{team_test}: imports httpx2 in place of httpx"
    if real.had_httpx:
        assert changed in real.output, f"the migration did not report {team_test}:\n{real.output}"
        assert "from httpx2 import Client" in (real.project / team_test).read_text()
    else:
        assert "in place of httpx" not in real.output, f"nothing to migrate from {real.commit}:\n{real.output}"


@pytest.mark.slow
def test_the_httpx_migration_is_idempotent(real: rh.RealUpdate, copy_of) -> None:  # noqa: ANN001
    project = copy_of(real.project)
    before = {p: (project / p).read_bytes() for p in project_files(project)}
    # The step itself, whether due or not: its content checks make a second run a no-op.
    code = ("import pathlib, sys; sys.path.insert(0, sys.argv[1]); from update.core import Context; "
            "from update.steps import switch_import; "
            "switch_import.apply(Context.load(pathlib.Path.cwd(), pathlib.Path(sys.argv[2])))")
    result = subprocess.run([sys.executable, "-c", code, str(TEMPLATE / "hooks"), str(TEMPLATE)], cwd=project,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr, f"a second run did something:\n{result.stderr}"
    after = {p: (project / p).read_bytes() for p in project_files(project)}
    assert after == before, "a second run changed: " + ", ".join(sorted(p for p in after if after[p] != before.get(p)))


@pytest.mark.slow
def test_custom_makefile_target_survives_update(real: rh.RealUpdate) -> None:
    makefile = (real.project / "Makefile").read_text()
    markers = up.MARKER_LINE.findall(makefile)
    assert not markers, f"conflict in the Makefile after the update from {real.commit}:\n{makefile}"
    local = real.project / rh.LOCAL_MAKEFILE
    assert local.is_file() and TARGET_RULE.search(local.read_text()), (
        f"{rh.LOCAL_MAKEFILE} does not define the team's target {rh.CUSTOM_TARGET} after the update "
        f"from {real.commit}:\n{local.read_text() if local.is_file() else '(no such file)'}\n{real.output}"
    )
    assert not TARGET_RULE.search(makefile), f"the template-owned Makefile still defines {rh.CUSTOM_TARGET}"
    assert makefile == (real.expected / "Makefile").read_text(), "the Makefile differs from a fresh render"
    result = up.make(real.project, rh.CUSTOM_TARGET)
    assert rh.CUSTOM_TARGET_OUTPUT in result.stdout, result.stdout + result.stderr
    listed = up.make(real.project, "help")
    assert rh.CUSTOM_TARGET in listed.stdout, f"make help does not list {rh.CUSTOM_TARGET}:\n{listed.stdout}"


@pytest.mark.slow
def test_readme_paragraph_survives_update(real: rh.RealUpdate) -> None:
    readme = (real.project / "README.md").read_text()
    markers = up.MARKER_LINE.findall(readme)
    assert not markers, f"conflict in README.md after the update from {real.commit}:\n{readme}"
    assert rh.README_PARAGRAPH in readme.splitlines(), f"README.md lost the team's paragraph:\n{readme}"


def test_a_shallow_checkout_is_refused_with_what_to_do(tmp_path) -> None:  # noqa: ANN001
    shallow = tmp_path / "shallow"
    up.git(tmp_path, "clone", "--quiet", "--depth=1", f"file://{TEMPLATE}", str(shallow))
    with pytest.raises(rh.RealHistoryError) as error:
        rh.clone(shallow, tmp_path / "clone")
    assert "need the full history (git fetch --unshallow" in str(error.value)
