"""Which targets each stage runs: the services, suites and report folders from scripts/stack."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import stack
from stack import registry

from .parsing import make_parser
from .state import LAYOUT_STAGES, RunState, Stage, Target


class PlanError(Exception):
    """The project or the options ask for something the runner cannot do."""


def discover(root: Path) -> tuple[str, list[dict]]:
    """(layout, services) from scripts/stack's registry. Without scripts/services.json (a
    checkout that lacks it, such as one mid-update): the service folders with a manifest,
    else the single service at the root, named after its folder."""
    if (root / registry.REGISTRY).is_file():
        try:
            return registry.load(root)["layout"], registry.services(root)
        except registry.RegistryError as exc:
            raise PlanError(str(exc)) from None
    if found := registry.scanned(root):
        return "multi", found
    manifest = registry.manifest_of(root)
    return "single", [{"name": root.name, "path": ".", "framework": manifest and manifest[2]}]


def plan(
    root: Path,
    stages: Sequence[str] = (),
    services: Sequence[str] = (),
    instance: str | None = None,
    suites: Sequence[str] = (),
    members: Sequence[str] = (),
) -> RunState:
    """The stages and targets to run, in order, with the filters applied.

    instance: the test instance id (found with scripts/get-test-instance-id.sh
    when None; "" for none), which says where the targets' junit reports go.
    suites: integration suites (folders of tests/integration/), one target each
    on a stack of its own, instead of the one target of the whole folder.
    members: the optional stack members the integration stage starts (every
    one when empty).
    """
    layout, found = discover(root)
    known_suites = stack.suites(root)
    unknown = [name for name in suites if name not in known_suites]
    if unknown:
        raise PlanError(f"no suite {', '.join(unknown)} (a folder tests/integration/NAME/); "
                        f"the suites are {', '.join(known_suites) or 'none'}")
    allowed = LAYOUT_STAGES[layout]
    for stage in stages:
        if stage not in allowed:
            raise PlanError(f"stage {stage!r} does not exist in the {layout} layout; "
                            f"choose from {', '.join(allowed)}")
    instance = instance_id(root) if instance is None else instance
    # The integration stage's one target: the whole stack, or the single service.
    whole = "stack" if layout == "multi" else found[0]["name"]
    framework = found[0].get("framework")
    if layout == "multi":  # the cross-service tests at the root: by their manifest
        manifest = registry.manifest_of(root)
        framework = manifest[2] if manifest else "vitest"
    # The whole pipeline runs every optional member (the schedulers) too.
    stage3 = ["scripts/run-integration-tests.sh", *(f"--with-{m}" for m in members or ["all"])]
    # (stage, name, command, framework, where scripts/stack writes its junit report)
    targets = [("unit", s["name"], ["scripts/unit-tests.sh", s["path"]], s.get("framework"),
                ("unit", (root / s["path"]).resolve().name)) for s in found]
    targets += [("service", s["name"], ["scripts/test-service.sh", s["name"]], s.get("framework"),
                 ("service", s["name"])) for s in found]
    targets += [("integration", f"{whole}:{suite}", [*stage3, "--suite", suite], framework,
                 ("integration", suite)) for suite in suites]
    if not suites:
        targets.append(("integration", whole, stage3, framework, ("integration",)))
    planned = [Stage(stage, [Target(*t[:4]) for t in targets if t[0] == stage])
               for stage in allowed if not stages or stage in stages]
    if suites and "integration" not in {s.name for s in planned}:
        raise PlanError("suites are run by the integration stage; it is not selected")
    if services:
        known = sorted({t.name for s in planned for t in s.targets})
        unknown = [name for name in services if name not in known]
        if unknown:
            raise PlanError(f"no target named {', '.join(unknown)}; "
                            f"the targets are {', '.join(known)}")
        for stage in planned:
            stage.targets = [t for t in stage.targets if t.name in services]
        planned = [s for s in planned if s.targets]
    reports = {(t[0], t[1]): stack.artifacts(instance, *t[4], root=root) for t in targets}
    for target in (t for s in planned for t in s.targets):
        target.parser = make_parser(target.framework)
        if instance:
            target.report = reports[target.stage, target.name] / "junit.xml"
    return RunState(root=root, layout=layout, stages=planned)


def instance_id(root: Path) -> str:
    """This checkout's test instance id, from the project's script ("" if unknown)."""
    script = root / "scripts" / "get-test-instance-id.sh"
    try:
        found = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=30,
                               cwd=root)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return found.stdout.strip() if found.returncode == 0 and script.is_file() else ""
