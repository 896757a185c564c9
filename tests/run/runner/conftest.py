"""Fixtures for the runner tests: the runner package importable, and fake projects."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# runner_fakes sits next to this file, and the runner's package (test_runner)
# in template/scripts: make both importable in any --import-mode, without
# leaving __pycache__ folders in the template.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from runner_fakes import SCRIPTS, FakeProject, make_fake_project  # noqa: E402

sys.path.insert(0, str(SCRIPTS))
_writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
import test_runner.cli  # noqa: E402, F401  (imports every module of the package)

sys.dont_write_bytecode = _writes_bytecode


@pytest.fixture
def fake_project(tmp_path: Path) -> Iterator[Callable[..., FakeProject]]:
    """fake_project(services=..., layout=..., registry=..., reports=...) -> a FakeProject."""
    made: list[FakeProject] = []

    def _make(services: dict[str, str] | None = None, layout: str = "multi", **options) -> FakeProject:
        project = make_fake_project(tmp_path / f"project{len(made)}", services, layout, **options)
        made.append(project)
        return project

    yield _make
    for project in made:
        project.cleanup()
