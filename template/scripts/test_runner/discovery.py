"""The project's services: from scripts/services.json, else from its folders.

scripts/services.json is the project's registry of its layout and services,
rendered by the template from the same list as everything else. The runner
reads it with json; it scans the folders only for what the registry lacks: a
services/<name>/ added by hand, or no registry at all (a project in the
middle of an update from a template version without one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "scripts/services.json"
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
    if (folder / "pyproject.toml").is_file():
        return "pytest"
    if (folder / "package.json").is_file():
        return "vitest"
    return None


def read_registry(root: Path) -> tuple[str, list[Service]] | None:
    """(layout, services) from scripts/services.json; None when there is none."""
    path = root / REGISTRY
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"{REGISTRY}: cannot read it: {exc}") from None
    if not isinstance(data, dict) or data.get("layout") not in LAYOUTS:
        raise PlanError(f"{REGISTRY}: 'layout' must be one of {', '.join(LAYOUTS)}")
    entries = data.get("services")
    if not isinstance(entries, list) or not entries:
        raise PlanError(f"{REGISTRY}: 'services' must be a non-empty list")
    services = []
    for entry in entries:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) and entry[key] for key in ("name", "path")
        ):
            raise PlanError(f"{REGISTRY}: every service needs a 'name' and a 'path'")
        framework = entry.get("framework")
        if not isinstance(framework, str) or not framework:
            framework = framework_of(root / entry["path"])
        services.append(Service(entry["name"], entry["path"], framework))
    return data["layout"], services


def scan_services(root: Path) -> list[Service]:
    """services/<name>/ folders with a Dockerfile, by name."""
    services_dir = root / "services"
    if not services_dir.is_dir():
        return []
    return [
        Service(d.name, f"services/{d.name}", framework_of(d))
        for d in sorted(services_dir.iterdir(), key=lambda d: d.name)
        if d.is_dir() and (d / "Dockerfile").is_file()
    ]


def discover(root: Path) -> tuple[str, list[Service]]:
    """('multi', the services) or ('single', [the service at the root])."""
    registered = read_registry(root)
    if registered is not None:
        layout, services = registered
        if layout == "multi":
            known = {s.name for s in services}
            services += [s for s in scan_services(root) if s.name not in known]
        return layout, services
    found = scan_services(root)
    if found:
        return "multi", found
    return "single", [Service(root.resolve().name, ".", framework_of(root))]
