"""Layout detection, stage planning and the targets' environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import stack
from runner_fakes import RUNNER, registry_entry, write_registry
from test_runner import cli, parsing, planning, process


def make_service(root: Path, name: str, manifest: str | None = "pyproject.toml") -> None:
    folder = root / "services" / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM scratch\n")
    if manifest:
        (folder / manifest).write_text("{}\n")


def commands(state) -> list[tuple[str, str, str, str | None]]:
    return [(t.stage, t.name, " ".join(t.command), t.framework) for t in state.targets]


def test_multi_layout(tmp_path: Path) -> None:
    make_service(tmp_path, "worker")
    make_service(tmp_path, "web", "package.json")
    make_service(tmp_path, "api")
    (tmp_path / "services" / "shared").mkdir()  # no Dockerfile: not a service
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    state = planning.plan(tmp_path)
    assert state.layout == "multi"
    assert [s.name for s in state.stages] == ["unit", "service", "integration"]
    assert commands(state) == [
        ("unit", "api", "scripts/unit-tests.sh services/api", "pytest"),
        ("unit", "web", "scripts/unit-tests.sh services/web", "vitest"),
        ("unit", "worker", "scripts/unit-tests.sh services/worker", "pytest"),
        ("service", "api", "scripts/test-service.sh api", "pytest"),
        ("service", "web", "scripts/test-service.sh web", "vitest"),
        ("service", "worker", "scripts/test-service.sh worker", "pytest"),
        ("integration", "stack", "scripts/run-integration-tests.sh --with-all", "pytest"),
    ]
    assert isinstance(state.targets[1].parser, parsing.VitestParser)
    assert isinstance(state.targets[0].parser, parsing.PytestParser)


def test_multi_integration_without_pyproject_is_vitest(tmp_path: Path) -> None:
    make_service(tmp_path, "web", "package.json")
    assert planning.plan(tmp_path).targets[-1].framework == "vitest"


def test_registry_decides_the_services(tmp_path: Path) -> None:
    """scripts/services.json: its order, its frameworks, whatever the manifests say."""
    make_service(tmp_path, "web", "pyproject.toml")  # the registry says vitest
    make_service(tmp_path, "api", None)
    write_registry(
        tmp_path,
        "multi",
        [registry_entry("web", "services/web", "node"), registry_entry("api", "services/api", "python")],
    )
    state = planning.plan(tmp_path, stages=["unit"])
    assert commands(state) == [
        ("unit", "web", "scripts/unit-tests.sh services/web", "vitest"),
        ("unit", "api", "scripts/unit-tests.sh services/api", "pytest"),
    ]


def test_a_service_folder_the_registry_lacks_is_scanned(tmp_path: Path) -> None:
    make_service(tmp_path, "api")
    make_service(tmp_path, "extra", "package.json")  # added by hand, not (yet) registered
    write_registry(tmp_path, "multi", [registry_entry("api", "services/api", "python")])
    state = planning.plan(tmp_path, stages=["unit"])
    assert commands(state) == [
        ("unit", "api", "scripts/unit-tests.sh services/api", "pytest"),
        ("unit", "extra", "scripts/unit-tests.sh services/extra", "vitest"),
    ]


def test_single_layout_from_the_registry(tmp_path: Path) -> None:
    root = tmp_path / "my-project"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\n")  # the registry says vitest
    write_registry(root, "single", [registry_entry("gateway", ".", "node")])
    # An answers file is not read any more, whatever it says.
    (root / ".copier-answers.yml").write_text("_commit: v1\nservices: other:python\n")
    state = planning.plan(root)
    assert state.layout == "single"
    assert commands(state) == [
        ("unit", "gateway", "scripts/unit-tests.sh .", "vitest"),
        ("integration", "gateway", "scripts/run-integration-tests.sh --with-all", "vitest"),
    ]


def test_without_a_registry_the_single_service_is_named_after_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "my-project"
    root.mkdir()
    (root / "package.json").write_text("{}\n")
    (root / "services").mkdir()  # an empty services/ folder is no multi layout
    (root / ".copier-answers.yml").write_text("_commit: v1\nservices: web:node\n")
    state = planning.plan(root)
    assert state.layout == "single"
    assert commands(state) == [
        ("unit", "my-project", "scripts/unit-tests.sh .", "vitest"),
        ("integration", "my-project", "scripts/run-integration-tests.sh --with-all", "vitest"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "scripts/services.json is unreadable (Expecting property name"),
        ('{"layout": "both", "services": []}', "'layout' must be one of multi, single"),
        ('{"layout": "multi", "services": []}', "'services' must be a non-empty list"),
        ('{"layout": "multi", "services": [{"name": "api"}]}', "needs a 'name' and a 'path'"),
    ],
    ids=["not-json", "bad-layout", "no-services", "no-path"],
)
def test_a_broken_registry_is_a_plan_error(tmp_path: Path, text: str, message: str) -> None:
    make_service(tmp_path, "api")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "services.json").write_text(text)
    with pytest.raises(planning.PlanError, match=re.escape(message)):
        planning.plan(tmp_path)


def test_report_paths_follow_the_stage_scripts(tmp_path: Path) -> None:
    """Where scripts/stack's run_suite writes junit.xml for each target."""
    make_service(tmp_path, "api")
    write_registry(tmp_path, "multi", [registry_entry("api", "services/api", "python")])
    state = planning.plan(tmp_path, instance="main-1a2b")
    base = tmp_path / ".artifacts" / "main-1a2b"
    assert [(t.stage, t.name, t.report) for t in state.targets] == [
        ("unit", "api", base / "unit" / "api" / "junit.xml"),
        ("service", "api", base / "service-api" / "junit.xml"),
        ("integration", "stack", base / "integration" / "junit.xml"),
    ]
    assert all(t.report is None for t in planning.plan(tmp_path, instance="").targets)


def test_instance_id_comes_from_the_project_script(tmp_path: Path) -> None:
    assert planning.instance_id(tmp_path) == ""  # no script: no reports
    script = tmp_path / "scripts" / "get-test-instance-id.sh"
    script.parent.mkdir()
    script.write_text("echo feature-x-0c1d\n")
    assert planning.instance_id(tmp_path) == "feature-x-0c1d"
    single = tmp_path / "single"
    single.mkdir()
    (single / "pyproject.toml").write_text("[project]\n")
    state = planning.plan(single, instance="i")
    assert state.targets[0].report == single / ".artifacts" / "i" / "unit" / "single" / "junit.xml"


def test_filters(tmp_path: Path) -> None:
    for name in ("api", "web", "worker"):
        make_service(tmp_path, name)
    state = planning.plan(tmp_path, stages=["integration", "unit"], services=["worker", "stack"])
    assert [(t.stage, t.name) for t in state.targets] == [
        ("unit", "worker"),
        ("integration", "stack"),
    ]
    state = planning.plan(tmp_path, services=["api"])
    assert [(t.stage, t.name) for t in state.targets] == [("unit", "api"), ("service", "api")]


def test_filter_errors(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    with pytest.raises(planning.PlanError, match="'service' does not exist in the single layout"):
        planning.plan(tmp_path, stages=["service"])
    with pytest.raises(planning.PlanError, match="no target named api"):
        planning.plan(tmp_path, services=["api"])


def test_options() -> None:
    args = cli.parse_args(["--stage", "unit,service", "--stage", "integration", "-j", "3"])
    assert args.stage == ["unit", "service", "integration"]
    assert args.jobs == 3 and not args.verbose and not args.no_live
    assert cli.parse_args([]).jobs >= 1


def test_child_env() -> None:
    base = {"PATH": "/bin", "FORCE_COLOR": "0", "PY_COLORS": "1", "TEST_ARGS": "-k smoke"}
    env = process.child_env("pytest", base)
    assert env["TEST_ARGS"] == f"{parsing.PYTEST_ARGS} -k smoke"
    assert env["NO_COLOR"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert "FORCE_COLOR" not in env and "PY_COLORS" not in env
    assert process.child_env("vitest", {})["TEST_ARGS"] == parsing.VITEST_ARGS
    assert process.child_env(None, {})["TEST_ARGS"] == ""


def test_the_files_are_copied_verbatim() -> None:
    """Copier renders .jinja files only, but no Jinja markers should sneak in anyway."""
    paths = [RUNNER, *sorted(Path(cli.__file__).parent.glob("*.py"))]
    assert len(paths) > 5
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert not path.name.endswith(".jinja")
        assert "{{" not in text and "{%" not in text, path
    text = RUNNER.read_text(encoding="utf-8")
    header = '# /// script\n# requires-python = ">=3.11"\n# dependencies = ["rich>=13"]\n# ///'
    assert header in text


def test_suites_are_one_integration_target_each(tmp_path: Path) -> None:
    """--suite NAME: a target per folder of tests/integration/, each its own stack and report."""
    make_service(tmp_path, "api")
    for name in ("orders", "billing", "__pycache__", ".hidden"):
        (tmp_path / "tests" / "integration" / name).mkdir(parents=True)
    assert stack.suites(tmp_path) == ["billing", "orders"]  # the project's scripts/stack
    state = planning.plan(tmp_path, stages=["integration"], suites=["orders", "billing"], instance="i")
    base = tmp_path / ".artifacts" / "i"
    assert [(t.name, " ".join(t.command), t.report) for t in state.targets] == [
        ("stack:orders", "scripts/run-integration-tests.sh --with-all --suite orders",
         base / "integration-orders" / "junit.xml"),
        ("stack:billing", "scripts/run-integration-tests.sh --with-all --suite billing",
         base / "integration-billing" / "junit.xml"),
    ]
    state = planning.plan(tmp_path, stages=["integration"], suites=["orders"], members=["beat"])
    assert state.targets[0].command == [
        "scripts/run-integration-tests.sh", "--with-beat", "--suite", "orders"
    ]
    with pytest.raises(planning.PlanError, match=r"no suite nope \(a folder tests/integration/NAME/\); "
                       r"the suites are billing, orders"):
        planning.plan(tmp_path, suites=["nope"])
    with pytest.raises(planning.PlanError, match="suites are run by the integration stage"):
        planning.plan(tmp_path, stages=["unit"], suites=["orders"])


def test_suite_options() -> None:
    args = cli.parse_args(["--suite", "a,b", "--suite=a", "--with", "beat"])
    assert args.suite == ["a", "b"] and args.members == ["beat"]
