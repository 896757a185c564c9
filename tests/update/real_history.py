"""Projects rendered at REAL earlier commits of this repository, edited like a team would, updated.

The synthetic history (template_history.py) proves the update machinery on
changes made for the purpose; this module proves it on what the template
really was. :func:`clone` copies this repository's history into a temp
repo and commits the working tree's template (uncommitted changes included)
on top, so the head of the clone is what is being developed. Projects are
rendered at each commit of :data:`REAL_COMMITS`, committed, given their
node_modules (:func:`install_node_modules`), edited by :func:`team_edits`,
committed, and updated to that head with the Copier CLI, as
scripts/update.py runs it (``copier update --trust --defaults
--conflict=inline``), locking as a team's update does (SKIP_LOCK=0).

Add a commit to :data:`REAL_COMMITS` whenever a template change touches
what user-owned files rely on; its migration must then keep these tests
green.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
import template_history as th
import update_project as up
import yaml

# Real commits of this repository, oldest first, spread over its history: the
# skeleton; the runner of issue 4 (the last with httpx); the commit before the
# issue-8 work (no local.mk yet); the registry merge (local.mk and compose
# overrides, [tool.ruff] in pyproject.toml); the last commit before ruff.toml;
# the Kubernetes merge (Alembic revisions, dependabot); secrets as files (the
# settings that read every NAME_FILE); settings that read secrets by name.
REAL_COMMITS = ("00d8236", "0d9b398", "bfde4c7", "44b2a5c", "431d665", "954e964", "d916022", "cbb0ed9")
# The commit whose generated pyproject.toml files replaced httpx by httpx2.
HTTPX2_COMMIT = "7eb7132"
# (layout, commit) of every project: the default multi project at every
# commit, and one single-layout project from the oldest.
PROJECTS = (*(("multi", c) for c in REAL_COMMITS), ("single-python", REAL_COMMITS[0]))


def project_params(projects: tuple[tuple[str, str], ...] | list[tuple[str, str]], *, packed: bool = False) -> list:
    """pytest params of layout, commit (one (layout, commit) value if packed), each in its project's xdist group.

    The survival tests and the stage phases of one project run on the worker
    that rendered and updated it (the real_updated fixture is per worker),
    and the projects spread over the workers.
    """
    return [pytest.param(*([(layout, commit)] if packed else [layout, commit]), id=f"{layout}@{commit}",
                         marks=project_group(layout, commit)) for layout, commit in projects]


def project_group(layout: str, commit: str) -> pytest.MarkDecorator:
    """The xdist group of a project's tests: one worker renders and updates it for all of them."""
    return pytest.mark.xdist_group(f"real-{layout}-{commit}")


# What the team appends to the template-owned Makefile, as old projects had
# to: after the update the target lives in the user-owned local.mk.
CUSTOM_TARGET = "seed-demo"
CUSTOM_TARGET_OUTPUT = "demo data loaded for the team"
CUSTOM_TARGET_TEXT = (
    f"\n.PHONY: {CUSTOM_TARGET}\n"
    f"{CUSTOM_TARGET}: ## load the team's demo data\n"
    f"\t@echo '{CUSTOM_TARGET_OUTPUT}'\n"
)
README_PARAGRAPH = "Deploys happen on Tuesdays; the on-call rota is in the team wiki."
LOCAL_MAKEFILE = "local.mk"
COMPOSE_OVERRIDE = "deploy/dev/docker-compose.override.yml"
OVERRIDE_SETTING = "      FEATURE_FLAGS: team-beta"
# A small pure-Python package from PyPI that the team's own code imports.
TEAM_DEPENDENCY = "humanize"
TEAM_REVISION = "team_0001"
# The step a team appends to the last job of its CI workflow (template-owned).
WORKFLOW = ".github/workflows/ci.yml"
WORKFLOW_STEP = ("      - name: The team's demo data loads", f"        run: make {CUSTOM_TARGET}")
GIT_ENV = th.GIT_ENV


class RealHistoryError(RuntimeError):
    """The clone lacks a real commit (shallow checkout) or git failed."""


@dataclass(frozen=True)
class Clone:
    path: Path
    head: str  # full sha of the working tree's commit on top of the real history


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV})
    if result.returncode != 0:
        raise RealHistoryError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout.strip()


def clone(src: Path, dst: Path, commits: tuple[str, ...] = (*REAL_COMMITS, HTTPX2_COMMIT)) -> Clone:
    """This repository's history in dst, with src's working tree committed on top."""
    head = git(src, "rev-parse", "HEAD")
    git(dst.parent, "clone", "--quiet", "--no-checkout", str(src), str(dst))
    git(dst, "fetch", "--quiet", str(src), head)  # HEAD may be on no branch (CI checkouts)
    git(dst, "checkout", "--quiet", "-B", "main", head)
    missing = [c for c in commits if subprocess.run(
        ["git", "cat-file", "-e", f"{c}^{{commit}}"], cwd=dst, capture_output=True).returncode != 0]
    if missing:
        raise RealHistoryError(
            f"commits {', '.join(missing)} are not in this checkout's history: the real-history "
            "update tests need the full history (git fetch --unshallow; actions/checkout fetch-depth: 0)"
        )
    th.copy_parts(src, dst)
    git(dst, "add", "--all")
    if git(dst, "status", "--porcelain"):
        git(dst, "commit", "--quiet", "-m", "The working tree under test")
    return Clone(dst, git(dst, "rev-parse", "HEAD"))


@dataclass(frozen=True)
class Service:
    name: str
    folder: str  # "services/api", or "." in the single layout

    @property
    def base(self) -> str:
        return "" if self.folder == "." else f"{self.folder}/"

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")


def edited_service(layout: str) -> Service:
    name, language, folder = up.EDITED_SERVICE[layout]
    assert language == "python", "the team's edits are written for a python api"
    return Service(name, folder)


def httpx_module(project: Path, service: Service) -> str:
    """httpx or httpx2: what the project's own sample integration test imports."""
    sample = project / service.base / "tests" / "integration" / f"test_{service.package}_live.py"
    if not sample.is_file():
        sample = next((project / service.base / "tests" / "integration").glob("test_*_live.py"))
    found = re.search(r"^import (httpx2?)\b", sample.read_text(), re.MULTILINE)
    if found is None:
        pytest.fail(f"{sample}: imports neither httpx nor httpx2: update tests/update/real_history.py")
    return found.group(1)


def tool_env() -> dict[str, str]:
    """The project's tools (uv, ruff, copier) from the test venv first on PATH, as `make test` has."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def team_edits(project: Path, layout: str) -> up.Edits:
    """What a team does with a fresh project (not committed): code, tests, dependency, targets, README...

    - user-owned: an edited handler (the 404 message of read_item), a new
      route, a module of its own that uses a PyPI package the team added
      with `uv add` (:data:`TEAM_DEPENDENCY`: a lost dependency fails its
      unit test), unit tests of both, an integration test written with the
      HTTP client the project's sample tests use then, an Alembic revision
      after the template's (where the project has them: a unit test asks for
      one head, the team's), a target in local.mk and a service setting in
      deploy/dev/docker-compose.override.yml (where the project has those
      extension points);
    - template-owned, as teams do: a custom target appended to the Makefile
      (projects from before local.mk), a paragraph appended to README.md, a
      LABEL in the service's Dockerfile, an env var in the dev compose file,
      a step appended to the CI workflow.
    """
    service = edited_service(layout)
    edits = up.Edits()
    main = f"{service.base}src/{service.package}/main.py"
    text = (project / main).read_text()
    if 'detail="no such item"' not in text:
        pytest.fail(f"{main} has no read_item 404 to edit: update tests/update/real_history.py")
    route = ["@app.get(\"/ping\")", "def ping() -> dict[str, str]:", '    return {"ping": "pong"}']
    text = text.replace('detail="no such item"', 'detail="item not found"') + "\n\n" + "\n".join(route) + "\n"
    (project / main).write_text(text)
    edits.line(main, '        raise HTTPException(status_code=404, detail="item not found")')
    for line in route:
        edits.line(main, line)

    edits.added[f"{service.base}src/{service.package}/team.py"] = (
        '"""The team\'s own code: sizes for people, with a package the team added (uv add)."""\n\n'
        f"import {TEAM_DEPENDENCY}\n\n\n"
        "def size_label(size: int) -> str:\n"
        f"    return {TEAM_DEPENDENCY}.naturalsize(size)\n"
    )
    edits.added[f"{service.base}tests/unit/test_team.py"] = (
        '"""The team\'s own unit tests."""\n\n'
        "from fastapi.testclient import TestClient\n\n"
        f"from {service.package}.main import app\n"
        f"from {service.package}.team import size_label\n\n\n"
        "def test_ping_answers_pong() -> None:\n"
        '    assert TestClient(app).get("/ping").json() == {"ping": "pong"}\n\n\n'
        "def test_sizes_read_as_people_say_them() -> None:\n"
        '    assert size_label(2048) == "2.0 kB"\n'
    )
    module = httpx_module(project, service)
    edits.added[f"{service.base}tests/integration/test_team_live.py"] = (
        '"""The team\'s own integration test: the route they added, on the live service."""\n\n'
        "from __future__ import annotations\n\n"
        f"from {module} import Client\n\n\n"
        "def test_ping_on_the_live_service(api_url: str) -> None:\n"
        "    with Client(base_url=api_url, timeout=5) as client:\n"
        '        assert client.get("/ping").json() == {"ping": "pong"}\n'
    )
    if (project / service.base / "migrations" / "versions").is_dir():
        edits.added.update(team_revision(project, service))
    for rel, content in edits.added.items():
        (project / rel).write_text(content)
    # The dependency, added the way a team does: pyproject.toml and uv.lock (no .venv: the
    # shared project is never run; the stages sync their copies).
    manifest = f"{service.base}pyproject.toml"
    run_in(["uv", "add", "--no-sync", "--quiet", TEAM_DEPENDENCY], project / service.base)
    added = [line for line in (project / manifest).read_text().splitlines() if f'"{TEAM_DEPENDENCY}>=' in line]
    if len(added) != 1:
        pytest.fail(f"`uv add {TEAM_DEPENDENCY}` wrote {len(added)} requirement lines in {manifest}")
    edits.line(manifest, added[0])

    local = project / LOCAL_MAKEFILE
    if local.is_file():  # the extension point since 4603017
        local.write_text(local.read_text().rstrip("\n") + "\n" + CUSTOM_TARGET_TEXT)
    else:  # before it, teams appended to the template's Makefile (a migration moves it)
        makefile = project / "Makefile"
        makefile.write_text(makefile.read_text().rstrip("\n") + "\n" + CUSTOM_TARGET_TEXT)
    readme = project / "README.md"
    readme.write_text(readme.read_text().rstrip("\n") + "\n\n" + README_PARAGRAPH + "\n")
    edits.line("README.md", README_PARAGRAPH)
    override = project / COMPOSE_OVERRIDE
    if override.is_file():
        text = override.read_text()
        if "\nservices: {}\n" not in text:
            pytest.fail(f"{COMPOSE_OVERRIDE} has no empty services map: update tests/update/real_history.py")
        setting = ["services:", f"  {service.name}:", "    environment:", OVERRIDE_SETTING]
        override.write_text(text.replace("\nservices: {}\n", "\n" + "\n".join(setting) + "\n"))
        edits.line(COMPOSE_OVERRIDE, OVERRIDE_SETTING)

    dockerfile = f"{service.base}Dockerfile"
    label = 'LABEL org.example.team="payments"'
    up._insert_after(project / dockerfile, re.compile(r"^FROM .* AS runtime$"), label)
    edits.line(dockerfile, label)
    compose = "deploy/dev/docker-compose.yml"
    tweak = "      LOG_LEVEL: debug"
    up._insert_after(project / compose, re.compile(r"^    environment:$"), tweak,
                     start=re.compile(rf"^  {service.name}:$"))
    edits.line(compose, tweak)
    workflow = project / WORKFLOW
    if not re.search(r"^      - (?:name|run|uses): .*\n(?:        .*\n)*\Z", workflow.read_text(), re.MULTILINE):
        pytest.fail(f"{WORKFLOW} does not end in a job's steps: update tests/update/real_history.py")
    workflow.write_text(workflow.read_text() + "\n".join(WORKFLOW_STEP) + "\n")
    for line in WORKFLOW_STEP:
        edits.line(WORKFLOW, line)
    return edits


def team_revision(project: Path, service: Service) -> dict[str, str]:
    """The team's Alembic revision on top of the template's head, and a unit test that finds it the head."""
    versions = project / service.base / "migrations" / "versions"
    heads = set(re.findall(r'^revision = "([^"]+)"$', "".join(p.read_text() for p in versions.glob("*.py")),
                           re.MULTILINE))
    downs = set(re.findall(r'^down_revision = "([^"]+)"$',
                           "".join(p.read_text() for p in versions.glob("*.py")), re.MULTILINE))
    tops = sorted(heads - downs)
    if len(tops) != 1:
        pytest.fail(f"{versions.relative_to(project)}: expected one template head, found {tops}: "
                    "update tests/update/real_history.py")
    revision = f"{service.base}migrations/versions/{TEAM_REVISION}_team_notes.py"
    test = f"{service.base}tests/unit/test_team_migrations.py"
    return {
        revision: (
            '"""team_notes: the team\'s own table.\n\n'
            f"Revision ID: {TEAM_REVISION}\nRevises: {tops[0]}\n\"\"\"\n\n"
            "from __future__ import annotations\n\n"
            "import sqlalchemy as sa\n"
            "from alembic import op\n\n"
            f'revision = "{TEAM_REVISION}"\n'
            f'down_revision = "{tops[0]}"\n'
            "branch_labels = None\n"
            "depends_on = None\n\n\n"
            "def upgrade() -> None:\n"
            "    op.create_table(\n"
            '        "team_notes",\n'
            '        sa.Column("id", sa.Integer, primary_key=True),\n'
            '        sa.Column("body", sa.Text, nullable=False),\n'
            "    )\n\n\n"
            "def downgrade() -> None:\n"
            '    op.drop_table("team_notes")\n'
        ),
        test: (
            '"""The team\'s revision is the one head of the schema."""\n\n'
            "from pathlib import Path\n\n"
            "from alembic.script import ScriptDirectory\n\n"
            'MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"\n\n\n'
            "def test_the_team_revision_is_the_head() -> None:\n"
            f'    assert ScriptDirectory(str(MIGRATIONS)).get_heads() == ["{TEAM_REVISION}"]\n'
        ),
    }


def install_node_modules(project: Path) -> list[Path]:
    """npm ci (npm install where no lock was made) in every node service: a team's checkout has them."""
    folders = sorted(p.parent for p in project.rglob("package.json")
                     if not {"node_modules", ".git"} & set(p.relative_to(project).parts))
    for folder in folders:
        install = "ci" if (folder / "package-lock.json").is_file() else "install"
        run_in(["npm", install, "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline"], folder)
    return folders


@dataclass
class RealUpdate:
    layout: str
    commit: str
    project: Path
    edits: up.Edits  # what the project must hold after the update (httpx migration applied)
    output: str  # what `copier update` printed (migrations included)
    had_httpx: bool  # rendered before the httpx -> httpx2 switch
    source: Clone

    @property
    def service(self) -> Service:
        return edited_service(self.layout)

    @cached_property
    def expected(self) -> Path:
        """A fresh render of the clone's head with the updated answers (rendered on first use).

        The services answer is the updated project's: the keep-ports migration
        pins the ports older templates gave by position as `port=N` options.
        """
        answers = yaml.safe_load((self.project / ".copier-answers.yml").read_text())
        return up.render(self.source.path, self.source.head,
                         {**up.LAYOUTS[self.layout], "services": answers["services"]},
                         self.project.parent / "expected")


def copier_update(project: Path, ref: str, **env: str) -> str:
    """copier update as scripts/update.py runs it; fails the test with Copier's output."""
    copier = Path(sys.executable).parent / "copier"
    cmd = [str(copier), "update", "--trust", "--defaults", "--conflict=inline", f"--vcs-ref={ref}"]
    result = subprocess.run(cmd, cwd=project, capture_output=True, text=True, timeout=600,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")},
                                 **env})
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    if result.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` exited {result.returncode} in {project}\n{output}", pytrace=False)
    return output


def update_from(source: Clone, layout: str, commit: str, base: Path) -> RealUpdate:
    """Render at commit, commit, install node_modules, edit, commit, update to the clone's head.

    The update locks as a team's does (SKIP_LOCK=0): it re-locks the
    manifests it changed and writes the missing locks, with the node_modules
    of the old project in place (what make lint must then notice).
    """
    answers = up.LAYOUTS[layout]
    project = up.render(source.path, commit, answers, base / "project")
    up.commit_all(project, f"Generated from the template at {commit}")
    install_node_modules(project)
    edits = team_edits(project, layout)
    up.commit_all(project, "The team's edits")
    output = copier_update(project, source.head, SKIP_LOCK="0", **tool_env())
    switched = subprocess.run(["git", "merge-base", "--is-ancestor", HTTPX2_COMMIT, commit],
                              cwd=source.path, capture_output=True).returncode == 0
    if not switched:  # the migration rewrites the team's test: that is the only change allowed
        edits = up.Edits(edits.lines, {rel: text.replace("from httpx import", "from httpx2 import")
                                       for rel, text in edits.added.items()}, edits.deleted)
    return RealUpdate(layout, commit, project, edits, output, had_httpx=not switched, source=source)


def python_projects(project: Path) -> list[Path]:
    """Folders with a pyproject.toml and a tests/integration folder (services, the root)."""
    return sorted(p.parent for p in project.rglob("pyproject.toml")
                  if (p.parent / "tests" / "integration").is_dir()
                  and not {".venv", "node_modules", ".git"} & set(p.relative_to(project).parts))


def node_projects(project: Path) -> list[Path]:
    return sorted(p.parent for p in project.rglob("package.json")
                  if (p.parent / "tests" / "integration").is_dir()
                  and not {".venv", "node_modules", ".git"} & set(p.relative_to(project).parts))


def run_in(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a project's tool with the environment a user has; fail the test with its output."""
    from support import project_env

    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=project_env(**tool_env()))
    if result.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` exited {result.returncode} in {cwd}\n--- stdout\n{result.stdout}"
                    f"\n--- stderr\n{result.stderr}", pytrace=False)
    return result
