"""A project that adds the llm component: its lines reach the team's sample code.

Not a repair of one template change: every update that adds llm (the
components answer gains it) runs it, whatever version made the project, so
it has no COMMIT (steps.due runs it always; adds_llm keeps it a no-op
otherwise). The user-owned settings, main, worker, scheduler and models of
python services get the component's lines merged three-way (merge_samples),
and its Alembic revision llm_0001 goes on top of the team's own revisions
after 0001, so Alembic keeps one head (alembic.stack_llm_revision).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from update.alembic import stack_llm_revision
from update.core import Context, created
from update.samples import merge_samples

COMMIT = None
STAGE = "after"
# The llm component's user-owned files (hooks/files.py): new files of a project
# that adds llm, not files the user deleted.
LLM_FILES = ("src/*/runs.py", "migrations/versions/llm_0001_runs.py",
             "migrations/versions/llm_0002_leases.py",
             "tests/integration/test_llm_client.py", "tests/integration/test_llm_runs.py")
# User-owned sample code the llm component adds lines to (its routes, tasks,
# settings, tables): merged into the team's copy, never overwritten.
LLM_SAMPLES = ("src/{package}/settings.py", "src/{package}/main.py", "src/{package}/worker.py",
               "src/{package}/scheduler.py", "src/{package}/models.py",
               "tests/integration/conftest.py")


def adds_llm(old: dict, new: dict) -> bool:
    return "llm" not in (old.get("components") or ()) and "llm" in (new.get("components") or ())


def new_llm_files(root: Path, old: dict, new: dict) -> set[str]:
    """The llm component's user-owned files this update created, when it added llm."""
    if not adds_llm(old, new):
        return set()
    fresh = set()
    for path in created(root):
        parts = path.split("/")
        rest = "/".join(parts[2:]) if parts[0] == "services" and len(parts) > 2 else path
        if any(fnmatch.fnmatchcase(rest, pattern) for pattern in LLM_FILES):
            fresh.add(path)
    return fresh


def merge_llm_samples(ctx: Context) -> set[str]:
    """A project that adds llm: the component's lines merged into the user's sample code."""
    if not adds_llm(ctx.old, ctx.new):
        return set()
    return merge_samples(ctx, "llm", "the sample runs' lines",
                  lambda svc: list(LLM_SAMPLES) if svc["language"] == "python" else [],
                  by_hand="add the sample runs by hand (docs/development.md)")


def apply(ctx: Context) -> list[str]:
    changed = sorted(merge_llm_samples(ctx))
    fresh = new_llm_files(ctx.root, ctx.old, ctx.new)
    ctx.fresh |= fresh  # the whole sample comes with the component (files.WHOLE_SAMPLE_FILES too)
    return changed + stack_llm_revision(ctx.root, fresh)
