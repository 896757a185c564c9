"""hooks/gitutil.py: the one git helper of the hooks and of the generated
project's scripts (rendered as scripts/lib/gitutil.py from the same source)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import COMBOS, TEMPLATE, run

sys.path.insert(0, str(TEMPLATE / "hooks"))
import gitutil  # noqa: E402


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    run("git init -q -b main && mkdir sub && printf 'one\\n' > sub/a.txt && printf 'x\\n' > 'b c.txt' "
        "&& git add -A && git -c user.name=t -c user.email=t@example.com commit -qm init", cwd=tmp_path)
    return tmp_path


def test_show_reads_the_committed_file_relative_to_the_folder(repo: Path) -> None:
    (repo / "sub/a.txt").write_text("edited\n")
    assert gitutil.show(repo / "sub", "a.txt") == b"one\n"
    assert gitutil.show(repo, "sub/missing.txt") is None


def test_paths_survive_spaces(repo: Path) -> None:
    assert sorted(gitutil.paths(repo, "ls-files")) == ["b c.txt", "sub/a.txt"]


def test_a_failing_command_raises_one_line_naming_it(repo: Path) -> None:
    with pytest.raises(gitutil.GitError) as raised:
        gitutil.git(repo, "checkout", "no-such-branch")
    message = str(raised.value)
    assert message.startswith("git checkout no-such-branch failed: ") and "\n" not in message, message
    assert gitutil.git(repo, "checkout", "no-such-branch", check=False) == b""
    assert not gitutil.ok(repo, "rev-parse", "--verify", "--quiet", "no-such-branch")
    assert gitutil.ok(repo, "rev-parse", "--verify", "--quiet", "HEAD")


def test_a_missing_folder_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(gitutil.GitError, match="^git status: "):
        gitutil.text(tmp_path / "missing", "status")
    assert not gitutil.ok(tmp_path / "missing", "status")


@pytest.mark.parametrize("name", ["multi-none-nocomp", "single-gitea-node-api"])
def test_projects_get_the_hooks_module_byte_for_byte(render: Callable[[str], Path], name: str) -> None:
    assert name in COMBOS
    rendered = (render(name) / "scripts/lib/gitutil.py").read_bytes()
    assert rendered == (TEMPLATE / "hooks/gitutil.py").read_bytes()
