"""Unit tests of hooks/update (core, ownership, the renames step, the cli): small git
repos, no template renders.

The end-to-end proof (Copier running the update during real updates) is in
test_update_history.py and test_update_services.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import update_project as up
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update import core, ownership  # noqa: E402
from update.steps import renames  # noqa: E402

SCRIPT = TEMPLATE / "hooks" / "update"


def repo(tmp_path: Path, files: dict[str, str], answers: str = "layout: multi\nservices: api web:node\n") -> Path:
    root = tmp_path / "project"
    for rel, text in {**files, ".copier-answers.yml": answers}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    up.commit_all(root, "project")
    return root


# ------------------------------------------------------------------ owners
@pytest.mark.parametrize(
    ("path", "user_owned"),
    [
        ("services/api/src/api/main.py", True),
        ("services/web/tests/unit/api.test.js", True),
        ("src/app/main.py", True),
        ("tests/integration/test_stack.py", True),
        (".env", True),
        ("deploy/dev/.env", True),
        ("deploy/dev/.env.example", False),
        ("services/api/Dockerfile", False),
        # the dependency manifests are the user's (uv add, npm install); tool settings are not
        ("services/api/pyproject.toml", True),
        ("services/web/package.json", True),
        ("pyproject.toml", True),
        ("services/api/pytest.ini", False),
        ("ruff.toml", False),
        ("deploy/dev/docker-compose.yml", False),
        ("scripts/update.py", False),
        ("README.md", True),
        ("local.mk", True),
        ("deploy/dev/docker-compose.override.yml", True),
        ("deploy/prod/docker-compose.override.yml", True),
        # the prod edge: the template's routes, and the user's (issue 15)
        ("deploy/prod/Caddyfile", False),
        ("deploy/prod/Caddyfile.local", True),
        ("services/api/deploy/test/docker-compose.override.yml", True),
        ("services/api/deploy/test/docker-compose.yml", False),
        ("docs/development.md", False),
        (".github/workflows/ci.yml", False),
    ],
)
def test_ownership_follows_skip_if_exists(owned, path: str, user_owned: bool) -> None:
    assert owned(path) is user_owned


@pytest.mark.parametrize(
    ("path", "layout", "unit"),
    [
        ("services/api/src/api/main.py", "multi", "services/api"),
        ("tests/integration/conftest.py", "multi", "tests"),
        ("README.md", "multi", "."),
        ("src/app/main.py", "single", "."),
        ("tests/unit/test_api.py", "single", "."),
    ],
)
def test_unit_of(path: str, layout: str, unit: str) -> None:
    assert ownership.unit_of(path, layout) == unit


# ------------------------------------------------------------------- merge
def test_merge_applies_the_user_edit_to_the_new_version() -> None:
    base = b"a\nb\nc\nd\ne\nf\ng\n"
    user = b"a\nb\nUSER\nc\nd\ne\nf\ng\n"
    new = b"a\nb\nc\nd\ne\nf\nNEW\n"
    assert core.merge(user, base, new) == (b"a\nb\nUSER\nc\nd\ne\nf\nNEW\n", False)


def test_merge_marks_a_conflict_like_copier() -> None:
    merged, conflicted = core.merge(b"user\n", b"base\n", b"new\n")
    assert conflicted
    assert merged.splitlines()[0] == b"<<<<<<< before updating"
    assert merged.splitlines()[-1] == b">>>>>>> after updating"


# ------------------------------------------------------- keep user files
def test_keep_user_files_restores_deleted_and_drops_recreated(tmp_path: Path, owned) -> None:  # noqa: ANN001
    root = repo(tmp_path, {
        "services/api/Dockerfile": "FROM x\n",
        "services/api/src/api/main.py": "user code\n",
        "services/api/src/api/gone.py": "deleted by the update\n",
        "tests/integration/test_stack.py": "cross-service\n",
        ".gitignore": "*.rej\nlocal/\n",
    })
    # What copier did: deleted a user file, re-created one the user had deleted,
    # created the files of a new service, left a .rej.
    (root / "services/api/src/api/gone.py").unlink()
    (root / "services/api/src/api/recreated.py").write_text("template sample\n")
    (root / "services/billing/src").mkdir(parents=True)
    (root / "services/billing/src/worker.js").write_text("new service\n")
    (root / "services/api/src/api/main.py.rej").write_text("hunk\n")
    # Ignored files of the user are never touched.
    (root / "services/api/src/api/local").mkdir()
    (root / "services/api/src/api/local/secret.py").write_text("ignored\n")

    kept = ownership.keep_user_files(root, owned, "multi")

    assert kept.restored == ["services/api/src/api/gone.py"]
    assert (root / "services/api/src/api/gone.py").read_text() == "deleted by the update\n"
    assert kept.dropped == ["services/api/src/api/recreated.py"]
    assert not (root / "services/api/src/api/recreated.py").exists()
    assert (root / "services/billing/src/worker.js").is_file(), "a new service lost its files"
    assert (root / "services/api/src/api/main.py.rej").is_file(), "a .rej must stay for the check"
    assert (root / "services/api/src/api/local/secret.py").is_file()


def test_keep_user_files_creates_fresh_paths_and_new_root_folders(tmp_path: Path, owned) -> None:  # noqa: ANN001
    root = repo(tmp_path, {"Makefile": "all:\n", "services/app/src/app/main.py": "x\n"})
    (root / "tests/integration").mkdir(parents=True)
    (root / "tests/integration/test_stack.py").write_text("new root folder\n")
    (root / "services/app/tests").mkdir(parents=True)
    (root / "services/app/tests/fresh.py").write_text("fresh\n")
    kept = ownership.keep_user_files(root, owned, "multi", fresh={"services/app/tests/fresh.py"})
    assert kept.dropped == []
    # In the single layout the project root is the service: nothing is re-created.
    kept = ownership.keep_user_files(root, owned, "single")
    assert sorted(kept.dropped) == ["services/app/tests/fresh.py", "tests/integration/test_stack.py"]


def test_new_sample_files_that_need_the_new_sample_are_not_added_to_an_existing_service(
        tmp_path: Path, owned) -> None:  # noqa: ANN001
    """A file new to the template is created in an existing service (a new migration, say),
    but not one of files.WHOLE_SAMPLE_FILES (guards.py imports the new settings): those only
    come with new services, where the rest of their sample comes too."""
    root = repo(tmp_path, {"services/api/src/api/main.py": "old sample\n"})
    new = {"services/api/src/api/guards.py": "from .settings import current\n",
           "services/api/tests/unit/test_guards.py": "from api import guards\n",
           "services/api/migrations/versions/llm_0002.py": "revision\n",
           "services/billing/src/billing/guards.py": "a new service's\n"}
    for rel, text in new.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    fresh = ownership.new_user_files(root, owned, "multi", {"layout": "multi"}, old_files=set)
    assert fresh == {"services/api/migrations/versions/llm_0002.py"}
    kept = ownership.keep_user_files(root, owned, "multi", fresh)
    assert sorted(kept.dropped) == ["services/api/src/api/guards.py", "services/api/tests/unit/test_guards.py"]
    assert (root / "services/billing/src/billing/guards.py").is_file(), "a new service lost its file"


# ----------------------------------------------------------------- rename
def context(root: Path, template: Path, version_from: str = "v1") -> core.Context:
    answers = core.load_answers((root / ".copier-answers.yml").read_text())
    return core.Context(root, template, answers, answers, version_from)


def fake_render(old_content: str | None):  # noqa: ANN201
    def _render(template, ref, answers, dst, fallback=""):  # noqa: ANN001, ANN202
        if old_content is None:
            raise core.MigrationError("no such version")
        (dst / "scripts").mkdir(parents=True)
        (dst / "scripts/old.sh").write_text(old_content)
        return dst

    return _render


OLD = "#!/bin/sh\nset -eu\none\ntwo\nthree\nfour\nfive\nsix\n"
NEW = "#!/bin/sh\nset -eu\none\ntwo\nthree\nfour\nfive\nSIX\n"


@pytest.mark.parametrize(
    ("user", "pristine", "new_text", "old_kept"),
    [
        pytest.param(OLD, OLD, NEW, False, id="unedited"),
        pytest.param(OLD.replace("set -eu\n", "set -eu\n# mine\n"), OLD,
                     NEW.replace("set -eu\n", "set -eu\n# mine\n"), False, id="edited"),
        pytest.param(OLD.replace("set -eu\n", "set -eu\n# mine\n"), None, NEW, True, id="old-version-gone"),
    ],
)
def test_rename_carries_the_edits_over(tmp_path: Path, monkeypatch, user, pristine, new_text, old_kept) -> None:  # noqa: ANN001
    root = repo(tmp_path, {"scripts/old.sh": user})
    monkeypatch.setattr(core, "render", fake_render(pristine))
    # What copier did: rendered the new name, deleted the old one.
    (root / "scripts/old.sh").unlink()
    (root / "scripts/new.sh").write_text(NEW)
    (root / "scripts/new.sh").chmod(0o755)
    renames.rename(context(root, tmp_path), "scripts/old.sh", "scripts/new.sh")
    assert (root / "scripts/new.sh").read_text() == new_text
    assert up.is_executable(root / "scripts/new.sh")
    assert (root / "scripts/old.sh").exists() is old_kept
    if old_kept:
        assert (root / "scripts/old.sh").read_text() == user


def test_rename_without_the_old_file_does_nothing(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    root = repo(tmp_path, {"README.md": "x\n"})
    monkeypatch.setattr(core, "render", fake_render(OLD))
    assert "nothing to carry over" in renames.rename(context(root, tmp_path), "scripts/old.sh", "scripts/new.sh")


# ---------------------------------------------------------------- layouts
# check_layouts: test_layout_switch.py
def test_check_command_refuses_multi_to_single_before_anything_moves(tmp_path: Path) -> None:
    root = repo(tmp_path, {"Makefile": "all:\n"})
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "check", "--layout=single", "--services=api"],
        cwd=root, capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "multi to the single layout is not supported" in result.stderr
    assert not up.git(root, "status", "--porcelain")


# ----------------------------------------------------------------- answer
def test_answer_fills_only_a_missing_answer(tmp_path: Path) -> None:
    root = repo(tmp_path, {}, answers="# Changes here will be overwritten by Copier\nlayout: multi\n")
    assert "before the question existed" in core.set_answer(root, "image_flavor", "slim")
    assert "already answered" in core.set_answer(root, "image_flavor", "alpine")
    text = (root / ".copier-answers.yml").read_text()
    assert text == "# Changes here will be overwritten by Copier\nlayout: multi\nimage_flavor: slim\n"
