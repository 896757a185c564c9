"""Issue 14, TypeScript services: a project of node (JavaScript) and python services
rendered before the `ts` language updates to it with no change to its services: the
node sources became one text for both languages (partials/node/) and render as before;
only the tooling that learned the language, the answers file and the template's
changelog change."""

from __future__ import annotations

import pytest
import update_project as up
from support import TEMPLATE

pytestmark = pytest.mark.slow  # renders older template versions and runs copier update

# The last commit of this repository before the ts language, and the commit that
# brought it (merged whole into main): later changes may change node services on
# purpose, so the update goes to there.
TS_BEFORE = "89c1add"
TS_AFTER = "d709651"
EXPECTED = {".copier-answers.yml", "docs/template-changes.md", "Makefile", "scripts/lint.py",
            "scripts/lock.py", "scripts/update.py"}


@pytest.mark.parametrize("answers", [
    {"services": "api worker:worker web:node beat:node:scheduler jobs:node:worker",
     "components": ["postgres", "redis"], "ci_provider": "both"},
    {"layout": "single", "services": "web:node", "components": ["postgres"], "ci_provider": "gitea"},
], ids=["multi-node-lifecycle", "single-node"])
def test_update_changes_no_node_service(tmp_path, answers: dict) -> None:  # noqa: ANN001
    project = up.render(TEMPLATE, TS_BEFORE, answers, tmp_path / "project")
    up.commit_all(project, "generated")
    up.update(project, TS_AFTER)
    changed = {line[3:] for line in up.git(project, "status", "--porcelain",
                                           "--untracked-files=all").splitlines()}
    assert "scripts/lock.py" in changed, f"the update did not reach the ts language: {changed}"
    assert changed <= EXPECTED, f"the update changed more than the tooling: {sorted(changed - EXPECTED)}"
    assert not up.leftovers(project), "\n".join(up.leftovers(project))
