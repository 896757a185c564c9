"""Template-owned files the template renamed or moved: the user's edits follow them.

For a template-owned file that exists only in the old version, Copier applies
the user's diff to nothing and then deletes the file, so the user's edits
would vanish (or leave an orphan .rej). Each entry of RENAMES (since: the tag
or commit that renamed it) merges the user's edits of OLD three-way, like
Copier, into NEW, for projects made before `since`. tests/update/template_history.py
rebuilds the history of the one rename so far (v0.2.0).
"""

from __future__ import annotations

from typing import NamedTuple

from gitutil import GitError
from gitutil import show as head_file

from update.core import Context, MigrationError, contains, merge, say, settle, write_keeping_mode


class Rename(NamedTuple):
    since: str  # the tag or commit of this repository that renamed old to new
    old: str
    new: str


RENAMES = (
    Rename("v0.2.0", "scripts/integration.sh", "scripts/run-integration-tests.sh"),
)
COMMIT = RENAMES[-1].since  # a project with the latest has every rename
STAGE = "after"


def rename(ctx: Context, old: str, new: str) -> str:
    """Carry the user's edits of template-owned `old` (renamed by the template) to `new`."""
    root = ctx.root
    user = head_file(root, old)
    if user is None:
        return f"{old}: not in this project, nothing to carry over"
    settle(root, old)
    target = root / new
    base, problem = None, ""
    try:
        pristine = ctx.old_render()
    except (MigrationError, GitError) as error:
        problem = str(error)
    else:
        if (pristine / old).is_file():
            base = (pristine / old).read_bytes()
        else:
            problem = f"the old template version has no {old}"
    if base is not None and user == base:
        (root / old).unlink(missing_ok=True)
        return f"{old} -> {new}: renamed by the template (you had not edited it)"
    if base is None or not target.is_file():
        # Never lose the edits: keep the old file for the user to merge by hand.
        (root / old).write_bytes(user)
        problem = problem or f"this project has no {new}"
        say(f"kept your edited {old} ({problem}): merge it into {new} by hand, then delete it")
        return f"{old}: kept"
    merged, conflicted = merge(user, base, target.read_bytes())
    write_keeping_mode(target, merged)
    (root / old).unlink(missing_ok=True)
    if conflicted:
        say(f"CONFLICT in {new}: your edits of {old} meet template changes; resolve the markers")
    return f"{old} -> {new}: renamed by the template, your edits merged in"


def apply(ctx: Context) -> list[str]:
    changed = []
    for since, old, new in RENAMES:
        if contains(ctx.template, since, ctx.version_from) or head_file(ctx.root, old) is None:
            continue  # made after the rename, or never had the file
        say(rename(ctx, old, new))
        changed += [old, new]
    return changed
