"""The project's services: scripts/stack's registry, else the project's folders.

scripts/services.json is the project's registry of its layout and services,
rendered by the template from the same list as everything else; the runner
reads it, with the service folders added by hand, through scripts/stack (as
the stage scripts do). It scans the folders only when there is no registry
(a project in the middle of an update from a template version without one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stack import registry

LAYOUTS = ("multi", "single")


class PlanError(Exception):
    """The project or the options ask for something the runner cannot do."""


@dataclass
class Service:
    name: str
    path: str  # relative to the root: services/<name>, or "." in the single layout
    framework: str | None


def framework_of(folder: Path) -> str | None:
    """The test tool of a folder the registry does not describe, from its manifest."""
    manifest = registry.manifest_of(folder)
    return manifest[2] if manifest else None


def read_registry(root: Path) -> tuple[str, list[Service]]:
    """(layout, services) from scripts/services.json and the folders added by hand."""
    try:
        data = registry.load(root)
        entries = registry.services(root) if data.get("layout") == "multi" else data["services"]
    except registry.RegistryError as exc:
        raise PlanError(str(exc)) from None
    if data.get("layout") not in LAYOUTS:
        raise PlanError(f"{registry.REGISTRY}: 'layout' must be one of {', '.join(LAYOUTS)}")
    if not data["services"]:
        raise PlanError(f"{registry.REGISTRY}: 'services' must be a non-empty list")
    services = []
    for entry in entries:
        if not (isinstance(entry.get("path"), str) and entry["path"] and entry["name"]):
            raise PlanError(f"{registry.REGISTRY}: every service needs a 'name' and a 'path'")
        framework = entry.get("framework")
        if not isinstance(framework, str) or not framework:
            framework = framework_of(root / entry["path"])
        services.append(Service(entry["name"], entry["path"], framework))
    return data["layout"], services


def discover(root: Path) -> tuple[str, list[Service]]:
    """('multi', the services) or ('single', [the service at the root])."""
    if (root / registry.REGISTRY).is_file():
        return read_registry(root)
    folders = root / "services"
    found = [
        Service(d.name, f"services/{d.name}", framework_of(d))
        for d in sorted(folders.iterdir() if folders.is_dir() else [])
        if d.is_dir() and (d / "Dockerfile").is_file()
    ]
    if found:
        return "multi", found
    return "single", [Service(root.resolve().name, ".", framework_of(root))]
