"""The template's changes to user-owned sample code, merged into the team's copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from services import ServicesError, parse_services

from update.core import Context, MigrationError, merge, say, unified_diff, write_keeping_mode

# Settings that read secret files by name (cbb0ed9), as that version wrote them: what the
# secrets steps bring to older settings. Later versions rewrote the python settings whole
# (pydantic-settings, 4033464): a team's settings take that by choice (docs/template-changes.md),
# and a three-way merge of the rewrite into settings the team edited could only conflict.
SECRETS_BY_NAME = "cbb0ed9"


def settings_file(svc: dict) -> str:
    """A service's user-owned settings module, relative to its folder ("" when it has none)."""
    if svc["kind"] == "frontend":
        return ""
    if svc["language"] == "python":
        return "src/{package}/settings.py"
    return "src/config.ts" if svc["language"] == "ts" else "src/config.js"


def template_side(ctx: Context, target: str = "") -> Path:
    """What an update brings to user-owned samples: target's render with the new answers
    (the change as that commit made it), else, or where target is not in this template's
    history (a fork, a synthetic one), the new version's render. MigrationError: neither renders."""
    if target:
        try:
            return ctx.render(target, ctx.new)
        except MigrationError:
            pass
    return ctx.new_render()


def merge_samples(ctx: Context, topic: str, what: str, samples: Callable[[dict], list[str]],
                  by_hand: str, target: str = "") -> set[str]:
    """The template's changes to user-owned sample code merged into the team's copy.

    Three-way, per file (samples(svc): paths in the service's folder, {package}
    for its package): the previous template version's render with the old
    answers is the base, the new version's render with the new answers the
    template's side (target: the render of that template commit instead, when
    it renders; the change as that version made it, without later rewrites of
    the same file), the project's file the user's side. A clean merge is
    written; a conflicting one leaves the file as it is and says what to add.
    The paths merged or reported.
    """
    root, new, handled = ctx.root, ctx.new, set()
    try:
        services = parse_services(new.get("services", ""), new.get("layout", "multi"))
    except ServicesError:
        return handled
    try:
        base, ours = ctx.old_render(), template_side(ctx, target)
    except MigrationError as error:
        say(f"{topic}: could not render the template ({error}); {by_hand}")
        return handled
    for svc in services:
        folder = "" if svc["path"] == "." else f"{svc['path']}/"
        for pattern in samples(svc):
            path = folder + pattern.format(package=svc["package"])
            user, was, now = root / path, base / path, ours / path
            if not (user.is_file() and was.is_file() and now.is_file()):
                continue
            if was.read_bytes() == now.read_bytes():
                continue
            merged, conflicted = merge(user.read_bytes(), was.read_bytes(), now.read_bytes())
            handled.add(path)
            if conflicted:
                say(f"{topic}: {path} left as it was (your edits overlap the template's); "
                    f"add by hand:\n{unified_diff(path, was.read_text(), now.read_text())}")
                continue
            if merged != user.read_bytes():
                write_keeping_mode(user, merged)
                say(f"{topic}: {path}: {what}, merged into yours")
    return handled
