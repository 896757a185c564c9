"""Fixtures of the update tests: the template's synthetic history, updated projects."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

# The helper modules sit next to this file; make them importable in any --import-mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_history as rh  # noqa: E402
import template_history as th  # noqa: E402
import update_project as up  # noqa: E402
from support import TEMPLATE  # noqa: E402


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> th.History:
    """v0.1.0, v0.2.0 and v0.3.0 (the working tree) of the template, in a temp git repo."""
    try:
        return th.build(TEMPLATE, tmp_path_factory.mktemp("history") / "template")
    except th.HistoryError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def owned() -> Callable[[str], bool]:
    """Is this project path user-owned (copier.yml _skip_if_exists)?"""
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.core import user_owned

    return user_owned(TEMPLATE)


@dataclass(frozen=True)
class Updated:
    layout: str
    old: str
    project: Path
    expected: Path  # a fresh render of the new version with the same answers
    edits: up.Edits


@pytest.fixture(scope="session")
def updated(history: th.History, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Updated]:
    """updated(layout, old_tag): rendered at old_tag, committed, edited, committed, updated to HEAD.

    Once per session and worker; tests that run the project copy it first.
    """
    cache: dict[tuple[str, str], Updated] = {}

    def _updated(layout: str, old: str) -> Updated:
        if (layout, old) not in cache:
            base = tmp_path_factory.mktemp(f"{layout}-from-{old}")
            answers = up.LAYOUTS[layout]
            project = up.render(history.path, old, answers, base / "project")
            up.commit_all(project, f"Generated from the template {old}")
            edits = up.user_edits(project, layout, old_script=(project / th.OLD_SCRIPT).exists())
            up.commit_all(project, "The team's edits")
            up.update(project, history.head)
            expected = up.render(history.path, history.head, answers, base / "expected")
            cache[layout, old] = Updated(layout, old, project, expected, edits)
        return cache[layout, old]

    return _updated


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Path], Path]:
    """copy_of(project): a copy in tmp_path, for tests that change it (without node_modules and .venv)."""

    def _copy(project: Path) -> Path:
        return Path(shutil.copytree(project, tmp_path / project.name, symlinks=True,
                                    ignore=shutil.ignore_patterns("node_modules", ".venv")))

    return _copy


@pytest.fixture(scope="session")
def real_clone(tmp_path_factory: pytest.TempPathFactory) -> rh.Clone:
    """This repository's real history, with the working tree committed on top."""
    try:
        return rh.clone(TEMPLATE, tmp_path_factory.mktemp("real") / "template")
    except rh.RealHistoryError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def real_updated(real_clone: rh.Clone, tmp_path_factory: pytest.TempPathFactory
                 ) -> Callable[[str, str], rh.RealUpdate]:
    """real_updated(layout, commit): rendered at a real commit, edited, updated to the working tree.

    Once per session and worker; tests that run the project copy it first.
    """
    cache: dict[tuple[str, str], rh.RealUpdate] = {}

    def _updated(layout: str, commit: str) -> rh.RealUpdate:
        if (layout, commit) not in cache:
            base = tmp_path_factory.mktemp(f"real-{layout}-{commit}")
            cache[layout, commit] = rh.update_from(real_clone, layout, commit, base)
        return cache[layout, commit]

    return _updated
