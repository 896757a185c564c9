"""Which targets each stage runs, from the project's services."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import stack

from .discovery import PlanError, Service, discover, framework_of
from .parsing import make_parser
from .state import LAYOUT_STAGES, RunState, Stage, Target

__all__ = ["PlanError", "instance_id", "plan", "report_dirs"]


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
    check_suites(root, suites)
    allowed = LAYOUT_STAGES[layout]
    for stage in stages:
        if stage not in allowed:
            raise PlanError(
                f"stage {stage!r} does not exist in the {layout} layout; "
                f"choose from {', '.join(allowed)}"
            )
    whole = integration_target(layout, found)
    # The whole pipeline runs every optional member (the schedulers) too.
    stage3 = ["scripts/run-integration-tests.sh", *(f"--with-{m}" for m in members or ["all"])]
    framework = (framework_of(root) or "vitest") if layout == "multi" else found[0].framework
    commands = {
        "unit": [(s.name, ["scripts/unit-tests.sh", s.path], s.framework) for s in found],
        "service": [(s.name, ["scripts/test-service.sh", s.name], s.framework) for s in found],
        "integration": [(f"{whole}:{s}", [*stage3, "--suite", s], framework) for s in suites]
        or [(whole, stage3, framework)],
    }
    planned = [
        Stage(stage, [Target(stage, *target) for target in commands[stage]])
        for stage in allowed
        if not stages or stage in stages
    ]
    if suites and "integration" not in {s.name for s in planned}:
        raise PlanError("suites are run by the integration stage; it is not selected")
    if services:
        known = sorted({t.name for s in planned for t in s.targets})
        unknown = [name for name in services if name not in known]
        if unknown:
            raise PlanError(
                f"no target named {', '.join(unknown)}; the targets are {', '.join(known)}"
            )
        for stage in planned:
            stage.targets = [t for t in stage.targets if t.name in services]
        planned = [s for s in planned if s.targets]
    reports = report_dirs(
        root, layout, found, instance_id(root) if instance is None else instance, suites
    )
    for target in (t for s in planned for t in s.targets):
        target.parser = make_parser(target.framework)
        if reports:
            target.report = reports[target.stage, target.name] / "junit.xml"
    return RunState(root=root, layout=layout, stages=planned)


def instance_id(root: Path) -> str:
    """This checkout's test instance id, from the project's script ("" if unknown)."""
    script = root / "scripts" / "get-test-instance-id.sh"
    try:
        found = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=30, cwd=root
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return found.stdout.strip() if found.returncode == 0 and script.is_file() else ""


def report_dirs(
    root: Path, layout: str, found: Sequence[Service], instance: str, suites: Sequence[str] = ()
) -> dict[tuple[str, str], Path]:
    """(stage, target) -> the folder its stage script writes junit.xml to (scripts/stack)."""
    if not instance:
        return {}
    whole = integration_target(layout, found)
    dirs = {("integration", whole): stack.artifacts(instance, "integration", root=root)}
    for service in found:
        folder = (root / service.path).resolve().name
        dirs["unit", service.name] = stack.artifacts(instance, "unit", folder, root=root)
        dirs["service", service.name] = stack.artifacts(
            instance, "service", service.name, root=root
        )
    for suite in suites:
        dirs["integration", f"{whole}:{suite}"] = stack.artifacts(
            instance, "integration", suite, root=root
        )
    return dirs


def check_suites(root: Path, suites: Sequence[str]) -> None:
    """Refuse, in one line, a suite name that is no folder of tests/integration/."""
    known = stack.suites(root)
    unknown = [name for name in suites if name not in known]
    if unknown:
        raise PlanError(
            f"no suite {', '.join(unknown)} (a folder tests/integration/NAME/); "
            f"the suites are {', '.join(known) or 'none'}"
        )


def integration_target(layout: str, found: Sequence[Service]) -> str:
    """The integration stage's one target: the whole stack, or the single service."""
    return "stack" if layout == "multi" else found[0].name
