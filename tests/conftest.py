"""Fixtures and hooks for the template's tests; the helpers live in support.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from support import BASE_ANSWERS, COMBOS, docker_available, rendered


@pytest.fixture(scope="session")
def render(copie_session) -> Callable[[str], Path]:  # noqa: ANN001 - pytest-copie's Copie
    """render(name) -> project dir for COMBOS[name], rendered once per session (pytest-copie)."""
    cache: dict[str, Path] = {}

    def _render(name: str) -> Path:
        if name not in cache:
            result = copie_session.copy(extra_answers={**BASE_ANSWERS, **COMBOS[name]}, vcs_ref="HEAD")
            cache[name] = rendered(result)
        return cache[name]

    return _render


UPDATE_TESTS = Path(__file__).resolve().parent / "update"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The update tests render template histories and update projects: minutes, not seconds.
    for item in items:
        if UPDATE_TESTS in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.slow)
    if not any(item.get_closest_marker("docker") for item in items):
        return
    ok, reason = docker_available()
    if ok:
        return
    if os.environ.get("REQUIRE_DOCKER") == "1":
        # CI sets this: there a missing engine fails the docker tests, never skips them.
        fail = pytest.mark.usefixtures("_docker_required")
        for item in items:
            if item.get_closest_marker("docker"):
                item.add_marker(fail)
        return
    skip = pytest.mark.skip(reason=f"docker test: {reason}")
    for item in items:
        if item.get_closest_marker("docker"):
            item.add_marker(skip)


@pytest.fixture
def _docker_required() -> None:
    ok, reason = docker_available()
    if not ok:
        pytest.fail(f"REQUIRE_DOCKER=1 but {reason}", pytrace=False)
