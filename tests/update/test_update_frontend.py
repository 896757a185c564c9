"""Issue 14: a project without a frontend (node and python services) rendered before the
frontend kind existed updates to it with no change to its services: only the tooling
that learned the kind (scripts/update.py, scripts/lib/services.py, scripts/lint.py),
the answers file and the template's changelog change."""

from __future__ import annotations

import pytest
import update_project as up
from support import TEMPLATE

pytestmark = pytest.mark.slow  # renders older template versions and runs copier update

# The last commit of this repository before the frontend kind, and the last commit of
# the branch that brought it (merged whole into main): later changes (the node
# lifecycle, for one) change node services on purpose, so the update goes to there.
FRONTEND_BEFORE = "4a76f25"
FRONTEND_AFTER = "6307a0c"
EXPECTED = {".copier-answers.yml", "docs/template-changes.md", "scripts/update.py",
            "scripts/lib/services.py", "scripts/lint.py"}


@pytest.mark.parametrize(("layout", "answers"), [
    ("multi", {"services": "api worker:worker web:node", "components": ["postgres", "redis"],
               "ci_provider": "both"}),
    ("single", {"layout": "single", "services": "web:node", "components": ["postgres"],
                "ci_provider": "gitea"}),
], ids=["multi-mixed", "single-node"])
def test_update_changes_no_service(tmp_path, layout: str, answers: dict) -> None:  # noqa: ANN001
    project = up.render(TEMPLATE, FRONTEND_BEFORE, answers, tmp_path / "project")
    up.commit_all(project, "generated")
    up.update(project, FRONTEND_AFTER)
    changed = {line[3:] for line in up.git(project, "status", "--porcelain",
                                           "--untracked-files=all").splitlines()}
    assert "scripts/lint.py" in changed, f"the update did not reach the frontend kind: {changed}"
    assert changed <= EXPECTED, f"the update changed more than the tooling: {sorted(changed - EXPECTED)}"
    assert not up.leftovers(project), "\n".join(up.leftovers(project))
