"""The commands Copier runs (copier.yml `_migrations`), and two for template authors.

    before   before Copier renders, every update: refuse what the update cannot
             do (check), then the before steps (steps.BEFORE).
    after    after Copier renders, every update: the after steps (steps.AFTER,
             the layout switch among them), then keep the user-owned files:
             restore those the update deleted, drop those it re-created
             although the user had deleted them, merge the stack files by
             service when the services answer changed, list what remains of
             removed services, and refresh the locks (hooks/dependencies.py).
    check    before's refusals alone: a layout change Copier cannot do
             (multi -> single), an answers file whose layout the files
             contradict or whose services answer is refused (hand edits).
    answer NAME VALUE
             for a `before` entry of a release that adds a question whose
             default would change an old project: projects that never
             answered NAME get VALUE, the answer that keeps their old behaviour.

Copier runs each command in the project root and puts VERSION_FROM (the
`git describe` of the project's template version) into the environment.
``--template`` is ``{{ _copier_conf.src_path }}``: Copier's local checkout of
the new template version, which holds the old versions too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from answers import ANSWER_CHECKS
from gitutil import GitError
from services import ServicesError, parse

from update import report, steps
from update.core import ANSWERS_FILE, Context, MigrationError, forget_renders, say, set_answer
from update.dependencies import refresh_locks
from update.layout import check_layouts
from update.ownership import keep_user_files, removed_services
from update.ownership import report as report_kept
from update.services_edit import keep_service_edits, report_identity
from update.steps.extension_points import unstage_makefile


def check(ctx: Context) -> None:
    """Refuse what the update cannot do, before anything has moved."""
    check_answers_match_files(ctx.root, ctx.old)
    check_layouts(ctx.old, ctx.new)


def check_answers_match_files(root: Path, answers: dict) -> None:
    """Refuse an answers file the project's files contradict: a hand edit Copier would act on.

    Copier takes the answers file as the truth. A `layout` edited by hand
    would flatten a multi project or scatter a single one, and a refused
    `services` answer would silently fall back to the template's default.
    """
    if not answers:
        return
    layout = answers.get("layout", "multi")
    if layout not in ("multi", "single"):
        raise MigrationError(f"{ANSWERS_FILE}: layout is {layout!r}; it must be multi or single")
    folders = sorted(p.parent.name for p in root.glob("services/*/Dockerfile"))
    if layout == "single" and folders:
        raise MigrationError(
            f"{ANSWERS_FILE} says layout: single, but the project has services/{folders[0]}/: "
            "put back layout: multi (a multi project may have one service)"
        )
    if layout == "multi" and not folders and (root / "Dockerfile").is_file():
        raise MigrationError(
            f"{ANSWERS_FILE} says layout: multi, but the service is at the project root: "
            "put back layout: single, then run make switch-layout"
        )
    try:
        parse(answers.get("services", ""), layout)
    except ServicesError as error:
        raise MigrationError(f"{ANSWERS_FILE}: services is refused: {error}") from error
    # Copier drops an answer the new version refuses and takes the default instead.
    for name, error_of in ANSWER_CHECKS.items():
        if name in answers and (message := error_of(answers[name])):
            raise MigrationError(f"{ANSWERS_FILE}: {name} is refused: {message}")


def run(ctx: Context, entries: Sequence) -> None:
    """The entries of a stage in order, those due for this project."""
    for step in entries:
        if steps.due(step, ctx):
            ctx.changed += step.apply(ctx)


def before(ctx: Context) -> None:
    forget_renders(ctx.root)  # a failed update's
    check(ctx)
    run(ctx, steps.BEFORE)


def after(ctx: Context) -> None:
    try:
        check_layouts(ctx.old, ctx.new)
    except MigrationError as error:
        raise MigrationError(f"{error}. Undo this update with: git reset --hard && git clean -fd") from error
    try:
        run(ctx, steps.AFTER)
        finish(ctx)
        summarise(ctx)
    finally:
        forget_renders(ctx.root)


def summarise(ctx: Context) -> None:
    """What the update did and its summary, which the project's scripts/update.py prints and
    posts (hooks/update/report.py, summary.py); a failure costs the summary only."""
    try:
        renders = (None, None) if ctx.unchanged() else (ctx.old_render(), ctx.new_render())
        report.write(ctx.root, report.build(ctx.root, ctx.owned, *renders, ctx.version_from,
                                            str(ctx.new.get("_commit", ""))))
    except (MigrationError, GitError, OSError) as error:
        say(f"no update summary ({error})")


def finish(ctx: Context) -> None:
    """Every update ends so: the user-owned files kept, the stack files merged by service, locks."""
    root, old, new = ctx.root, ctx.old, ctx.new
    layout = new.get("layout", "multi")
    unstage_makefile(root)
    kept = keep_user_files(root, ctx.owned, layout, ctx.fresh)
    ctx.changed += kept.restored + kept.dropped
    identity = None
    if old.get("layout") == "multi" == layout and old.get("services") != new.get("services"):
        try:
            identity = keep_service_edits(ctx)
        except (MigrationError, GitError) as error:
            say(f"could not merge the stack files by service ({error}): check them in `git diff`")
        else:
            ctx.changed += identity.merged + list(identity.patches.values())
    report_kept(kept, removed_services(root, old, new))
    if identity is not None:
        report_identity(identity)
    # The manifests are the user's; the dependencies step edited them through uv
    # and npm: relock what changed, write missing locks.
    refresh_locks(root)


def guarded(action: Callable[[], object]) -> int:
    """Run action; a refusal or a failed git command is one line on stderr and exit code 1."""
    try:
        action()
    except (MigrationError, GitError) as error:
        print(f"migration failed: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--template", type=Path, default=Path(__file__).resolve().parent.parent.parent,
                        help="the template checkout ({{ _copier_conf.src_path }})")
    common.add_argument("--project", type=Path, default=Path.cwd(), help="the project root")
    parser = argparse.ArgumentParser(prog="hooks/update", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("before", "before Copier renders: check, then the before steps"),
                       ("check", "refuse an unsupported layout change or a hand-edited answers file")):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("--layout", default="", help="the layout asked for (empty: unchanged)")
        command.add_argument("--services", default="", help="the services asked for (empty: unchanged)")
    commands.add_parser("after", parents=[common], help="after Copier renders: the after steps, keep user files")
    answer = commands.add_parser("answer", parents=[common], help="answer a new question for an old project")
    answer.add_argument("name")
    answer.add_argument("value", help="a YAML scalar")
    args = parser.parse_args(argv)
    root = args.project.resolve()
    if args.command == "answer":
        return guarded(lambda: say(set_answer(root, args.name, args.value)))
    if args.command == "after":
        return guarded(lambda: after(Context.load(root, args.template)))
    given = {k: v for k, v in (("layout", args.layout), ("services", args.services)) if v}
    stage = before if args.command == "before" else check
    return guarded(lambda: stage(Context.load(root, args.template, new=given)))
