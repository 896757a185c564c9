"""This project's services: scripts/services.json, then service folders added by hand.

The template renders scripts/services.json from the `services` answer, so
scripts read it and never that answer. A services/<name>/ with a
pyproject.toml or package.json that the file lacks is listed after the
template's services: language and framework from that manifest, the
template's container port (8000), no kind, word, dev_port or upstream.
That scan, and `framework` of a folder that is no service (the multi
layout's cross-service tests), are the only places that decide a framework
by which manifest a folder has. Import it as `services` (scripts/lib/services.py).
"""

from __future__ import annotations

import json
from collections.abc import Container
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
REGISTRY = "scripts/services.json"
MANIFESTS = (("pyproject.toml", "python", "pytest"), ("package.json", "node", "vitest"))
CONTAINER_PORT = 8000


class RegistryError(Exception):
    """scripts/services.json is missing or unreadable, or a lookup failed."""


def load(root: Path = ROOT) -> dict[str, Any]:
    """scripts/services.json as the template rendered it."""
    restore = f"restore it with `git checkout -- {REGISTRY}`"
    try:
        data = json.loads((Path(root) / REGISTRY).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{REGISTRY} not found: {restore} (the template renders it)") from None
    except (OSError, ValueError) as error:
        raise RegistryError(f"{REGISTRY} is unreadable ({error}): {restore}") from None
    entries = data.get("services") if isinstance(data, dict) else None
    if not (isinstance(entries, list) and all(isinstance(s, dict) for s in entries)):
        raise RegistryError(f"{REGISTRY} is not the template's registry: {restore}")
    if data.get("layout") not in ("multi", "single"):
        raise RegistryError(f"{REGISTRY}: 'layout' must be one of multi, single")
    if not entries:
        raise RegistryError(f"{REGISTRY}: 'services' must be a non-empty list")
    if not all(s.get("name") and isinstance(s.get("path"), str) and s["path"] for s in entries):
        raise RegistryError(f"{REGISTRY}: every service needs a 'name' and a 'path'")
    return data


def manifest_of(folder: Path) -> tuple | None:
    """(manifest, language, framework) of a folder's first manifest, or None."""
    return next((m for m in MANIFESTS if (folder / m[0]).is_file()), None)


def services(root: Path = ROOT) -> list[dict[str, Any]]:
    """The template's services, then those added by hand."""
    known = load(root)["services"]
    return [*known, *scanned(root, {str(s.get("path")) for s in known})]


def scanned(root: Path = ROOT, paths: Container[str] = ()) -> list[dict[str, Any]]:
    """The folders of services/ with a manifest, but for PATHS (the registry's)."""
    folders = Path(root) / "services"
    added = []
    for folder in sorted(folders.iterdir()) if folders.is_dir() else []:
        manifest = manifest_of(folder) if folder.is_dir() else None
        if manifest and f"services/{folder.name}" not in paths:
            package = folder.name.replace("-", "_")
            added.append({
                "name": folder.name, "path": f"services/{folder.name}", "language": manifest[1],
                "kind": "", "package": package, "env": package.upper(), "port": CONTAINER_PORT,
                "dev_port": None, "framework": manifest[2], "word": "", "upstream": "",
            })
    return added


def names(root: Path = ROOT, kind: str = "") -> list[str]:
    return [str(s["name"]) for s in services(root) if not kind or s.get("kind") == kind]


def service(name: str, root: Path = ROOT) -> dict[str, Any]:
    found = next((s for s in services(root) if s["name"] == name), None)
    if found is None:
        known = " ".join(names(root)) or "none"
        raise RegistryError(f"no service '{name}'; the services are: {known}")
    return found


def framework(folder: Path, root: Path = ROOT) -> str:
    """The test tool of a folder's suites: the registry's, else by the folder's manifest."""
    folder = Path(folder).resolve()
    for entry in services(root):
        if (Path(root) / str(entry["path"])).resolve() == folder:
            return str(entry["framework"])
    manifest = manifest_of(folder)
    if manifest is None:
        raise RegistryError(f"{folder} has neither pyproject.toml nor package.json")
    return manifest[2]


def built_from(config: dict[str, Any], root: Path = ROOT) -> list[tuple[str, str]]:
    """(compose service, service name) for each compose service built from a service's folder."""
    folders = {(Path(root) / entry["path"]).resolve(): entry["name"] for entry in services(root)}
    specs = (config.get("services") or {}).items()
    found, images = [], {}
    for compose_name, spec in specs:
        context = (spec.get("build") or {}).get("context")
        name = folders.get(Path(context).resolve()) if context else None
        if name:
            found.append((compose_name, name))
            images[spec.get("image")] = name
    # A one-shot step that runs the image another compose service builds
    # (`image:` alone, so the image is built once) is that folder's too.
    found += [(compose_name, images[spec["image"]]) for compose_name, spec in specs
              if not spec.get("build") and spec.get("image") in images]
    return found

