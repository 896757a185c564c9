"""Refused input on the update side: make add-service / update in a generated project.

Every case runs the project's own Makefile and scripts/update.py against the
synthetic history (a real `copier update`, Copier from the test venv) and
asserts: a non-zero exit, the message on one `update:` line without a Python
traceback, and nothing changed (`git status` clean). The questions' own
refusals (copier copy) are in tests/render/test_questions.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import update_project as up
from support import TEMPLATE, project_env

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update import cli, core  # noqa: E402

# A multi project with one service: `layout: single` renders without error there,
# so only the answers-vs-files check stands between a hand edit and a flattened project.
ONE_SERVICE = {**up.LAYOUTS["multi"], "services": "api"}
NAME_RULE = "a service name is lowercase letters, digits and single dashes"


@pytest.fixture(scope="module")
def generated(history, tmp_path_factory) -> Path:  # noqa: ANN001
    project = up.render(history.path, history.head, ONE_SERVICE, tmp_path_factory.mktemp("refusals") / "project")
    up.commit_all(project, "generated")
    return project


def assert_refused(project: Path, result, message: str) -> None:  # noqa: ANN001
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode != 0, f"accepted:\n{output}"
    assert message in result.stderr, f"expected {message!r}:\n{output}"
    assert "Traceback" not in result.stderr, f"a traceback reached the user:\n{output}"
    status = up.git(project, "status", "--porcelain", "--untracked-files=all")
    assert not status, f"a refused command changed the project:\n{status}\n{output}"


ADD_SERVICE_REFUSED = {
    # Refused by scripts/update.py before Copier runs: NAME is one word, no options.
    "space": ("a b", f"'a b': {NAME_RULE}"),
    "options-in-name": ("billing:node", f"'billing:node': {NAME_RULE}"),
    "two-names": ("billing,audit", f"'billing,audit': {NAME_RULE}"),
    "upper": ("Billing", f"'Billing': {NAME_RULE}"),
    "line-separator-u2028": ("bill\u2028ing", f"'bill\\u2028ing': {NAME_RULE}"),
    "31-chars": ("b" * 31, "a service name has at most 30 characters"),
    "duplicate": ("api", "'api' is already a service"),
    # Refused by the template's `services` validator, inside copier update.
    "reserved": ("postgres", "update: Validation error for question 'services': 'postgres' is a reserved name; "
                             "nothing was changed"),
    "python-module": ("json", "'json' shadows a Python module; nothing was changed"),
}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "message"), ADD_SERVICE_REFUSED.values(), ids=ADD_SERVICE_REFUSED.keys())
def test_add_service_refuses_with_one_line(generated: Path, copy_of, name: str, message: str) -> None:  # noqa: ANN001
    project = copy_of(generated)
    result = up.make(project, "add-service", f"NAME={name}", ok=False)
    assert_refused(project, result, message)
    assert "uid=" not in result.stdout + result.stderr, "the name ran `id`"


@pytest.mark.slow
def test_add_service_name_never_reaches_a_shell(generated: Path, copy_of) -> None:  # noqa: ANN001
    """scripts/update.py itself (make would expand $(id) as a make variable first)."""
    project = copy_of(generated)
    copier = Path(sys.executable).parent / "copier"
    result = subprocess.run(
        [sys.executable, "scripts/update.py", "add-service", "a b$(id)"], cwd=project,
        capture_output=True, text=True, timeout=300, env=project_env(COPIER=str(copier)),
    )
    assert_refused(project, result, f"update: 'a b$(id)': {NAME_RULE}")
    assert "uid=" not in result.stdout + result.stderr, "the name ran `id`"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["a`id`", "it's`id`", "$$(id)"], ids=["backticks", "quote", "dollar"])
def test_make_passes_the_name_as_text(generated: Path, copy_of, name: str) -> None:  # noqa: ANN001
    """Through make: backticks, quotes and `$` in NAME reach update.py as text, never a shell."""
    project = copy_of(generated)
    result = up.make(project, "add-service", f"NAME={name}", ok=False)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "uid=" not in result.stdout + result.stderr, "the name ran `id`"
    shown = name.replace("$$", "$")
    assert f"'{shown}'" in result.stderr or shown in result.stderr, result.stderr
    assert not up.git(project, "status", "--porcelain")


@pytest.mark.slow
def test_traceback_on_request(generated: Path, copy_of) -> None:  # noqa: ANN001
    project = copy_of(generated)
    result = up.make(project, "add-service", "NAME=postgres", "TRACEBACK=1", ok=False)
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr, result.stderr
    assert not up.git(project, "status", "--porcelain")


HAND_EDITS = {
    # id: (answers-file line replaced, by, message)
    "layout-single-in-multi": (r"^layout: multi$", "layout: single",
                               "says layout: single, but the project has services/api/"),
    # Copier renders the old version with these answers first: its own validators refuse them.
    "layout-unknown": (r"^layout: multi$", "layout: triple", "'triple' is not in ['multi', 'single']; nothing was"),
    "services-refused": (r"^services: api$", "services: API",
                         "update: Validation error for question 'services': 'API': use a-z, 0-9, single -; nothing"),
}


@pytest.mark.slow
@pytest.mark.parametrize(("line", "edit", "message"), HAND_EDITS.values(), ids=HAND_EDITS.keys())
def test_update_refuses_a_hand_edited_answers_file(
    generated: Path, copy_of, line: str, edit: str, message: str  # noqa: ANN001
) -> None:
    project = copy_of(generated)
    answers = project / ".copier-answers.yml"
    text, count = re.subn(line, edit, answers.read_text(), flags=re.MULTILINE)
    assert count == 1, f"{line!r} not in the answers file:\n{answers.read_text()}"
    answers.write_text(text)
    up.commit_all(project, "hand edit")
    # REF: at the latest release plain `make update` has nothing to do and runs no update.
    release = re.search(r"^_commit: (\S+)$", text, re.MULTILINE)
    assert release, text
    result = up.make(project, "update", f"REF={release.group(1)}", ok=False)
    assert_refused(project, result, message)


# ------------------------------------------------ the check, without Copier
def files(root: Path, paths: list[str]) -> Path:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x\n")
    return root


CHECKED = {
    # id: (files, answers, fragment of the refusal or None when accepted)
    "multi-fine": (["services/api/Dockerfile"], {"layout": "multi", "services": "api"}, None),
    "single-fine": (["Dockerfile", "src/app/main.py"], {"layout": "single", "services": "app"}, None),
    "no-answers": (["Dockerfile"], {}, None),
    "single-over-multi-files": (["services/api/Dockerfile"], {"layout": "single", "services": "api"},
                                "says layout: single, but the project has services/api/"),
    "multi-over-single-files": (["Dockerfile", "src/app/main.py"], {"layout": "multi", "services": "app"},
                                "says layout: multi, but the service is at the project root"),
    "unknown-layout": (["Dockerfile"], {"layout": "both", "services": "app"}, "layout is 'both'"),
    "refused-services": (["services/api/Dockerfile"], {"layout": "multi", "services": "api postgres"},
                         "services is refused: 'postgres' is a reserved name"),
    # Answers the template accepted once and refuses now: Copier would replace them with defaults.
    "refused-name": (["services/api/Dockerfile"], {"layout": "multi", "services": "api", "project_name": "A\u2028B"},
                     "project_name is refused: U+2028 is a line break"),
    "refused-slug": (["services/api/Dockerfile"], {"layout": "multi", "services": "api", "project_slug": "acme\n"},
                     "project_slug is refused: a letter, then a-z, 0-9, single -"),
    "refused-registry": (["services/api/Dockerfile"],
                         {"layout": "multi", "services": "api", "registry": "ghcr.io/acme/"},
                         "registry is refused: like ghcr.io/acme: lowercase, no tag"),
    "fine-values": (["services/api/Dockerfile"],
                    {"layout": "multi", "services": "api", "project_name": "Acme", "project_slug": "acme",
                     "description": "Shop", "registry": "ghcr.io/acme"}, None),
}


@pytest.mark.parametrize(("paths", "answers", "error"), CHECKED.values(), ids=CHECKED.keys())
def test_check_answers_match_files(tmp_path: Path, paths: list[str], answers: dict, error: str | None) -> None:
    root = files(tmp_path, paths)
    if error is None:
        cli.check_answers_match_files(root, answers)
    else:
        with pytest.raises(core.MigrationError, match=re.escape(error)):
            cli.check_answers_match_files(root, answers)
