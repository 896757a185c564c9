"""Fixtures and hooks for the template's tests; the helpers live in support.py."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dockertools import Project
from support import BASE_ANSWERS, COMBOS, docker_available, git_init, lock, rendered, run_copy, skip_copier_index_sync


def run_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder of this run shared by its xdist workers (their base temps' parent), made once."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(exist_ok=True)
    return folder


@contextlib.contextmanager
def run_lock(folder: Path, key: str) -> Iterator[None]:
    """An exclusive lock of this run's workers on key (a lock file in folder)."""
    with (folder / f"{key}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def render(copie_session, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:  # noqa: ANN001 - pytest-copie's Copie
    """render(name) -> project dir for COMBOS[name], rendered once per run (pytest-copie).

    Shared by the xdist workers: the first to ask renders it, the others wait for it (most
    test files render most combinations, and their groups spread over the workers). Tests
    read it; those that change a project copy it first.
    """
    shared = run_dir(tmp_path_factory, "renders")
    cache: dict[str, Path] = {}

    def _render(name: str) -> Path:
        if name not in cache:
            target = shared / name / "copie"
            with run_lock(shared, name):
                if not target.is_dir():
                    result = copie_session.copy(extra_answers={**BASE_ANSWERS, **COMBOS[name]}, vcs_ref="HEAD")
                    target.parent.mkdir()
                    rendered(result).rename(target)
            cache[name] = target
        return cache[name]

    return _render


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Slowness is a marker each module or test sets itself (`slow`: renders template histories,
    # runs Copier updates or a generated project's tools), never where the file sits.
    for item in items:
        # `make test` runs `--dist loadgroup`: a module's tests stay on one worker (they share its
        # session renders), but each docker test is its own unit, so both workers run isolated stacks.
        # A test that names its group keeps it (the real-history tests: one group per project,
        # across modules, so the project's render is shared and the projects spread; the docker
        # test that builds the images of one of them, which would otherwise update it again).
        if item.get_closest_marker("xdist_group"):
            continue
        group = item.name if item.get_closest_marker("docker") else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))
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


def group_of(item: pytest.Item) -> str:
    """The item's xdist group, named as xdist's worker names it."""
    names = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
             for mark in item.iter_markers("xdist_group")}
    return "_".join(sorted(names))


def queue_order(items: list[pytest.Item]) -> list[pytest.Item]:
    """The items, their xdist groups in the order the workers should take them (pytest_configure
    keeps it): the longest work first, so the run ends on small groups, both workers busy.

    1. the tests that have the engine alone (engine_alone): the other worker is meanwhile on
       2., which needs no engine, so neither waits for the lock (the swarm test idled the other
       worker for minutes when it came among the docker tests);
    2. the groups of slow tests that need no engine (real-history projects, project lints);
    3. the docker tests, each its own unit;
    4. the rest.
    Within a rank, groups with more tests first (xdist's own order), then as collected.
    """
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        groups.setdefault(group_of(item), []).append(item)

    def rank(members: list[pytest.Item]) -> int:
        if any(m.get_closest_marker("engine_alone") for m in members):
            return 0
        if all(m.get_closest_marker("docker") for m in members):
            return 2
        return 1 if any(m.get_closest_marker("slow") for m in members) else 3

    order = sorted(groups.values(), key=lambda members: (rank(members), -len(members)))
    return [item for members in order for item in members]


def pytest_configure(config: pytest.Config) -> None:
    skip_copier_index_sync()
    # xdist would queue the groups by their number of tests (--loadscope-reorder, its default),
    # which put the docker tests, one per group, last; keep queue_order's order instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)  # before xdist's worker sends the ids to the scheduler
def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep --dist loadgroup grouping on pytest 9.2, where xdist 3.8's group suffix is lost.

    xdist's worker names an item's group by rewriting its id (`id@group`) in
    item._nodeid; pytest 9.2 keeps ids structured in item._id and no longer
    reads _nodeid, so every test became its own unit and the workers rendered
    the same projects twice (pytest-dev/pytest-xdist#1386). Carry the
    rewritten id over; a no-op where pytest reads _nodeid itself.

    The items are put in queue_order first: after the -m selection, so the groups' sizes are
    those of this run.
    """
    session.items[:] = queue_order(session.items)
    for item in session.items:
        rewritten = item.__dict__.get("_nodeid")
        if isinstance(rewritten, str) and rewritten != item.nodeid and hasattr(item, "_id"):
            from _pytest.nodeid import coerce_node_id  # pytest >= 9.2, like the _id field

            item._id = coerce_node_id(rewritten)


@pytest.fixture
def _docker_required() -> None:
    ok, reason = docker_available()
    if not ok:
        pytest.fail(f"REQUIRE_DOCKER=1 but {reason}", pytrace=False)


@pytest.fixture(scope="session")
def locked_render(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict, Path], Path]:
    """locked_render(answers, dst) -> dst, a copy of the answers' project rendered and locked once per run.

    The images install the lock files (make lock), which the test renders skip; rendering and
    locking a project takes ~20 s, and the docker tests ask for the same few combinations many
    times. One copy per combination for the whole run, shared by the xdist workers (a lock file
    each; the first to ask renders it), copied for each test, which owns its copy.
    """
    shared = run_dir(tmp_path_factory, "locked-renders")

    def _render(answers: dict, dst: Path) -> Path:
        key = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()[:16]
        source = shared / key
        with run_lock(shared, key):
            if not source.is_dir():
                building = shared / f"{key}.partial"
                shutil.rmtree(building, ignore_errors=True)
                lock(run_copy(answers, building))
                building.rename(source)
        shutil.copytree(source, dst, symlinks=True)
        return dst

    return _render


@pytest.fixture
def make_project(tmp_path: Path, locked_render: Callable[[dict, Path], Path]) -> Iterator[Callable[..., Project]]:
    """make_project(answers) -> a locked, git-initialised Project; its test stacks are removed afterwards."""
    made: list[Project] = []

    def _make(answers: dict, name: str = "p", instance: str | None = "auto") -> Project:
        root = locked_render(answers, tmp_path / name)
        git_init(root)
        if instance == "auto":
            instance = f"pytest-{uuid.uuid4().hex[:8]}"
        project = Project(root, instance)
        made.append(project)
        return project

    yield _make
    for project in made:
        project.clean()


@pytest.fixture(autouse=True)
def _engine_share(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Docker tests share the engine; one marked `engine_alone` (docker swarm init and leave, which
    re-plumb the engine's networks) has it to itself: a lock file of this run, shared by the xdist
    workers, taken shared by every docker test and exclusively by that one."""
    if request.node.get_closest_marker("docker") is None:
        yield
        return
    exclusive = request.node.get_closest_marker("engine_alone") is not None
    lock = tmp_path_factory.getbasetemp().parent / "docker-engine.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
