"""Template-owned test helpers reach projects from before testkit/.

A synthetic history of its own (built from the working tree like
template_history.py's): v0.1.0 is the template from before testkit/, whose
user-owned conftest.py files and Node live tests carried their own copy of
wait_for/waitFor; v0.2.0 is the working tree.

Updating a v0.1.0 project to v0.2.0 creates testkit/, and the
`adopt-testkit` migration replaces every copy the team never changed by an
import (the files become what v0.2.0 renders); a changed copy stays and is
reported. Unit tests of the rewrite cover what a render does not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import template_history as th
import update_project as up
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update.steps import adopt_testkit  # noqa: E402

TAGS = ("v0.1.0", "v0.2.0")
SERVICE = "template/{% yield svc from service_list %}{{ svc.path }}{% endyield %}"
# The python service's conftest.py and pytest.ini bodies are partials: the
# multi layout's services/<name>/ files and the single layout's root files
# render them; the root templates hold the multi layout's own (cross-service) ones.
CONFTESTS = ("partials/service/tests/integration/conftest.py.jinja",
             "template/tests/integration/conftest.py.jinja")
# The node live test body is a partial shared by JavaScript and TypeScript services (issue 14).
NODE_LIVE = "partials/node/live-test.jinja"
PYTEST_INIS = ("partials/service/pytest.ini.jinja", "template/pytest.ini.jinja")
NEW_IMPORTS = "import os\nfrom collections.abc import Callable\n\nimport pytest\n\nfrom testkit import wait_for\n"
OLD_IMPORTS = ("import os\nimport time\nfrom collections.abc import Callable\nfrom typing import TypeVar\n\n"
               "import pytest\n\nT = TypeVar(\"T\")\n\n\n" + adopt_testkit.LEGACY_WAIT_FOR)
NEW_NODE = ("{%- if svc.heartbeat %}\n\nimport { waitFor } from '../../testkit/wait-for.js';\n"
            "{%- endif %}\n")
PYTHONPATH = "# testkit/ (template-owned test helpers) is importable from every test.\npythonpath = .\n"
ANSWERS = {
    "multi": {"layout": "multi", "services": "api worker:worker web:node tasks:node:worker",
              "components": ["redis"], "ci_provider": "none"},
    "single-python": up.LAYOUTS["single-python"],
    "single-node": {**up.LAYOUTS["single-node"], "services": "tasks:node:worker"},
}


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if text.count(old) != 1:
        raise th.HistoryError(f"{path}: expected {old[:40]!r} once: update {__file__}")
    path.write_text(text.replace(old, new))


def without_testkit(root: Path) -> None:
    """The template before testkit/: every test folder carries its own helper."""
    for folder in [p for p in (root / "template").rglob("*") if p.is_dir() and "testkit" in p.name]:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
    for conftest in CONFTESTS:
        replace(root / conftest, NEW_IMPORTS, OLD_IMPORTS)
    replace(root / NODE_LIVE, NEW_NODE, "\n" + adopt_testkit.LEGACY_WAIT_FOR_JS)
    for pytest_ini in PYTEST_INIS:
        replace(root / pytest_ini, PYTHONPATH, "")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> th.History:
    dst = tmp_path_factory.mktemp("history-testkit") / "template"
    try:
        return th.build(TEMPLATE, dst, TAGS, {"v0.1.0": [without_testkit]})
    except th.HistoryError as error:
        pytest.fail(str(error), pytrace=False)


def helper_files(project: Path) -> list[str]:
    return sorted(p.relative_to(project).as_posix() for p in project.rglob("*")
                  if p.is_file() and (p.name == "conftest.py" or p.name.endswith(".live.test.js")))


@pytest.mark.slow
@pytest.mark.parametrize("layout", sorted(ANSWERS))
def test_unchanged_helpers_become_imports(history: th.History, tmp_path: Path, layout: str) -> None:
    project = up.render(history.path, "v0.1.0", ANSWERS[layout], tmp_path / "project")
    files = helper_files(project)
    assert files and not list(project.rglob("testkit")), "v0.1.0 has no testkit: update this test"
    for rel in files:
        assert "ait_for(" in (project / rel).read_text() or "waitFor(" in (project / rel).read_text(), rel
    up.commit_all(project, "generated")
    output = up.update_capturing(project, "v0.2.0")
    fresh = up.render(history.path, "v0.2.0", ANSWERS[layout], tmp_path / "fresh")
    assert not up.leftovers(project), up.leftovers(project)
    for rel in files:
        assert (project / rel).read_text() == (fresh / rel).read_text(), f"{rel} is not what v0.2.0 renders"
        assert f"{rel}: imports the template's helper" in output, output
    testkits = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("testkit/*"))
    assert testkits and all((project / rel).is_file() for rel in testkits), testkits


@pytest.mark.slow
def test_a_changed_helper_stays_and_is_reported(history: th.History, tmp_path: Path) -> None:
    project = up.render(history.path, "v0.1.0", ANSWERS["multi"], tmp_path / "project")
    changed = project / "services/worker/tests/integration/conftest.py"
    text = changed.read_text()
    edited = text.replace("timeout: float = 30.0", "timeout: float = 90.0", 1)
    assert edited != text, "no timeout default to change: update this test"
    changed.write_text(edited)
    node = project / "services/tasks/tests/integration/worker.live.test.js"
    node_edited = node.read_text().replace("interval = 200", "interval = 500", 1)
    node.write_text(node_edited)
    up.commit_all(project, "generated, helpers tuned")
    output = up.update_capturing(project, "v0.2.0")
    assert changed.read_text() == edited
    assert node.read_text() == node_edited
    assert "services/worker/tests/integration/conftest.py: defines its own wait_for, changed" in output, output
    assert "services/tasks/tests/integration/worker.live.test.js: defines its own waitFor, changed" in output
    fresh = up.render(history.path, "v0.2.0", ANSWERS["multi"], tmp_path / "fresh")
    for rel in ("services/api/tests/integration/conftest.py", "tests/integration/conftest.py"):
        assert (project / rel).read_text() == (fresh / rel).read_text(), rel


# --------------------------------------------------------------- unit tests
OLD_CONFTEST = ('"""Fixtures."""\n\nfrom __future__ import annotations\n\n' + OLD_IMPORTS
                + '\n\n@pytest.fixture\ndef waiter():\n    return wait_for\n')


def test_python_rewrite_keeps_what_other_code_uses() -> None:
    text = OLD_CONFTEST.replace("    return wait_for\n", "    time.sleep(0)\n    return wait_for\n")
    new = adopt_testkit.adopt_testkit_python(text)
    assert new is not None and "import time\n" in new, "time is still used"
    assert "TypeVar" not in new and "def wait_for" not in new
    assert "import pytest\n\nfrom testkit import wait_for\n\n\n@pytest.fixture" in new, new
    assert adopt_testkit.adopt_testkit_python(new) is None, "a second run changes nothing"


def test_python_rewrite_refuses_a_changed_copy() -> None:
    with pytest.raises(adopt_testkit.ChangedHelper):
        adopt_testkit.adopt_testkit_python(OLD_CONFTEST.replace("interval: float = 0.2", "interval: float = 1.0"))
    assert adopt_testkit.adopt_testkit_python("import pytest\n") is None


def test_node_rewrite_imports_only_where_used() -> None:
    head = "import { it } from 'vitest';\n\n"
    legacy = adopt_testkit.LEGACY_WAIT_FOR_JS
    unused = adopt_testkit.adopt_testkit_node(head + legacy + "\nit('x', () => {});\n", "./t.js")
    assert unused == "import { it } from 'vitest';\n\nit('x', () => {});\n"
    used = adopt_testkit.adopt_testkit_node(head + legacy + "\nawait waitFor(f);\n", "./t.js")
    assert used == "import { it } from 'vitest';\n\nimport { waitFor } from './t.js';\n\nawait waitFor(f);\n"
