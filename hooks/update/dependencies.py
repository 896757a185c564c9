"""The template's dependency changes, applied to the user-owned manifests (every update).

The table and the record are hooks/dependencies.py's (the Jinja side, loaded by
Copier): see its docstring for how an update applies what the template changed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from dependencies import GROUPS, NPM, RECORD, STACK_TESTS, Deps, distribution

from update.core import Context, MigrationError, say

STAGE = "after"
COMMIT = None  # not a repair: every update applies the template's dependency changes


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

    old is None for a project from before the record: every template
    dependency the manifest lacks is added, nothing else changes.
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


def _record(text: str | bytes | None) -> dict[str, dict]:
    """{name: entry} of a dependencies.json text ({} when absent or unreadable)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("path"), str)}


def _head(root: Path, path: str) -> str | None:
    result = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=root, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


MANIFEST = {"python": "pyproject.toml", "node": "package.json", "ts": "package.json"}


def sync(ctx: Context) -> list[str]:
    """Apply the template's dependency changes to the user-owned manifests; the folders changed.

    Runs before the layout switch (which moves a single project's manifest):
    each service's manifest is edited where it still is, at its path of the
    previous version. The locks follow in :func:`refresh_locks`, after the switch.
    """
    root = ctx.root
    had = _head(root, RECORD)
    old = _record(had)
    try:
        new = _record((root / RECORD).read_text())
    except OSError:
        return []
    old_layout = ctx.old.get("layout", "multi")
    changed: list[str] = []
    rendered: list[Path | None] = []
    for name, entry in new.items():
        language = entry.get("language", "python")
        manifest = MANIFEST.get(language, "pyproject.toml")
        if had is not None:
            if name not in old:
                continue  # a new service: its manifest was just rendered from the table
            path = old[name]["path"]
            before = {g: dict(old[name].get(g) or {}) for g in GROUPS}
        else:
            # A project from before the record: its previous template version's manifest
            # says what the template declared then.
            if name == STACK_TESTS:
                path = "." if old_layout == "multi" else None
            else:
                path = "." if old_layout == "single" else f"services/{name}"
            if not rendered:
                rendered.append(_old_render(ctx))
            if path is None or rendered[0] is None or not (rendered[0] / path / manifest).is_file():
                continue  # not there in the previous version: rendered fresh now
            before = current(rendered[0] / path, language)
        folder = root / path
        have = current(folder, language)
        if have is None:
            say(f"{path}/{manifest}: unreadable, template dependency changes not applied")
            continue
        now = {g: dict(entry.get(g) or {}) for g in GROUPS}
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


def _old_render(ctx: Context) -> Path | None:
    """The project's previous template version, rendered with its previous answers (or None)."""
    try:
        return ctx.old_render()
    except MigrationError as error:
        say(f"could not render the previous template version ({error}): template dependency "
            "changes not applied; compare your manifests with scripts/dependencies.json")
        return None


def refresh_locks(root: Path) -> None:
    """Relock every folder whose manifest this update changed (or moved); write missing locks."""
    new = _record((root / RECORD).read_text()) if (root / RECORD).is_file() else {}
    stale = []
    for entry in new.values():
        manifest = f"{entry['path']}/{MANIFEST.get(entry.get('language', 'python'), 'pyproject.toml')}"
        manifest = manifest.removeprefix("./")
        path = root / manifest
        if path.is_file() and (_head(root, manifest) or "") != path.read_text():
            stale.append(entry["path"])
    lock = root / "scripts" / "lock.py"
    if lock.is_file():
        subprocess.run([sys.executable, str(lock), "--from-copier", "--missing", *stale], cwd=root)


def apply(ctx: Context) -> list[str]:
    """sync: the folders whose manifest the template's dependency changes reached."""
    return sync(ctx)
