"""Settings written before the services read secret files (dbd23d3) learn to.

The prod stack gives services their passwords as files (DATABASE_PASSWORD_FILE
...): the user-owned settings read them (with_secrets / withSecrets), which
settings written by older versions do not. The template's reading is merged
into them three-way (samples.merge_samples); where it cannot be, one line
says what to do by hand.
"""

from __future__ import annotations

from pathlib import Path

from services import ServicesError, parse_services

from update.core import Context, say
from update.samples import SECRETS_BY_NAME, merge_samples, settings_file

# The change: dbd23d3; this repair since f545253 (projects updated in between lack it).
COMMIT = "f545253"
STAGE = "after"
SECRETS_MARKERS = {"python": "def with_secrets(", "node": "export function withSecrets("}


def lacks_secret_files(root: Path, svc: dict) -> bool:
    """The service's settings exist and do not read secret files yet."""
    pattern = settings_file(svc)
    if not pattern:
        return False
    folder = "" if svc["path"] == "." else f"{svc['path']}/"
    path = root / (folder + pattern.format(package=svc["package"]))
    runtime = "python" if svc["language"] == "python" else "node"
    try:
        return SECRETS_MARKERS[runtime] not in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def merge_secret_settings(ctx: Context) -> set[str]:
    """Older projects: the template's secret-file reading merged into the user's settings."""
    root, new = ctx.root, ctx.new
    try:
        services = parse_services(new.get("services", ""), new.get("layout", "multi"))
    except ServicesError:
        return set()
    if not any(lacks_secret_files(root, svc) for svc in services):
        return set()
    by_hand = "read NAME_FILE variables in your settings by hand (docs/deploy.md, Secrets)"
    lacking = [svc for svc in services if lacks_secret_files(root, svc)]
    handled = merge_samples(ctx, "secrets",
                            "secret files read (the prod stack gives passwords as files)",
                            lambda svc: [settings_file(svc)] if svc in lacking else [], by_hand=by_hand,
                            target=SECRETS_BY_NAME)
    for svc in lacking:
        folder = "" if svc["path"] == "." else f"{svc['path']}/"
        path = folder + settings_file(svc).format(package=svc["package"])
        if path not in handled:
            say(f"secrets: {path} does not read secret files yet, which the prod stack needs: {by_hand}")


# The settings of dbd23d3..12d2f24 (rendered then, or merged into older settings
# by an update to those versions) read EVERY NAME_FILE variable of the environment
    return handled


def apply(ctx: Context) -> list[str]:
    return sorted(merge_secret_settings(ctx))
