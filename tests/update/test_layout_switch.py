"""hooks/update/layout.py: the single -> multi switch's refusals, and the
service files it moves, read off the template and tied here to renders."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import TEMPLATE, project_files

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update import (
    core,  # noqa: E402
    layout,  # noqa: E402
)

# A single-layout combination and where the same kind of service sits in a multi one.
SAME_SERVICE = {
    "single-github-python-api": ("multi-github-pg-redis-mixed", "api"),
    "single-gitea-node-api": ("multi-github-pg-redis-mixed", "web"),
    "single-both-python-worker": ("multi-gitea-pg-python", "jobs"),
    "single-none-node-worker": ("multi-both-redis-node-alpine", "tasks"),
}


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ({"layout": "multi"}, {"layout": "single"}, "not supported"),
        ({"layout": "single", "services": "app"}, {"layout": "multi", "services": "api web"}, "keep 'app'"),
        ({"layout": "single", "services": "app"}, {"layout": "multi", "services": "app web:node"}, None),
        ({"layout": "single", "services": "app"}, {}, None),
        ({"layout": "multi", "services": "api"}, {"layout": "multi", "services": "web"}, None),
    ],
)
def test_check_layouts(old: dict, new: dict, error: str | None) -> None:
    if error is None:
        layout.check_layouts(old, new)
    else:
        with pytest.raises(core.MigrationError, match=error):
            layout.check_layouts(old, new)



def test_service_files_are_read_off_the_template() -> None:
    files = layout.service_files(TEMPLATE)
    # migrations/versions/: the user's revisions, inside the template's migrations/ (issue 11)
    assert files.dirs == ("migrations/versions/", "src/", "tests/")
    assert files.nested == ("deploy/test/docker-compose.yml", "migrations/env.py", "migrations/script.py.mako",
                            "migrations/step.py", "testkit/__init__.py", "testkit/wait-for.js",
                            "testkit/wait-for.ts")
    assert {"Dockerfile", ".dockerignore", "pytest.ini", "alembic.ini"} <= set(files.build)
    # the dependency manifests are the user's: they move, like src/
    assert files.owned == ("package.json", "pyproject.toml")


def test_a_file_added_to_the_service_folder_is_a_service_file(tmp_path: Path) -> None:
    """Plain names (hooks/files.py's tables decide who has what); a multi-only file is
    the service's where the single layout's root file renders the same partial."""
    template = tmp_path / "template-copy"
    (template / "template").mkdir(parents=True)
    (template / "copier.yml").write_text((TEMPLATE / "copier.yml").read_text())
    folder = template / "template" / layout.service_folder(TEMPLATE).name
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.py").write_text("")
    (folder / ".nvmrc.tpl.jinja").write_text("")
    (folder / "package.json.jinja").write_text("")  # every kind of service has it in some language
    multi = template / "template" / "services" / layout.multi_service_folder(TEMPLATE).name
    multi.mkdir(parents=True)
    (multi / "Makefile.jinja").write_text("# the service's\n")
    (template / "template" / "Makefile.jinja").write_text("# the project's\n")
    (multi / "pyproject.toml.jinja").write_text("{% include 'partials/service/pyproject.toml.jinja' %}")
    (template / "template" / "pyproject.toml.jinja").write_text(
        "{% if layout == 'single' %}{% include 'partials/service/pyproject.toml.jinja' %}{% endif %}")
    files = layout.service_files(template)
    assert files == layout.ServiceFiles(
        build=(".nvmrc.tpl",), dirs=("src/",), nested=(), owned=("package.json", "pyproject.toml"))


@pytest.mark.parametrize("single", sorted(SAME_SERVICE))
def test_service_files_match_renders_of_both_layouts(render: Callable[[str], Path], single: str) -> None:
    """Every root file of a single project that the multi layout has in services/<name>/
    is a service file the switch moves or merges, except the project's own Makefile
    (the multi layout's service Makefile is a new file)."""
    multi, name = SAME_SERVICE[single]
    files = layout.service_files(TEMPLATE)
    owned = core.user_owned(TEMPLATE)
    in_service = {p.removeprefix(f"services/{name}/") for p in project_files(render(multi))
                  if p.startswith(f"services/{name}/")}
    at_root = project_files(render(single))
    shared = at_root & in_service
    unclassified = sorted(
        p for p in shared
        if p not in files.build and p not in files.nested and not p.startswith(files.dirs)
        and not owned(p)
    )
    assert unclassified == ["Makefile"], f"service files the layout switch would leave behind: {unclassified}"
    assert [p for p in files.build if p in at_root] == [p for p in files.build if p in shared]
