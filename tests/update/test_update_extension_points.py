"""Extension points: the user's additions live in user-owned files and survive every update.

A synthetic history of its own (built from the working tree like
template_history.py's): v0.1.0 is the template from before the extension
points (no local.mk, no compose overrides, the tooling documentation in a
template-owned README.md), v0.2.0 the working tree, v0.3.0 the working tree
with a new Makefile target and changed documentation.

- A v0.1.0 project whose team appended a target to the Makefile and a
  paragraph to README.md updates to v0.2.0: the `extension-points`
  migration moves the target into local.mk, the Makefile becomes the fresh
  render, README.md stays the team's, nothing conflicts, `make <target>`
  works. An edit inside a template recipe stays, and the output says what
  to move.
- A v0.2.0 project with a target in local.mk, a paragraph in README.md and
  a deleted override updates to v0.3.0, which changes the Makefile and the
  docs: no conflict, the user's files untouched, the deleted one not back.
- Unit tests of the migration's Makefile split.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import template_history as th
import update_project as up
from support import TEMPLATE, project_env

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update import core, ownership  # noqa: E402
from update.makefile import split_makefile  # noqa: E402
from update.steps import extension_points  # noqa: E402

TAGS = ("v0.1.0", "v0.2.0", "v0.3.0")
LAYOUTS = ["multi", "single-node"]
OVERRIDES = {
    "multi": ["deploy/dev/docker-compose.override.yml", "deploy/prod/docker-compose.override.yml",
              "deploy/test/docker-compose.override.yml", "services/api/deploy/test/docker-compose.override.yml",
              "services/web/deploy/test/docker-compose.override.yml",
              "services/worker/deploy/test/docker-compose.override.yml"],
    "single-node": ["deploy/dev/docker-compose.override.yml", "deploy/prod/docker-compose.override.yml",
                    "deploy/test/docker-compose.override.yml"],
}
TEAM_TARGET = '\n.PHONY: team-hello\nteam-hello: ## greet the team\n\t@echo "hello from the team"\n'
TEAM_PARAGRAPH = "\n## Team notes\n\nDeploys happen on Tuesdays, never on Fridays.\n"
# What v0.3.0 changes in template-owned files next to where users add things.
NEW_TARGET = '\n.PHONY: doctor\ndoctor: ## check the tools this project needs\n\t@command -v uv docker\n'
NEW_DOC_LINE = "\nStack logs are kept in `.artifacts/` for a week.\n"


# ------------------------------------------------------------------ history
def without_extension_points(root: Path) -> None:
    """The template before the extension points: what projects made then look like."""
    config_path = root / "copier.yml"
    config = config_path.read_text()
    extension = ['  - "README.md"\n', '  - "local.mk"\n', '  - "deploy/*/docker-compose.override.yml"\n',
                 '  - "services/*/deploy/test/docker-compose.override.yml"\n']
    for line in extension:
        if line not in config:
            raise th.HistoryError(f"copier.yml _skip_if_exists lacks {line.strip()}: update {__file__}")
        config = config.replace(line, "")
    config_path.write_text(config)
    makefile = root / "template/Makefile.jinja"
    text = makefile.read_text()
    old = re.sub(r"\n\n# Your own targets[^\n]*\n-include local\.mk\n$", "\n", text)
    # The dev stack's command as it was then: the template's compose file alone.
    old = re.sub(r"# The dev stack:[^\n]*\n(?:#[^\n]*\n)*DEV = \$\(shell [^\n]*dev-compose\)\n",
                 "DEV := docker compose -f deploy/dev/docker-compose.yml\n", old)
    if old.count("\n") != text.count("\n") - 5:
        raise th.HistoryError(f"template/Makefile.jinja: no local.mk include or dev override: update {__file__}")
    makefile.write_text(old)
    (root / "template/local.mk").unlink()
    for override in (root / "template").rglob("docker-compose.override.yml.jinja"):
        override.unlink()
    shutil.move(root / "template/docs/development.md.jinja", root / "template/README.md.jinja")


def later_changes(root: Path) -> None:
    """v0.3.0: a new Makefile target and more tooling documentation."""
    makefile = root / "template/Makefile.jinja"
    text = makefile.read_text()
    include = "\n# Your own targets"
    makefile.write_text(text.replace(include, NEW_TARGET + include, 1))
    doc = root / "template/docs/development.md.jinja"
    doc.write_text(doc.read_text() + NEW_DOC_LINE)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> th.History:
    dst = tmp_path_factory.mktemp("history-extension-points") / "template"
    try:
        return th.build(TEMPLATE, dst, TAGS, {"v0.1.0": [without_extension_points], "v0.3.0": [later_changes]})
    except th.HistoryError as error:
        pytest.fail(str(error), pytrace=False)


def run_make(project: Path, *args: str) -> str:
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True,
                            env=project_env(), timeout=120)
    assert result.returncode == 0, f"make {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def assert_nothing_to_resolve(project: Path) -> None:
    assert not up.leftovers(project), "\n".join(up.leftovers(project))
    assert not up.git(project, "ls-files", "--unmerged"), "git records conflicts"


# ----------------------------------------------- projects from before them
@pytest.fixture(scope="module", params=LAYOUTS)
def migrated(request, history: th.History, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """A v0.1.0 project with a team target in its Makefile and notes in README.md, updated to v0.2.0."""
    layout = request.param
    tmp = tmp_path_factory.mktemp(f"migrated-{layout}")
    project = up.render(history.path, "v0.1.0", up.LAYOUTS[layout], tmp / "project")
    assert not (project / "local.mk").exists() and "local.mk" not in (project / "Makefile").read_text()
    up.commit_all(project, "generated")
    with (project / "Makefile").open("a") as makefile:
        makefile.write(TEAM_TARGET)
    with (project / "README.md").open("a") as readme:
        readme.write(TEAM_PARAGRAPH)
    up.commit_all(project, "the team's target and notes")
    readme_before = (project / "README.md").read_text()
    output = up.update_capturing(project, "v0.2.0")
    fresh = up.render(history.path, "v0.2.0", up.LAYOUTS[layout], tmp / "fresh")
    return layout, project, fresh, readme_before, output


@pytest.mark.slow
def test_old_makefile_additions_move_to_local_mk(migrated) -> None:  # noqa: ANN001
    layout, project, fresh, _, output = migrated
    assert_nothing_to_resolve(project)
    assert (project / "Makefile").read_text() == (fresh / "Makefile").read_text()
    local_mk = (project / "local.mk").read_text()
    assert local_mk.startswith((fresh / "local.mk").read_text()), "the starter comment of local.mk is kept"
    assert TEAM_TARGET.strip() in local_mk
    assert "targets team-hello" in output, output
    assert run_make(project, "team-hello").strip() == "hello from the team"
    assert re.search(r"^\s+team-hello\s+greet the team$", run_make(project, "help"), re.M)
    # The migration staged both (Copier diffs the index); after the update only the new local.mk
    # stays staged, so `git diff` shows the Makefile's whole change.
    staged = up.git(project, "diff", "--cached", "--name-only").split()
    assert "local.mk" in staged and "Makefile" not in staged, staged


@pytest.mark.slow
def test_old_readme_stays_the_users(migrated) -> None:  # noqa: ANN001
    _, project, fresh, readme_before, output = migrated
    assert (project / "README.md").read_text() == readme_before
    assert (project / "docs/development.md").read_text() == (fresh / "docs/development.md").read_text()
    assert "docs/development.md" in output and "README.md is yours" in output, output


@pytest.mark.slow
def test_new_extension_points_reach_old_projects(migrated) -> None:  # noqa: ANN001
    """Copier creates the overrides; after-update must not take them for files the user deleted."""
    layout, project, fresh, _, _ = migrated
    for rel in OVERRIDES[layout]:
        assert (project / rel).is_file(), f"{rel}: not created"
        assert (project / rel).read_text() == (fresh / rel).read_text(), rel


@pytest.mark.slow
def test_an_edit_inside_a_template_recipe_stays_and_is_reported(history: th.History, tmp_path: Path) -> None:
    project = up.render(history.path, "v0.1.0", up.LAYOUTS["single-python"], tmp_path / "project")
    up.commit_all(project, "generated")
    makefile = project / "Makefile"
    text = makefile.read_text()
    edited = text.replace("\t$(RUNNER) --stage unit\n", "\t$(RUNNER) --stage unit --verbose\n", 1)
    assert edited != text, "no unit recipe to edit: update this test"
    makefile.write_text(edited + TEAM_TARGET)
    up.commit_all(project, "the team's edits")
    output = up.update_capturing(project, "v0.2.0")
    assert_nothing_to_resolve(project)
    fresh = up.render(history.path, "v0.2.0", up.LAYOUTS["single-python"], tmp_path / "fresh")
    want = (fresh / "Makefile").read_text().replace("\t$(RUNNER) --stage unit\n",
                                                    "\t$(RUNNER) --stage unit --verbose\n", 1)
    assert makefile.read_text() == want, "the recipe edit is merged, the appended target moved"
    assert TEAM_TARGET.strip() in (project / "local.mk").read_text()
    assert re.search(r"Makefile, target `test-unit` \(line \d+ before the update\): your edit .* "
                     r"move it into local\.mk", output), output
    assert "+ \t$(RUNNER) --stage unit --verbose" in output, output


# ------------------------------------------------ projects that have them
@pytest.fixture(scope="module", params=LAYOUTS)
def extended(request, history: th.History, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """A v0.2.0 project: a target in local.mk, notes in README.md, the dev override deleted; updated to v0.3.0."""
    layout = request.param
    tmp = tmp_path_factory.mktemp(f"extended-{layout}")
    project = up.render(history.path, "v0.2.0", up.LAYOUTS[layout], tmp / "project")
    up.commit_all(project, "generated")
    with (project / "local.mk").open("a") as local_mk:
        local_mk.write(TEAM_TARGET)
    with (project / "README.md").open("a") as readme:
        readme.write(TEAM_PARAGRAPH)
    (project / "deploy/dev/docker-compose.override.yml").unlink()
    up.commit_all(project, "the team's target, notes, and no dev override")
    before = {rel: (project / rel).read_text() for rel in ("local.mk", "README.md")}
    up.update(project, "v0.3.0")
    fresh = up.render(history.path, "v0.3.0", up.LAYOUTS[layout], tmp / "fresh")
    return project, fresh, before


@pytest.mark.slow
def test_user_files_survive_template_changes_without_conflict(extended) -> None:  # noqa: ANN001
    project, fresh, before = extended
    assert_nothing_to_resolve(project)
    for rel, text in before.items():
        assert (project / rel).read_text() == text, f"{rel} changed"
    for rel in ("Makefile", "docs/development.md"):
        assert (project / rel).read_text() == (fresh / rel).read_text(), rel
    assert NEW_TARGET.strip() in (project / "Makefile").read_text()
    assert run_make(project, "team-hello").strip() == "hello from the team"
    listed = run_make(project, "help")
    assert "team-hello" in listed and "doctor" in listed


@pytest.mark.slow
def test_a_deleted_override_stays_deleted(extended) -> None:  # noqa: ANN001
    project, _, _ = extended
    assert not (project / "deploy/dev/docker-compose.override.yml").exists()
    assert (project / "deploy/test/docker-compose.override.yml").is_file()


# -------------------------------------------------------------- the split
PRISTINE = """\
.DEFAULT_GOAL := help
DEV := docker compose -f deploy/dev/docker-compose.yml

.PHONY: help
help: ## list the targets
\t@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \\
\t  sort

.PHONY: test-unit
test-unit: ## unit tests
\t$(RUNNER) --stage unit

.PHONY: build
build: ## build every image
\t$(DEV) build
"""


def with_lines(text: str, after: str, new: str) -> str:
    assert after in text
    return text.replace(after, after + new, 1)


@pytest.mark.parametrize(
    ("user", "moved", "kept_targets"),
    [
        pytest.param(PRISTINE + TEAM_TARGET, TEAM_TARGET.strip().splitlines(), [], id="appended-target"),
        pytest.param(with_lines(PRISTINE, "DEV := docker compose -f deploy/dev/docker-compose.yml\n",
                                "export TEAM := payments\n"), ["export TEAM := payments"], [],
                     id="variable-between-template-lines"),
        pytest.param(with_lines(PRISTINE, "\t$(RUNNER) --stage unit\n", TEAM_TARGET),
                     TEAM_TARGET.strip().splitlines(), [], id="target-between-template-rules"),
        pytest.param(PRISTINE + "\ninclude local.mk\n", [], [], id="own-include-dropped"),
        pytest.param(with_lines(PRISTINE, "\t$(RUNNER) --stage unit\n", "\t@echo done\n"), [], ["test-unit"],
                     id="line-added-to-a-template-recipe"),
        pytest.param(PRISTINE.replace("\t$(DEV) build\n", "\t$(DEV) build --pull\n"), [], ["build"],
                     id="template-line-changed"),
        pytest.param(with_lines(PRISTINE, "help: ## list the targets\n", "mine:\n"), [], ["help"],
                     id="rule-inserted-above-a-template-recipe"),
        pytest.param(with_lines(PRISTINE, "$(MAKEFILE_LIST) | \\\n", "\t  uniq | \\\n"), [], ["help"],
                     id="line-inside-a-continued-recipe-line"),
    ],
)
def test_split_makefile(user: str, moved: list[str], kept_targets: list[str]) -> None:
    split = split_makefile(user, PRISTINE)
    assert split.moved == moved
    assert [edit.target for edit in split.kept] == kept_targets
    if not kept_targets:
        assert split.makefile == PRISTINE, "the Makefile is the template's again"
    else:
        assert split.makefile == user, "edits that cannot move stay where they are"


def test_split_keeps_several_blocks_apart() -> None:
    user = with_lines(PRISTINE, ".DEFAULT_GOAL := help\n", "TEAM ?= payments\n") + TEAM_TARGET
    split = split_makefile(user, PRISTINE)
    assert split.moved == ["TEAM ?= payments", "", *TEAM_TARGET.strip().splitlines()]
    assert split.makefile == PRISTINE


def test_extension_points_leave_a_current_project_alone(tmp_path: Path) -> None:
    """A Makefile that includes local.mk: nothing to do, and no render of the old version."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "Makefile").write_text("all:\n\t@true\n\n-include local.mk\n" + TEAM_TARGET)
    (root / ".copier-answers.yml").write_text("_commit: v0.2.0\n_src_path: /nonexistent\n")
    up.commit_all(root, "current")
    assert extension_points.extension_points(context(root, tmp_path / "no-template", "v0.2.0")) == []
    assert not (root / "local.mk").exists()


def context(root: Path, template: Path, version_from: str) -> core.Context:
    answers = core.load_answers((root / ".copier-answers.yml").read_text())
    return core.Context(root, template, answers, {}, version_from)


def owned_by_user(path: str) -> bool:
    return path.endswith((".override.yml", "local.mk", "notes.txt"))


def test_new_user_files_are_those_the_old_version_did_not_render(tmp_path: Path) -> None:
    """An extension point of a project from before it is new; one the old version rendered and
    the project lacks was deleted by the user; the old version is rendered only when needed."""
    root = tmp_path / "project"
    (root / "deploy/dev").mkdir(parents=True)
    (root / "Makefile").write_text("all:\n\t@true\n")
    (root / "deploy/dev/docker-compose.yml").write_text("services: {}\n")
    up.commit_all(root, "old")
    assert ownership.new_user_files(root, owned_by_user, "multi", {}, lambda: pytest.fail("rendered")) == set()
    for rel in ("local.mk", "deploy/dev/docker-compose.override.yml", "deploy/dev/notes.txt"):
        (root / rel).write_text("created by the update\n")
    old_files = {"Makefile", "deploy/dev/docker-compose.yml", "deploy/dev/notes.txt"}
    assert ownership.new_user_files(root, owned_by_user, "multi", {}, lambda: set(old_files)) == {
        "local.mk", "deploy/dev/docker-compose.override.yml"}


def test_new_user_files_of_a_layout_switch_and_of_an_old_version_that_does_not_render(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """single -> multi: the old version's root files are the service's; a version that does not
    render keeps every created file, and says so."""
    root = tmp_path / "project"
    (root / "deploy/dev").mkdir(parents=True)
    (root / "Makefile").write_text("all:\n\t@true\n\n-include local.mk\n")
    (root / "deploy/dev/docker-compose.yml").write_text("services: {}\n")
    (root / "services/app/deploy/test").mkdir(parents=True)
    (root / "services/app/Dockerfile").write_text("FROM python:3.12-slim\n")  # moved by the switch
    up.commit_all(root, "current, the dev override deleted by the user")
    for rel in ("deploy/dev/docker-compose.override.yml", "services/app/deploy/test/docker-compose.yml",
                "services/app/deploy/test/docker-compose.override.yml", "services/app/notes.txt"):
        (root / rel).write_text("created by the update\n")
    single = {"layout": "single", "services": "app"}
    old_files = {"deploy/dev/docker-compose.override.yml", "notes.txt"}
    moved = {"notes.txt"}.__contains__  # the switch moves the service's own files, not the project's
    assert ownership.new_user_files(root, owned_by_user, "multi", single, lambda: set(old_files), moved) == {
        "services/app/deploy/test/docker-compose.override.yml"}

    def no_render() -> set[str]:
        raise core.MigrationError("cannot render the template: no such version")

    kept = ownership.new_user_files(root, owned_by_user, "multi", single, no_render, moved)
    assert kept == {"deploy/dev/docker-compose.override.yml", "services/app/notes.txt",
                    "services/app/deploy/test/docker-compose.override.yml"}
    assert "no such version" in capsys.readouterr().err


# ------------------------------------------------- the migration, no renders
def old_version(makefile: str | None):  # noqa: ANN201
    """A stand-in for core.render: the old version's Makefile, or a version that does not render."""

    def _render(template, ref, answers, dst, fallback=""):  # noqa: ANN001, ANN202
        if makefile is None:
            raise core.MigrationError("cannot render the template: no such version")
        dst.mkdir(parents=True)
        (dst / "Makefile").write_text(makefile)
        return dst

    return _render


def old_project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for rel, text in {**files, ".copier-answers.yml": "_commit: v0.1.0\nlayout: single\nservices: app\n"}.items():
        (root / rel).write_text(text)
    up.commit_all(root, "a project from before local.mk")
    return root


def test_extension_points_move_and_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = old_project(tmp_path, {"Makefile": PRISTINE + TEAM_TARGET})
    monkeypatch.setattr(core, "render", old_version(PRISTINE))
    report = extension_points.extension_points(context(root, TEMPLATE, "v0.1.0"))
    assert (root / "Makefile").read_text() == PRISTINE
    local_mk = (root / "local.mk").read_text()
    assert local_mk.startswith((TEMPLATE / "template/local.mk").read_text()) and TEAM_TARGET.strip() in local_mk
    assert sorted(up.git(root, "diff", "--cached", "--name-only").split()) == ["Makefile", "local.mk"]
    assert "targets team-hello" in report[0] and "docs/development.md" in report[-1], report


@pytest.mark.parametrize(
    ("files", "makefile", "said"),
    [
        pytest.param({}, None, "move your own targets and variables into local.mk by hand", id="no-old-render"),
        pytest.param({".gitignore": "local.mk\n"}, PRISTINE, "local.mk is ignored by git", id="ignored"),
    ],
)
def test_extension_points_change_nothing_when_they_cannot_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], makefile: str | None, said: str
) -> None:
    root = old_project(tmp_path, {"Makefile": PRISTINE + TEAM_TARGET, **files})
    monkeypatch.setattr(core, "render", old_version(makefile))
    report = extension_points.extension_points(context(root, TEMPLATE, "v0.1.0"))
    assert said in report[0], report
    assert not up.git(root, "status", "--porcelain", "--ignored"), "the project changed"
    if makefile is not None:
        assert "  team-hello: ## greet the team" in report, report
