"""The template's dependency changes, applied to the user-owned manifests (every update).

The table is hooks/dependencies.py's (the Jinja side, loaded by Copier): see its
docstring for how an update applies what the template changed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from dependencies import GROUPS, NPM, STACK_TESTS, Deps, distribution

from update.core import Context, MigrationError, say

STAGE = "after"
COMMIT = None  # not a repair: every update applies the template's dependency changes
REGISTRY = "scripts/services.json"


def current(folder: Path, language: str) -> Deps | None:
    """What the folder's manifest declares now ({group: {name: spec}}); None if unreadable."""
    try:
        if language in NPM:
            data = json.loads((folder / "package.json").read_text())
            return {"dependencies": dict(data.get("dependencies") or {}),
                    "dev": dict(data.get("devDependencies") or {})}
        import tomllib

        data = tomllib.loads((folder / "pyproject.toml").read_text())
    except (OSError, ValueError, ImportError):
        return None
    runtime = data.get("project", {}).get("dependencies", [])
    dev = data.get("dependency-groups", {}).get("dev", [])
    return {"dependencies": {distribution(r): r for r in runtime if isinstance(r, str)},
            "dev": {distribution(r): r for r in dev if isinstance(r, str)}}


def _same(language: str, a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    if language in NPM:
        return a.strip() == b.strip()
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def changes(language: str, old: Deps | None, new: Deps, have: Deps) -> tuple[list, list[str]]:
    """(edits, kept): edits are (group, name, spec or None to remove) the template made.

    old is None when the previous version's manifest is unreadable: every
    template dependency the manifest lacks is added, nothing else changes.
    """
    edits: list[tuple[str, str, str | None]] = []
    kept: list[str] = []
    for group in GROUPS:
        before = (old or {}).get(group, {}) if old is not None else None
        after = new.get(group, {})
        mine = have.get(group, {})
        if before is None:
            edits += [(group, name, spec) for name, spec in after.items() if name not in mine]
            continue
        for name in sorted(set(before) | set(after)):
            was, now = before.get(name), after.get(name)
            if _same(language, was, now):
                continue
            ours = mine.get(name)
            if _same(language, ours, was) or (was is None and ours is None):
                edits.append((group, name, now))
            elif not _same(language, ours, now):
                wanted = f"now {now}" if now is not None else "no longer declares it"
                kept.append(f"{name}: kept yours ({ours or 'removed'}); the template {wanted}")
    return edits, kept


def _command(language: str, group: str, name: str, spec: str | None) -> list[str]:
    if language in NPM:
        key = f"{'devDependencies' if group == 'dev' else 'dependencies'}.{name}"
        return ["npm", "pkg", "delete", key] if spec is None else ["npm", "pkg", "set", f"{key}={spec}"]
    dev = ["--dev"] if group == "dev" else []
    if spec is None:
        return ["uv", "remove", "--frozen", *dev, name]
    return ["uv", "add", "--frozen", *dev, spec]


def _head(root: Path, path: str) -> str | None:
    result = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=root, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


MANIFEST = {"python": "pyproject.toml", "node": "package.json", "ts": "package.json"}


def manifests(root: Path) -> dict[str, tuple[str, str]]:
    """{name: (folder, language)} of the project's manifests the template declares
    dependencies in: scripts/services.json's services, and in the multi layout the
    cross-service tests at the root ({} without a readable services.json)."""
    try:
        data = json.loads((root / REGISTRY).read_text())
        found = {str(s["name"]): (str(s["path"]), str(s.get("language", "python")))
                 for s in data["services"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {**found, STACK_TESTS: (".", "python")} if data.get("layout") == "multi" else found


def sync(ctx: Context) -> list[str]:
    """Apply the template's dependency changes to the user-owned manifests; the folders changed.

    What the template declared before is the manifest of the project's previous
    template version (rendered with its answers then), what it declares now is the
    new render's. Runs before the layout switch (which moves a single project's
    manifest): each service's manifest is edited where it still is, at its path of
    the previous version. The locks follow in :func:`refresh_locks`, after the switch.
    """
    root = ctx.root
    if ctx.unchanged():  # the same version and answers: the same dependencies
        return []
    old_layout, changed = ctx.old.get("layout", "multi"), []
    try:
        old_render, new_render = ctx.old_render(), ctx.new_render()
    except MigrationError as error:
        say(f"{error}: template dependency changes not applied")
        return []
    for name, (new_path, language) in manifests(root).items():
        manifest = MANIFEST.get(language, "pyproject.toml")
        if name == STACK_TESTS:
            path = "." if old_layout == "multi" else None
        else:
            path = "." if old_layout == "single" else f"services/{name}"
        if path is None or not (old_render / path / manifest).is_file():
            continue  # not there in the previous version: rendered fresh now
        before, now = current(old_render / path, language), current(new_render / new_path, language)
        folder = root / path
        have = current(folder, language)
        if have is None or now is None:
            say(f"{path}/{manifest}: unreadable, template dependency changes not applied")
            continue
        edits, kept = changes(language, before, now, have)
        for line in kept:
            say(f"{path}/{manifest}: {line}")
        for group, dep, spec in edits:
            cmd = _command(language, group, dep, spec)
            result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
            if result.returncode != 0:
                detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
                say(f"{path}: `{' '.join(cmd)}` failed ({detail}); apply it by hand")
                continue
            say(f"{path}: {' '.join(cmd)}")
            if path not in changed:
                changed.append(path)
    return changed


def refresh_locks(root: Path) -> None:
    """Relock every folder whose manifest this update changed (or moved); write missing locks."""
    stale = []
    for folder, language in manifests(root).values():
        manifest = f"{folder}/{MANIFEST.get(language, 'pyproject.toml')}".removeprefix("./")
        path = root / manifest
        if path.is_file() and (_head(root, manifest) or "") != path.read_text():
            stale.append(folder)
    lock = root / "scripts" / "lock.py"
    if lock.is_file():
        subprocess.run([sys.executable, str(lock), "--from-copier", "--missing", *stale], cwd=root)


def apply(ctx: Context) -> list[str]:
    """sync: the folders whose manifest the template's dependency changes reached."""
    return sync(ctx)
