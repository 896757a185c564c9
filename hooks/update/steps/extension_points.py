"""Projects from before local.mk: the team's additions to the Makefile move there.

Since 4603017 the template's Makefile ends with `-include local.mk`, a file
of the team's. In a project from before, the additions to the Makefile move
to local.mk before Copier diffs the project, so the Makefile merges without
conflict; edits inside template recipes stay, with what to move by hand. A
no-op once the Makefile includes local.mk. README.md is the user's from then
on: one line says where the tooling's documentation went.
"""

from __future__ import annotations

from pathlib import Path

from gitutil import GitError, git
from gitutil import paths as git_paths
from gitutil import run as run_git
from gitutil import show as head_file

from update.core import Context, MigrationError, say
from update.makefile import LOCAL_MK, RULE, describe, includes_local_mk, split_makefile

# The change: 4603017; this repair since 6a18266 (projects updated in between lack it).
COMMIT = "6a18266"
STAGE = "before"
MOVED_HEADER = (
    "\n# Moved here from the Makefile by `make update` (the template now includes\n"
    "# this file at the end of its Makefile): your additions, as you wrote them.\n"
)


def unstage_makefile(root: Path) -> None:
    """Unstage the Makefile extension_points staged for Copier's diff: git diff shows its whole update."""
    makefile = head_file(root, "Makefile")
    if makefile is None or includes_local_mk(makefile) or git(root, "ls-files", "--unmerged", "--", "Makefile"):
        return
    git(root, "reset", "--quiet", "--", "Makefile")


def extension_points(ctx: Context) -> list[str]:
    """Before the update of a project from before local.mk: move its Makefile additions there.

    Runs before Copier diffs the project against the old render (it diffs
    the index), so the moved lines are staged: Copier then sees a Makefile
    without them and a local.mk of the user's, and the Makefile updates
    without conflict. When they cannot move (the old version does not
    render, local.mk is git-ignored) nothing changes and the report says
    what to move by hand.
    """
    root, template = ctx.root, ctx.template
    user = head_file(root, "Makefile")
    if user is None or includes_local_mk(user):
        return []
    readme = ["README.md is yours from now on: this and later updates leave it as it is. "
              "The template's documentation of the tooling (targets, tests, releases, updating, "
              "extension points) is docs/development.md now: link it from README.md and delete "
              "what you no longer need there."]
    try:
        pristine = ctx.old_render()
    except (MigrationError, GitError) as error:
        return [f"your additions to the Makefile stay in it ({error}): move your own targets and "
                f"variables into {LOCAL_MK} by hand, the Makefile includes it now"] + readme
    base = (pristine / "Makefile").read_bytes() if (pristine / "Makefile").is_file() else None
    if base is None or includes_local_mk(base):
        return readme  # the old version had no Makefile, or the user removed the include
    split = split_makefile(user.decode(errors="surrogateescape"), base.decode(errors="surrogateescape"))
    report = []
    ignored = bool(split.moved) and run_git(root, "check-ignore", "--quiet", "--", LOCAL_MK,
                                            check=False).returncode == 0
    if ignored:
        report.append(f"{LOCAL_MK} is ignored by git, so your additions stay in the Makefile: "
                      f"move these lines into {LOCAL_MK} yourself (or un-ignore it):")
        report += [f"  {line}" for line in split.moved]
    elif split.moved or split.dropped_includes:
        staged = ["Makefile"]
        if split.moved:
            local = root / LOCAL_MK
            starter = template / "template" / LOCAL_MK
            text = local.read_text() if local.is_file() else starter.read_text() if starter.is_file() else ""
            text += "\n" if text and not text.endswith("\n") else ""
            local.write_text(text + MOVED_HEADER + "\n".join(split.moved) + "\n",
                             encoding="utf-8", errors="surrogateescape")
            staged.append(LOCAL_MK)
            targets = [m.group(0).rstrip(":") for line in split.moved if (m := RULE.match(line))
                       and not line.startswith(".")]
            report.append(f"moved your additions to the Makefile into {LOCAL_MK} (yours; the Makefile "
                          "includes it)" + (f": targets {', '.join(targets)}" if targets else ""))
        (root / "Makefile").write_bytes(split.makefile.encode(errors="surrogateescape"))
        git(root, "add", "--", *staged)
        if split.dropped_includes:
            report.append(f"dropped your include of {LOCAL_MK} from the Makefile: the template's Makefile "
                          "includes it now")
    for edit in split.kept:
        report += describe(edit)
    return report + readme


def apply(ctx: Context) -> list[str]:
    for line in extension_points(ctx):
        say(line)
    # What it moved is staged (Copier diffs the index).
    return git_paths(ctx.root, "diff", "--cached", "--name-only", "--", "Makefile", LOCAL_MK)
