"""`make lint` runs eslint: the Node live tests older templates wrote do not pass it.

Before 7ed5d92 an api's live test imported execFileSync and never called it,
and a worker's imported expect and defined requiredEnv without using them
(eslint's no-unused-vars). Text the team never changed becomes today's (a
no-op once it is); a test changed there is left for `make lint` to show.
"""

from __future__ import annotations

import re
from pathlib import Path

from gitutil import paths as git_paths

from update.core import Context, tell

# The change: 7ed5d92; this repair since 5588bd6 (projects updated in between lack it).
COMMIT = "5588bd6"
STAGE = "after"
# The Node live tests as every template before `make lint` rendered them fail
# eslint's no-unused-vars: an api's test imports execFileSync and never calls
# it; a worker's imports expect and defines requiredEnv without using them.
UNUSED_EXEC_IMPORT = "import { execFileSync } from 'node:child_process';\n"
WORKER_TEST_START = "  it('reports healthy', async () => {\n    const health = () => {\n"
WORKER_TEST_START_NOW = (
    "  it('reports healthy', async () => {\n"
    "    // `docker compose ps` needs the stack the scripts started, not the folder's default one.\n"
    "    requiredEnv('COMPOSE_PROJECT_NAME');\n"
    "    const health = () => {\n")
WORKER_TEST_WAIT = re.compile(
    r"^(    await waitFor\(\(\) => health\(\) === 'healthy', \{[^\n]*\}\);\n)(  \}, 70_000\);\n)", re.M)


def lint_clean_node_test(text: str) -> str | None:
    """A Node live test as the template renders it now, or None when there is nothing to do."""
    new = text
    if UNUSED_EXEC_IMPORT in new and new.count("execFileSync") == 1:
        new = new.replace(UNUSED_EXEC_IMPORT, "", 1)
    # The worker's test calls the file's own requiredEnv (the template's tests define it).
    if (new.count(WORKER_TEST_START) == 1 and len(WORKER_TEST_WAIT.findall(new)) == 1
            and "function requiredEnv(" in new and "requiredEnv('COMPOSE_PROJECT_NAME')" not in new):
        new = new.replace(WORKER_TEST_START, WORKER_TEST_START_NOW, 1)
        new = WORKER_TEST_WAIT.sub(r"\1    expect(health()).toBe('healthy');\n\2", new, count=1)
    return None if new == text else new


def lint_clean_tests(root: Path) -> list[str]:
    """Rewrite the user-owned Node live tests that only the old template's text keeps from eslint."""
    report = []
    for rel in git_paths(root, "ls-files", "--", "*.live.test.js"):
        path = root / rel
        try:
            new = lint_clean_node_test(path.read_text())
        except (OSError, UnicodeDecodeError):
            continue
        if new is not None:
            path.write_text(new)
            report.append(f"{rel}: unused imports fixed as the template now writes them (make lint runs eslint)")
    return report


def apply(ctx: Context) -> list[str]:
    return tell(lint_clean_tests(ctx.root))
