"""Fixtures for the runner tests: the runner module and fake projects."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

# runner_fakes sits next to this file; make it importable in any --import-mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from runner_fakes import FakeProject, load_runner, make_fake_project  # noqa: E402


@pytest.fixture(scope="session")
def runner() -> ModuleType:
    """template/scripts/test-runner.py, imported from its path."""
    return load_runner()


@pytest.fixture
def fake_project(tmp_path: Path) -> Iterator[Callable[..., FakeProject]]:
    """fake_project(services=..., layout=...) -> a FakeProject under tmp_path."""
    made: list[FakeProject] = []

    def _make(services: dict[str, str] | None = None, layout: str = "multi") -> FakeProject:
        project = make_fake_project(tmp_path / f"project{len(made)}", services, layout)
        made.append(project)
        return project

    yield _make
    for project in made:
        project.cleanup()
