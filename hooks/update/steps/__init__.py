"""The ordered registry of what each stage of `copier update` runs.

A step is a module of this package: its docstring says what it repairs and
for which projects; COMMIT is the commit (short sha) or tag of the template
repository from which projects no longer need it: the commit that made the
step, when it came after the change it repairs (a project updated to a
version between the two has the change without the repair); STAGE is "before" or "after"; and
``apply(ctx) -> list[str]`` returns the paths it changed, and does nothing
where there is nothing to do (content checks). It prints one line per file
it touched (core.say), nothing otherwise.

due(step, ctx): a step runs for a project whose recorded template version
(VERSION_FROM, the old `_commit`) does not contain COMMIT; when git cannot
tell (either commit unknown to the template checkout: a fork, a synthetic
history), it runs and its content checks keep it a no-op. An entry whose
COMMIT is None is part of every update (sync of the dependencies, the layout
switch, adding llm): it always runs.

The order is the order the entries run in: add a step where it belongs.
"""

from __future__ import annotations

from types import ModuleType

from update import dependencies, layout
from update.core import Context, contains
from update.steps import (
    adopt_testkit,
    extension_points,
    keep_ports,
    lint_clean_tests,
    llm,
    old_ruff_tables,
    one_shot_steps,
    renames,
    secret_names,
    secret_settings,
    switch_import,
)

# Before Copier renders (after core's check): what must change before it diffs the project.
BEFORE: list[ModuleType] = [keep_ports, extension_points]
# After Copier's render; the end of the stage (cli.finish) keeps the user's files and relocks.
AFTER: list[ModuleType] = [
    renames,
    dependencies,  # every update: the template's dependency changes, at the manifests' old paths
    switch_import,
    adopt_testkit,
    lint_clean_tests,
    one_shot_steps,
    layout,  # every update: single -> multi, and which user-owned files are new
    llm,
    secret_settings,
    secret_names,
    old_ruff_tables,
]


def due(step: ModuleType, ctx: Context) -> bool:
    """Whether the step runs for this project (see the module's docstring)."""
    commit = step.COMMIT
    return commit is None or contains(ctx.template, commit, ctx.version_from) is not True
