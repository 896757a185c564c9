"""A project adds the llm component with `copier update` (issue 12).

Rendered at the last commit before the component (BEFORE_LLM, a real commit of
this repository) with the team's own route in main.py, committed, then
updated to the working tree with llm among the components: the stand-in and
the user-owned sample files arrive (hooks/update/steps/llm.py `new_llm_files` must
not take them for files the team deleted), the runs table comes in its own
revision after 0001, and the sample's lines are merged into the team's
settings, main, worker, scheduler and models (`merge_llm_samples`), their
own lines kept.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import update_project as up
from support import TEMPLATE, tool

# The last commit of the template without the llm component.
BEFORE_LLM = "4a76f25"
ANSWERS = {"layout": "multi", "services": "api worker:worker beat:scheduler",
           "components": ["postgres", "redis"], "ci_provider": "none"}
TEAM_ROUTE = '''

@app.get("/team")
def team() -> dict[str, str]:
    return {"team": "ours"}
'''
# The team's own revision after 0001, written before the update adds llm.
TEAM_REVISION = '''"""team_notes: the team's own table.

Revision ID: 0002_team
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_team"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("team_notes")
'''
LLM_REVISION = "services/api/migrations/versions/llm_0001_runs.py"


def update_adding_llm(project: Path, ref: str) -> str:
    """copier update with llm added to the components, in a child process: its stderr."""
    tests = Path(__file__).resolve().parent
    code = (f"import sys, pathlib; sys.path[:0] = {[str(tests.parent), str(tests)]!r}; "
            "import update_project as up; "
            "up.update(pathlib.Path(sys.argv[1]), sys.argv[2], "
            "components=['postgres', 'redis', 'llm'])")
    result = subprocess.run([sys.executable, "-c", code, str(project), ref],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"copier update failed:\n{result.stdout}\n{result.stderr}"
    return result.stderr


@pytest.mark.slow
def test_adding_llm_brings_the_stand_in_and_merges_the_samples(
        real_clone, tmp_path: Path) -> None:  # noqa: ANN001
    project = up.render(real_clone.path, BEFORE_LLM, ANSWERS, tmp_path / "project")
    main = project / "services/api/src/api/main.py"
    main.write_text(main.read_text() + TEAM_ROUTE)
    up.commit_all(project, "project before llm, with the team's route")

    output = update_adding_llm(project, real_clone.head)
    assert "not re-created" not in output, output
    assert "llm_0002_leases.py" not in output.partition("not added beside your own code")[2], output
    for path in ("deploy/llm-stub/llm_stub.py", "deploy/llm-stub/Dockerfile",
                 "services/api/src/api/runs.py", "services/api/migrations/versions/llm_0001_runs.py",
                 "services/api/migrations/versions/llm_0002_leases.py",
                 "services/worker/src/worker/runs.py",
                 "services/worker/tests/integration/test_llm_client.py",
                 "tests/integration/test_llm_runs.py"):
        assert (project / path).is_file(), f"the update did not create {path}\n{output}"
    first = (project / "services/api/migrations/versions/0001_initial.py").read_text()
    assert "runs" not in first, "0001 was edited"
    # The team has no revisions of its own after 0001: llm_0001 stays on 0001.
    assert 'down_revision = "0001"' in (project / LLM_REVISION).read_text(), output
    text = main.read_text()
    assert TEAM_ROUTE.strip() in text, f"the team's route is gone:\n{text}"
    assert "app.include_router(runs_router)" in text, f"routes not merged:\n{text}\n{output}"
    expected = {
        "services/api/src/api/settings.py": "llm_model",
        "services/worker/src/worker/settings.py": "llm_max_attempts",
        "services/worker/src/worker/worker.py": 'include=["worker.runs"]',
        "services/beat/src/beat/scheduler.py": "runs.dispatch_due",
        "services/api/src/api/models.py": "run_events",
        "services/worker/tests/integration/conftest.py": "def llm_url",
    }
    for path, line in expected.items():
        assert line in (project / path).read_text(), f"{path}: not merged\n{output}"
    # The template's new dependencies reach the user-owned manifests (sync-dependencies).
    assert "openai" in (project / "services/worker/pyproject.toml").read_text(), output
    assert "sse-starlette" in (project / "services/api/pyproject.toml").read_text(), output
    compose = (project / "deploy/test/docker-compose.yml").read_text()
    assert "  llm:\n" in compose and "LLM_BASE_URL: http://llm:8080/v1" in compose, compose
    lint = subprocess.run([tool("ruff"), "check", "--no-cache", "services", "tests"], cwd=project,
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert not up.leftovers(project)


def test_nothing_of_llm_without_the_component(tmp_path: Path) -> None:
    """An update that does not add llm finds no llm files to keep."""
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.steps.llm import adds_llm

    same = {"components": ["postgres", "redis", "llm"]}
    assert not adds_llm(same, same)
    assert not adds_llm({"components": ["postgres"]}, {"components": ["postgres"]})
    assert adds_llm({"components": ["postgres", "redis"]}, same)


@pytest.mark.slow
def test_the_llm_revision_goes_on_top_of_the_teams_revisions(real_clone, tmp_path: Path) -> None:  # noqa: ANN001
    """One Alembic head: llm_0001 revises the team's 0002_team, not 0001 (stack_llm_revision)."""
    from alembic.script import ScriptDirectory

    project = up.render(real_clone.path, BEFORE_LLM, ANSWERS, tmp_path / "project")
    versions = project / "services/api/migrations/versions"
    (versions / "0002_team.py").write_text(TEAM_REVISION)
    up.commit_all(project, "project before llm, with the team's own revision")

    output = update_adding_llm(project, real_clone.head)
    assert f"{LLM_REVISION}: revises 0002_team" in output, output
    script = ScriptDirectory(str(versions.parent))
    # llm_0002 (the runs' leases) follows llm_0001: still one head.
    assert script.get_heads() == ["llm_0002"], f"{script.get_heads()}\n{output}"
    assert script.get_revision("llm_0002").down_revision == "llm_0001", output
    assert script.get_revision("llm_0001").down_revision == "0002_team", output
    assert script.get_revision("0002_team").down_revision == "0001", output
    text = (project / LLM_REVISION).read_text()
    assert "Revises: 0002_team\n" in text, text
    lint = subprocess.run([tool("ruff"), "check", "--no-cache", str(versions)], cwd=project,
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert not up.leftovers(project)


def test_the_llm_revision_is_left_alone_on_several_heads(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """The team's revisions branch already: no guess which head llm_0001 follows, alembic merge is theirs."""
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.alembic import stack_llm_revision

    versions = tmp_path / "services/api/migrations/versions"
    versions.mkdir(parents=True)
    for name, down in (("0001", "None"), ("0002_a", '"0001"'), ("0002_b", '"0001"'),
                       ("0003_ab", '("0002_a", "0002_b")'), ("0003_c", '"0002_a"')):
        (versions / f"{name}.py").write_text(f'revision = "{name}"\ndown_revision = {down}\n')
    llm = (TEMPLATE / "template" / "{% yield svc from service_list %}{{ svc.path }}{% endyield %}"
           / "migrations/versions/llm_0001_runs.py").read_text()
    (versions / "llm_0001_runs.py").write_text(llm)

    stack_llm_revision(tmp_path, [LLM_REVISION])
    assert (versions / "llm_0001_runs.py").read_text() == llm
    err = capsys.readouterr().err
    assert f"{LLM_REVISION}: revises 0001" in err and "(0003_ab, 0003_c)" in err, err
    assert "alembic merge heads" in err, err


def test_the_llm_revision_follows_a_single_head(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """One head (a merge revision, annotated as Alembic's newer template writes it): llm_0001 follows it."""
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.alembic import stack_llm_revision

    versions = tmp_path / "services/api/migrations/versions"
    versions.mkdir(parents=True)
    for name, down in (("0001", "None"), ("0002_a", '"0001"'), ("0002_b", '"0001"'),
                       ("0003_ab", '("0002_a", "0002_b")')):
        (versions / f"{name}.py").write_text(f'revision: str = "{name}"\ndown_revision = {down}\n')
    llm = (TEMPLATE / "template" / "{% yield svc from service_list %}{{ svc.path }}{% endyield %}"
           / "migrations/versions/llm_0001_runs.py").read_text()
    (versions / "llm_0001_runs.py").write_text(llm)

    stack_llm_revision(tmp_path, [LLM_REVISION])
    text = (versions / "llm_0001_runs.py").read_text()
    assert text == llm.replace('down_revision = "0001"', 'down_revision = "0003_ab"').replace(
        "Revises: 0001", "Revises: 0003_ab"), text
    assert f"{LLM_REVISION}: revises 0003_ab" in capsys.readouterr().err


def test_the_llm_revisions_after_llm_0001_are_not_the_teams(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """llm_0002 comes with llm_0001 in the same update: it is no head of the team's, so
    llm_0001 still follows the team's one head, and llm_0002 follows llm_0001."""
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    from update.alembic import stack_llm_revision

    versions = tmp_path / "services/api/migrations/versions"
    versions.mkdir(parents=True)
    for name, down in (("0001", "None"), ("0002_team", '"0001"')):
        (versions / f"{name}.py").write_text(f'revision = "{name}"\ndown_revision = {down}\n')
    source = TEMPLATE / "template" / "{% yield svc from service_list %}{{ svc.path }}{% endyield %}"
    for name in ("llm_0001_runs.py", "llm_0002_leases.py"):
        (versions / name).write_text((source / "migrations/versions" / name).read_text())

    stack_llm_revision(tmp_path, [LLM_REVISION, LLM_REVISION.replace("llm_0001_runs", "llm_0002_leases")])
    assert 'down_revision = "0002_team"' in (versions / "llm_0001_runs.py").read_text()
    assert 'down_revision = "llm_0001"' in (versions / "llm_0002_leases.py").read_text()
    assert f"{LLM_REVISION}: revises 0002_team" in capsys.readouterr().err
