"""Which targets each stage runs, from the project's services."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

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
    planned: list[Stage] = []
    for stage in allowed:
        if stage == "unit":
            targets = [
                Target("unit", s.name, ["scripts/unit-tests.sh", s.path], s.framework)
                for s in found
            ]
        elif stage == "service":
            targets = [
                Target("service", s.name, ["scripts/test-service.sh", s.name], s.framework)
                for s in found
            ]
        else:
            name = integration_target(layout, found)
            if layout == "multi":
                framework = framework_of(root) or "vitest"
            else:
                framework = found[0].framework
            # The whole pipeline runs every optional member (the schedulers) too.
            command = [
                "scripts/run-integration-tests.sh",
                *(f"--with-{m}" for m in members or ["all"]),
            ]
            if suites:
                targets = [
                    Target("integration", suite_target(name, s), [*command, "--suite", s],
                           framework)
                    for s in suites
                ]
            else:
                targets = [Target("integration", name, command, framework)]
        planned.append(Stage(stage, targets))
    if stages:
        planned = [s for s in planned if s.name in stages]
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
    """This checkout's test instance id, as the stage scripts compute it ("" if unknown)."""
    script = root / "scripts" / "get-test-instance-id.sh"
    if not script.is_file():
        return ""
    try:
        found = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=30, cwd=root
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return found.stdout.strip() if found.returncode == 0 else ""


def report_dirs(
    root: Path, layout: str, found: Sequence[Service], instance: str, suites: Sequence[str] = ()
) -> dict[tuple[str, str], Path]:
    """(stage, target) -> the folder its stage script writes junit.xml to.

    The layout of scripts/unit-tests.sh, test-service.sh and
    run-integration-tests.sh: .artifacts/<instance>/{unit/<folder>,service-<name>,integration},
    integration-<suite> for a suite.
    """
    if not instance:
        return {}
    base = root / ".artifacts" / instance
    dirs = {}
    for service in found:
        dirs["unit", service.name] = base / "unit" / (root / service.path).resolve().name
        dirs["service", service.name] = base / f"service-{service.name}"
    dirs["integration", integration_target(layout, found)] = base / "integration"
    for suite in suites:
        dirs["integration", suite_target(integration_target(layout, found), suite)] = (
            base / f"integration-{suite}"
        )
    return dirs


def integration_suites(root: Path) -> list[str]:
    """The suites: folders of tests/integration/ (as scripts/lib/stack.sh lists them)."""
    folder = root / "tests" / "integration"
    if not folder.is_dir():
        return []
    return sorted(
        d.name
        for d in folder.iterdir()
        if d.is_dir() and not d.name.startswith((".", "_")) and d.name != "node_modules"
    )


def check_suites(root: Path, suites: Sequence[str]) -> None:
    """Refuse, in one line, a suite name that is no folder of tests/integration/."""
    known = integration_suites(root)
    unknown = [name for name in suites if name not in known]
    if unknown:
        raise PlanError(
            f"no suite {', '.join(unknown)} (a folder tests/integration/NAME/); "
            f"the suites are {', '.join(known) or 'none'}"
        )


def suite_target(base: str, suite: str) -> str:
    """The target of one integration suite: stack:NAME (single layout: <service>:NAME)."""
    return f"{base}:{suite}"


def integration_target(layout: str, found: Sequence[Service]) -> str:
    """The integration stage's one target: the whole stack, or the single service."""
    return "stack" if layout == "multi" else found[0].name
