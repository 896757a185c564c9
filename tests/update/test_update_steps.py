"""hooks/update/steps: the registry, and which projects a step runs for (git ancestry).

Small git repos stand in for the template checkout; no renders.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import update_project as up
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update import core, steps  # noqa: E402


def sha(repo: Path, rev: str = "HEAD") -> str:
    return up.git(repo, "rev-parse", "--short", rev).strip()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """first -> fix (tagged v0.2.0) -> later on main; a fork commit on a side branch from first."""
    repo = tmp_path_factory.mktemp("template")
    commits = {}
    for name in ("first", "fix", "later"):
        (repo / "history.txt").write_text(f"{name}\n")
        up.commit_all(repo, name)
        commits[name] = sha(repo)
        if name == "fix":
            up.git(repo, "tag", "v0.2.0")
    up.git(repo, "checkout", "--quiet", "-b", "side", commits["first"])
    (repo / "side.txt").write_text("fork\n")
    up.commit_all(repo, "fork")
    commits["fork"] = sha(repo)
    up.git(repo, "checkout", "--quiet", "main")
    return SimpleNamespace(path=repo, **commits)


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("v0.2.0", "v0.2.0"),
        ("4e5092c", "4e5092c"),
        ("v0.2.0-3-gabc1234", "abc1234"),
        ("v0.2.0-3-gabc1234.dirty", "abc1234"),
        ("4e5092c-dirty", "4e5092c"),
        ("", ""),
    ],
)
def test_recorded_commit_reads_git_describe(recorded: str, expected: str) -> None:
    assert core.recorded_commit(recorded) == expected


def test_contains_follows_ancestry(template: SimpleNamespace) -> None:
    repo = template.path
    assert core.contains(repo, template.fix, template.later) is True
    assert core.contains(repo, template.fix, template.fix) is True
    assert core.contains(repo, template.fix, "v0.2.0") is True
    assert core.contains(repo, "v0.2.0", f"v0.2.0-1-g{template.later}") is True
    assert core.contains(repo, template.fix, template.first) is False
    assert core.contains(repo, template.fix, template.fork) is False, "a fork from before the fix lacks it"
    assert core.contains(repo, "v0.2.0", f"{template.first}.dirty") is False


@pytest.mark.parametrize("recorded", ["", "0000000", "v9.9.9", "v0.1.0-2-g0000000"])
def test_contains_cannot_say_for_an_unknown_version(template: SimpleNamespace, recorded: str) -> None:
    assert core.contains(template.path, template.fix, recorded) is None


def test_contains_cannot_say_for_an_unknown_commit(template: SimpleNamespace) -> None:
    assert core.contains(template.path, "1234567", template.later) is None
    assert core.contains(template.path / "not-a-repo", template.fix, template.later) is None


@pytest.mark.parametrize(
    ("commit", "recorded", "runs"),
    [
        pytest.param("fix", "later", False, id="contained"),
        pytest.param("fix", "first", True, id="not-contained"),
        pytest.param("fix", "0000000", True, id="unknown-version"),
        pytest.param("1234567", "later", True, id="unknown-commit"),
        pytest.param(None, "later", True, id="every-update"),
    ],
)
def test_due(template: SimpleNamespace, commit: str | None, recorded: str, runs: bool) -> None:
    step = SimpleNamespace(COMMIT=getattr(template, commit, commit) if commit else None)
    ctx = core.Context(Path("."), template.path, {}, {}, getattr(template, recorded, recorded))
    assert steps.due(step, ctx) is runs


def test_the_registry_follows_the_step_protocol() -> None:
    problems = []
    for stage, entries in (("before", steps.BEFORE), ("after", steps.AFTER)):
        for step in entries:
            name = step.__name__
            if step.STAGE != stage:
                problems.append(f"{name}: STAGE {step.STAGE!r}, listed in {stage}")
            if not (step.__doc__ or "").strip():
                problems.append(f"{name}: no docstring (it is the step's documentation)")
            if step.COMMIT is not None and not isinstance(step.COMMIT, str):
                problems.append(f"{name}: COMMIT {step.COMMIT!r}")
            if not callable(getattr(step, "apply", None)):
                problems.append(f"{name}: no apply(ctx)")
    names = [step.__name__ for step in steps.BEFORE + steps.AFTER]
    assert len(names) == len(set(names)), f"a step listed twice: {names}"
    assert not problems, "\n".join(problems)


def test_every_commit_a_step_names_is_in_this_repository() -> None:
    """A typo would make a step run for every project (unknown -> run): check the shas."""
    if subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=TEMPLATE, capture_output=True,
                      text=True, check=False).stdout.strip() != "false":
        pytest.skip("the template's full git history is not here")
    missing = [f"{step.__name__}: {step.COMMIT}" for step in steps.BEFORE + steps.AFTER
               if step.COMMIT and not step.COMMIT.startswith("v")  # tags: template_history.py's
               and subprocess.run(["git", "cat-file", "-e", f"{step.COMMIT}^{{commit}}"], cwd=TEMPLATE,
                                  capture_output=True, check=False).returncode != 0]
    assert not missing, "commits unknown to this repository: " + ", ".join(missing)


def test_the_old_version_is_rendered_once_per_update(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = []

    def render(template, ref, answers, dst, fallback=""):  # noqa: ANN001, ANN202
        calls.append(ref)
        if ref == "gone":
            raise core.MigrationError("cannot render the template: no such version")
        dst.mkdir(parents=True)
        return dst

    monkeypatch.setattr(core, "render", render)
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    ctx = core.Context(tmp_path, tmp_path, {"layout": "multi"}, {"layout": "multi", "_commit": "v2"}, "v1")
    assert ctx.old_render() == ctx.old_render()
    assert ctx.new_render() != ctx.old_render()
    assert calls == ["v1", "HEAD"]
    assert tmp_path / ".git" in ctx.old_render().parents, "kept in the git directory, not the tree"
    # The other stage of the same update (a new process, a new Context) finds it there.
    after = core.Context(tmp_path, tmp_path, {"layout": "multi"}, {"layout": "multi", "_commit": "v2"}, "v1")
    assert after.old_render() == ctx.old_render()
    assert calls == ["v1", "HEAD"]
    core.forget_renders(tmp_path)
    assert not ctx.old_render().exists()
    gone = core.Context(tmp_path, tmp_path, {}, {}, "gone")
    for _ in range(2):
        with pytest.raises(core.MigrationError, match="no such version"):
            gone.old_render()
    assert calls == ["v1", "HEAD", "gone"], "a failed render is not tried again by the next step"


def test_an_update_that_changes_nothing_renders_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Same version, same answers: what Copier just rendered is the old render."""
    monkeypatch.setattr(core, "render", lambda *args, **kwargs: pytest.fail("rendered"))
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / "README.md").write_text("re-created by the update\n")
    answers = {"layout": "multi", "services": "api"}
    same = core.Context(tmp_path, tmp_path, {**answers, "_commit": "v1"}, {**answers, "_commit": "v1"}, "v1")
    assert same.unchanged()
    assert same.old_files() == {"README.md"}
    newer = core.Context(tmp_path, tmp_path, {**answers, "_commit": "v1"}, {**answers, "_commit": "v2"}, "v1")
    other = core.Context(tmp_path, tmp_path, answers, {**answers, "services": "api web", "_commit": "v1"}, "v1")
    assert not newer.unchanged()
    assert not other.unchanged()
