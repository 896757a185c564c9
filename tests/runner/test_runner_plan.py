"""Layout detection, stage planning and the targets' environment."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest


def make_service(root: Path, name: str, manifest: str | None = "pyproject.toml") -> None:
    folder = root / "services" / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM scratch\n")
    if manifest:
        (folder / manifest).write_text("{}\n")


def commands(state) -> list[tuple[str, str, str, str | None]]:
    return [(t.stage, t.name, " ".join(t.command), t.framework) for t in state.targets]


def test_multi_layout(runner: ModuleType, tmp_path: Path) -> None:
    make_service(tmp_path, "worker")
    make_service(tmp_path, "web", "package.json")
    make_service(tmp_path, "api")
    (tmp_path / "services" / "shared").mkdir()  # no Dockerfile: not a service
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    state = runner.plan(tmp_path)
    assert state.layout == "multi"
    assert [s.name for s in state.stages] == ["unit", "service", "integration"]
    assert commands(state) == [
        ("unit", "api", "scripts/unit-tests.sh services/api", "pytest"),
        ("unit", "web", "scripts/unit-tests.sh services/web", "vitest"),
        ("unit", "worker", "scripts/unit-tests.sh services/worker", "pytest"),
        ("service", "api", "scripts/test-service.sh api", "pytest"),
        ("service", "web", "scripts/test-service.sh web", "vitest"),
        ("service", "worker", "scripts/test-service.sh worker", "pytest"),
        ("integration", "stack", "scripts/run-integration-tests.sh", "pytest"),
    ]
    assert isinstance(state.targets[1].parser, runner.VitestParser)
    assert isinstance(state.targets[0].parser, runner.PytestParser)


def test_multi_integration_without_pyproject_is_vitest(runner: ModuleType, tmp_path: Path) -> None:
    make_service(tmp_path, "web", "package.json")
    assert runner.plan(tmp_path).targets[-1].framework == "vitest"


@pytest.mark.parametrize(
    ("answers", "name"),
    [
        ("services: web:node\n", "web"),
        ("services: 'jobs:worker'\n", "jobs"),
        ('services: "tasks:node:worker"\n', "tasks"),
        ("services: app\n", "app"),
        ("project_name: X\nservices: >-\n  gateway:node:api\n", "gateway"),
        ("project_name: X\n", None),
        (None, None),
    ],
)
def test_single_layout_name(runner: ModuleType, tmp_path: Path, answers, name) -> None:
    root = tmp_path / "my-project"
    root.mkdir()
    (root / "package.json").write_text("{}\n")
    (root / "services").mkdir()  # an empty services/ folder is no multi layout
    if answers is not None:
        (root / ".copier-answers.yml").write_text(f"_commit: v1\n{answers}")
    state = runner.plan(root)
    expected = name or "my-project"
    assert state.layout == "single"
    assert commands(state) == [
        ("unit", expected, "scripts/unit-tests.sh .", "vitest"),
        ("integration", expected, "scripts/run-integration-tests.sh", "vitest"),
    ]


def test_filters(runner: ModuleType, tmp_path: Path) -> None:
    for name in ("api", "web", "worker"):
        make_service(tmp_path, name)
    state = runner.plan(tmp_path, stages=["integration", "unit"], services=["worker", "stack"])
    assert [(t.stage, t.name) for t in state.targets] == [
        ("unit", "worker"),
        ("integration", "stack"),
    ]
    state = runner.plan(tmp_path, services=["api"])
    assert [(t.stage, t.name) for t in state.targets] == [("unit", "api"), ("service", "api")]


def test_filter_errors(runner: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    with pytest.raises(runner.PlanError, match="'service' does not exist in the single layout"):
        runner.plan(tmp_path, stages=["service"])
    with pytest.raises(runner.PlanError, match="no target named api"):
        runner.plan(tmp_path, services=["api"])


def test_options(runner: ModuleType) -> None:
    args = runner.parse_args(["--stage", "unit,service", "--stage", "integration", "-j", "3"])
    assert args.stage == ["unit", "service", "integration"]
    assert args.jobs == 3 and not args.verbose and not args.no_live
    assert runner.parse_args([]).jobs >= 1


def test_child_env(runner: ModuleType) -> None:
    base = {"PATH": "/bin", "FORCE_COLOR": "0", "PY_COLORS": "1", "TEST_ARGS": "-k smoke"}
    env = runner.child_env("pytest", base)
    assert env["TEST_ARGS"] == f"{runner.PYTEST_ARGS} -k smoke"
    assert env["NO_COLOR"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert "FORCE_COLOR" not in env and "PY_COLORS" not in env
    assert runner.child_env("vitest", {})["TEST_ARGS"] == runner.VITEST_ARGS
    assert runner.child_env(None, {})["TEST_ARGS"] == ""


def test_the_file_is_copied_verbatim(runner: ModuleType) -> None:
    """Copier renders .jinja files only, but no Jinja markers should sneak in anyway."""
    path = Path(runner.__file__)
    text = path.read_text(encoding="utf-8")
    assert not path.name.endswith(".jinja")
    assert "{{" not in text and "{%" not in text
    header = '# /// script\n# requires-python = ">=3.11"\n# dependencies = ["rich>=13"]\n# ///'
    assert header in text
