"""Lock files: `copier copy` writes them, offline it still succeeds, a stale lock fails lock-check.

These tests lock for real (uv and npm reach their package indexes; their
caches make repeats cheap), so they turn off SKIP_LOCK, which every other
render of the suite sets (support.py): SKIP_LOCK=0.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import BASE_ANSWERS, TEMPLATE, project_env, run

pytestmark = pytest.mark.slow

ANSWERS = {**BASE_ANSWERS, "layout": "multi", "services": "api web:node", "components": "[]",
           "ci_provider": "none"}
LOCKS = ["services/api/uv.lock", "services/web/package-lock.json", "uv.lock"]


def copier_copy(dst: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`copier copy` as a user runs it (the CLI, tasks included)."""
    data = [arg for key, value in ANSWERS.items() for arg in ("-d", f"{key}={value}")]
    return subprocess.run(
        [str(Path(sys.executable).parent / "copier"), "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
         *data, str(TEMPLATE), str(dst)],
        capture_output=True, text=True, env=env, timeout=900,
    )


def without_skip(**extra: str) -> dict[str, str]:
    return project_env(SKIP_LOCK="0", **extra)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("locked") / "p"
    result = copier_copy(dst, without_skip())
    assert result.returncode == 0, f"copier copy failed:\n{result.stdout}\n{result.stderr}"
    return dst


def test_copy_writes_every_lock(locked: Path) -> None:
    missing = [lock for lock in LOCKS if not (locked / lock).is_file()]
    assert not missing, f"copier copy left these locks out: {missing}"
    run(["make", "lock-check"], cwd=locked, env=without_skip())


def test_copy_without_a_package_index_succeeds_and_says_make_lock(tmp_path: Path) -> None:
    empty = tmp_path / "empty-caches"
    env = without_skip(UV_OFFLINE="1", UV_CACHE_DIR=str(empty / "uv"), npm_config_offline="true",
                       npm_config_cache=str(empty / "npm"))
    result = copier_copy(tmp_path / "p", env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"copier copy failed offline:\n{output}"
    made = [lock for lock in LOCKS if (tmp_path / "p" / lock).is_file()]
    assert not made, f"locks written although no index was reachable: {made}\n{output}"
    for lock in LOCKS:
        lines = [line for line in output.splitlines() if f"lock.py: {lock} missing" in line]
        assert len(lines) == 1 and "run `make lock`" in lines[0], f"no one-line message for {lock}:\n{output}"


@pytest.mark.parametrize(("manifest", "edit", "message"), [
    ("services/api/pyproject.toml", ('    "ruff>=0.6",\n', '    "ruff>=0.6",\n    "six>=1.16",\n'),
     "services/api: uv.lock is out of date"),
    ("services/web/package.json", ('"fastify": "^5.6.0"', '"fastify": "^5.6.0",\n    "ms": "^2.1.3"'),
     "services/web: package-lock.json is out of date: dependencies differ (ms)"),
])
def test_stale_lock_fails_lock_check_with_the_fix(locked: Path, tmp_path: Path, manifest: str,
                                                  edit: tuple[str, str], message: str) -> None:
    project = Path(shutil.copytree(locked, tmp_path / "p"))
    path = project / manifest
    text = path.read_text()
    assert edit[0] in text, f"{manifest} no longer has {edit[0]!r}"
    path.write_text(text.replace(edit[0], edit[1], 1))
    result = subprocess.run(["make", "lock-check"], cwd=project, capture_output=True, text=True,
                            env=without_skip(), timeout=600)
    assert result.returncode != 0, f"lock-check passed with a stale lock:\n{result.stdout}"
    assert message in result.stderr and "run `make lock` and commit the lock" in result.stderr, result.stderr
    run(["make", "lock"], cwd=project, env=without_skip())
    run(["make", "lock-check"], cwd=project, env=without_skip())


def test_skip_lock_skips_only_what_copier_runs(locked: Path, tmp_path: Path) -> None:
    """SKIP_LOCK=1 (the template's tests) stops the copy task, never `make lock`."""
    project = Path(shutil.copytree(locked, tmp_path / "p"))
    for lock in LOCKS:
        (project / lock).unlink()
    env = {**os.environ, "SKIP_LOCK": "1"}
    result = subprocess.run([sys.executable, "scripts/lock.py", "--from-copier", "--missing"], cwd=project,
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0 and "SKIP_LOCK=1" in result.stdout, result.stdout + result.stderr
    assert not any((project / lock).exists() for lock in LOCKS)
    run([sys.executable, "scripts/lock.py"], cwd=project, env=env)
    assert all((project / lock).is_file() for lock in LOCKS)
