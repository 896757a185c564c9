"""Projects from before `make lint` pass it once updated.

A project rendered at BEFORE_LINT (a real commit: the last one whose
projects had no scripts/lint.py) with a node api and a node worker gets
scripts/lint.py, eslint.config.js and the make target through the update;
its user-owned Node live tests, which the old template wrote with unused
imports, are rewritten by the `lint-clean-tests` migration, and `make lint`
passes. Unit tests of the rewrite cover what a render does not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import real_history as rh
import update_project as up
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update.steps import lint_clean_tests  # noqa: E402

# The last commit before the generated projects linted themselves (issue 10).
BEFORE_LINT = "0536200"
# The last commit of the session that made them lint themselves.
LINTED = "4a76f25"
ANSWERS = {**up.LAYOUTS["multi"], "services": "api worker:worker web:node tasks:node:worker"}
NODE_TESTS = ("services/web/tests/integration/api.live.test.js",
              "services/tasks/tests/integration/worker.live.test.js")


@pytest.mark.slow
def test_a_project_from_before_make_lint_passes_it(real_clone: rh.Clone, tmp_path: Path) -> None:
    project = up.render(real_clone.path, BEFORE_LINT, ANSWERS, tmp_path / "project")
    assert not (project / "scripts/lint.py").exists(), f"{BEFORE_LINT} has scripts/lint.py: update this test"
    up.commit_all(project, f"Generated from the template at {BEFORE_LINT}")
    output = rh.copier_update(project, real_clone.head)
    for rel in NODE_TESTS:
        assert f"{rel}: unused imports fixed" in output, output
    # The fixed file is the one the template rendered once the projects linted themselves
    # (LINTED), before later changes to the node tests (the lifecycle's postgres and redis).
    fresh = up.render(real_clone.path, LINTED, ANSWERS, tmp_path / "fresh")
    for rel in NODE_TESTS:
        assert (project / rel).read_text() == (fresh / rel).read_text(), f"{rel} is not what {LINTED} renders"
    for rel in ("scripts/lint.py", "services/web/eslint.config.js", "services/tasks/eslint.config.js"):
        assert (project / rel).is_file(), f"{rel} missing after the update\n{output}"
    up.commit_all(project, "Updated")
    result = up.make(project, "lint", ok=False, npm_config_prefer_offline="true")
    assert result.returncode == 0, f"make lint after the update:\n{result.stdout}\n{result.stderr}\n{output}"


OLD_API_TEST = """\
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function requiredEnv(name) {
  return process.env[name];
}
"""


def test_rewrite_drops_only_an_unused_import() -> None:
    new = lint_clean_tests.lint_clean_node_test(OLD_API_TEST)
    assert new == OLD_API_TEST.replace("import { execFileSync } from 'node:child_process';\n", "")
    assert lint_clean_tests.lint_clean_node_test(new) is None, "a second run changes nothing"
    used = OLD_API_TEST + "\nexecFileSync('true');\n"
    assert lint_clean_tests.lint_clean_node_test(used) is None, "an import the team uses stays"


def test_worker_rewrite_needs_the_template_text_and_requiredEnv() -> None:
    body = ("  it('reports healthy', async () => {\n    const health = () => {\n      return 'x';\n    };\n"
            "    await waitFor(() => health() === 'healthy', { timeout: 60_000, what: 'tasks healthy' });\n"
            "  }, 70_000);\n")
    new = lint_clean_tests.lint_clean_node_test("function requiredEnv(name) {\n}\n" + body)
    assert new is not None and "    requiredEnv('COMPOSE_PROJECT_NAME');\n" in new, new
    assert "what: 'tasks healthy' });\n    expect(health()).toBe('healthy');\n  }, 70_000);" in new, new
    assert lint_clean_tests.lint_clean_node_test(new) is None, "a second run changes nothing"
    assert lint_clean_tests.lint_clean_node_test(body) is None, "no requiredEnv to call: left alone"
    changed = body.replace("timeout: 60_000", "timeout: 90_000").replace("}, 70_000", "}, 100_000")
    assert lint_clean_tests.lint_clean_node_test("function requiredEnv(name) {\n}\n" + changed) is None
