"""Stacks gained one-shot <name>-migrate steps: the stack test stops expecting them to run.

The user-owned tests/integration/test_stack.py of projects before 0301f50
expects a running container for every compose service; the one-shot steps
have exited by then. Its unchanged `expected = ...` line skips them (a
no-op otherwise).
"""

from __future__ import annotations

from pathlib import Path

from update.core import Context, say

COMMIT = "0301f50"
STAGE = "after"
# The cross-service test of older projects expects a running, healthy container
# for every service of the stack; one-shot migrate steps have exited by then.
STACK_TEST = "tests/integration/test_stack.py"
OLD_EXPECTED = '    expected = set(compose("config", "--services").split())\n'
NEW_EXPECTED = (
    "    # One-shot steps (<name>-migrate) have run and exited: they are not expected here.\n"
    '    expected = {name for name in compose("config", "--services").split()\n'
    '                if not name.endswith("-migrate")}\n'
)


def skip_one_shot_steps(root: Path) -> list[str]:
    """The user-owned stack test's expected services without the one-shot steps. The report."""
    path = root / STACK_TEST
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    if OLD_EXPECTED not in text:
        return []
    path.write_text(text.replace(OLD_EXPECTED, NEW_EXPECTED), encoding="utf-8")
    return [f"{STACK_TEST}: one-shot <name>-migrate steps are no longer expected to be running"]


def apply(ctx: Context) -> list[str]:
    report = skip_one_shot_steps(ctx.root)
    for line in report:
        say(line)
    return [STACK_TEST] if report else []
