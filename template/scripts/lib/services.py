#!/usr/bin/env python3
"""This project's services, as scripts/services.json describes them.

Template-owned: `make update` merges template changes. scripts/services.json is
rendered by the template from the `services` answer, so scripts read it and
never that answer. Standard library only, Python 3.9 or newer (macOS's own).

Usage: python3 scripts/lib/services.py COMMAND [ARG...]

  names [--kind api|worker]   every service's name, one a line
  field NAME FIELD            one field of a service (name, path, language,
                              kind, package, env, port, dev_port, framework,
                              word, upstream)
  table FIELD...              one line per service: those fields, tab-separated,
                              an empty one as - (so `read` keeps the columns)
  framework DIR               the test tool (pytest or vitest) of a folder's suites
  layout                      multi or single
  built-from                  read `docker compose config --format json` on
                              stdin; print "COMPOSE-SERVICE NAME" for each
                              compose service that builds from service NAME's
                              folder (the service, and any one-shot step,
                              built there or running the image built there)

A service folder added by hand (services/<name>/ with a pyproject.toml or a
package.json that scripts/services.json lacks) is listed after the template's
services; its language and framework come from that manifest, its port is
the template's container port (8000), and its kind, word, dev_port and
upstream are empty (the template does not know them).
That folder scan, and `framework` for a folder that is no service (the
cross-service tests at the root of the multi layout), are the only places
that decide a framework by which manifest a folder has.

From Python (scripts/update.py)::

    sys.path.insert(0, str(ROOT / "scripts" / "lib"))
    import services
    services.load(ROOT)["services"]   # the template's services only
    services.services(ROOT)           # and the hand-added ones

Exit codes: 0 done, 1 an unknown service or field, or an unreadable
scripts/services.json, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
REGISTRY = "scripts/services.json"
FIELDS = ("name", "path", "language", "kind", "package", "env", "port", "dev_port",
          "framework", "word", "upstream")
# The fallback only (hand-added folders, the multi layout's root): by manifest.
MANIFESTS = (("pyproject.toml", "python", "pytest"), ("package.json", "node", "vitest"))
# The port the template's services listen on in their container.
CONTAINER_PORT = 8000


class RegistryError(Exception):
    """scripts/services.json is missing or unreadable, or a lookup failed."""


def load(root: Path = ROOT) -> dict[str, Any]:
    """scripts/services.json as the template rendered it."""
    path = Path(root) / REGISTRY
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{REGISTRY} not found: restore it with "
                            f"`git checkout -- {REGISTRY}` (the template renders it)") from None
    except (OSError, ValueError) as error:
        raise RegistryError(f"{REGISTRY} is unreadable ({error}): restore it with "
                            f"`git checkout -- {REGISTRY}`") from None
    entries = data.get("services") if isinstance(data, dict) else None
    if not (isinstance(entries, list)
            and all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in entries)):
        raise RegistryError(f"{REGISTRY} is not the template's registry: restore it with "
                            f"`git checkout -- {REGISTRY}`")
    return data


def manifest_of(folder: Path) -> tuple | None:
    """(manifest, language, framework) of a folder's first manifest, or None."""
    return next((m for m in MANIFESTS if (folder / m[0]).is_file()), None)


def hand_added(root: Path, known: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """services/<name>/ folders with a manifest that the registry lacks, as registry entries."""
    paths = {str(s.get("path")) for s in known}
    found = []
    folders = Path(root) / "services"
    for folder in sorted(folders.iterdir()) if folders.is_dir() else []:
        path = f"services/{folder.name}"
        manifest = manifest_of(folder) if folder.is_dir() else None
        if path in paths or manifest is None:
            continue
        package = folder.name.replace("-", "_")
        found.append({
            "name": folder.name, "path": path, "language": manifest[1], "kind": "",
            "package": package, "env": package.upper(), "port": CONTAINER_PORT,
            "dev_port": None, "framework": manifest[2], "word": "", "upstream": "",
        })
    return found


def services(root: Path = ROOT) -> list[dict[str, Any]]:
    """The template's services, then those added by hand."""
    known = load(root)["services"]
    return [*known, *hand_added(root, known)]


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


def text(value: object) -> str:
    """A field as the shell reads it: None empty, everything else as JSON writes it, bare."""
    return "" if value is None else str(value)


def field(entry: dict[str, Any], name: str) -> str:
    if name not in FIELDS:
        raise RegistryError(f"no field '{name}'; the fields are: {' '.join(FIELDS)}")
    return text(entry.get(name))


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="services.py", description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("names", help="every service's name, one a line")
    listing.add_argument("--kind", choices=["api", "worker", "scheduler", "frontend"], default="")
    one = commands.add_parser("field", help="one field of a service")
    one.add_argument("name")
    one.add_argument("field")
    table = commands.add_parser("table", help="one line per service: the fields, tab-separated")
    table.add_argument("fields", nargs="+")
    suites = commands.add_parser("framework", help="the test tool of a folder's suites")
    suites.add_argument("dir", type=Path)
    commands.add_parser("layout", help="multi or single")
    commands.add_parser("built-from", help="compose services by the folder they build from")
    return main


def built_from(config: dict[str, Any], root: Path = ROOT) -> list[str]:
    """"COMPOSE-SERVICE NAME" for each compose service that builds from a service's folder."""
    folders = {(root / entry["path"]).resolve(): entry["name"] for entry in services(root)}
    specs = (config.get("services") or {}).items()
    found, images = [], {}
    for compose_name, spec in specs:
        context = (spec.get("build") or {}).get("context")
        name = folders.get(Path(context).resolve()) if context else None
        if name:
            found.append(f"{compose_name} {name}")
            if spec.get("image"):
                images[spec["image"]] = name
    # A one-shot step that runs the image another compose service builds
    # (`image:` alone, so the image is built once) is that folder's too.
    for compose_name, spec in specs:
        name = images.get(spec.get("image")) if not spec.get("build") else None
        if name:
            found.append(f"{compose_name} {name}")
    return found


def run(args: argparse.Namespace, root: Path) -> list[str]:
    if args.command == "names":
        return names(root, args.kind)
    if args.command == "field":
        return [field(service(args.name, root), args.field)]
    if args.command == "table":
        return ["\t".join(field(entry, name) or "-" for name in args.fields)
                for entry in services(root)]
    if args.command == "framework":
        return [framework(args.dir, root)]
    if args.command == "built-from":
        try:
            return built_from(json.load(sys.stdin), root)
        except ValueError as error:
            raise RegistryError(f"built-from: stdin is no compose config JSON ({error})") from error
    return [text(load(root).get("layout"))]


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    args = parser().parse_args(argv)
    try:
        lines = run(args, root)
    except RegistryError as error:
        print(f"services.py: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
