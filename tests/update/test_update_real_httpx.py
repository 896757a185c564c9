"""The httpx -> httpx2 repair (hooks/update/steps/switch_import.py) on small projects.

Real projects from before the switch: test_update_real_history.py. Here the
corner cases: what is rewritten, what is left alone, twice is once.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import update_project as up
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))
from update import cli, core  # noqa: E402
from update.steps import switch_import  # noqa: E402

REWRITTEN = {
    "import httpx": "import httpx2 as httpx",
    "import httpx as client": "import httpx2 as client",
    "import os, httpx": "import os, httpx2 as httpx",
    "    import httpx  # lazy": "    import httpx2 as httpx  # lazy",
    "from httpx import Client, HTTPStatusError": "from httpx2 import Client, HTTPStatusError",
    "from httpx import (": "from httpx2 import (",
    "from httpx._types import URLTypes": "from httpx2._types import URLTypes",
}
UNCHANGED = [
    "import httpx2 as httpx",
    "from httpx2 import Client",
    "import httpxyz",
    "from httpx_sse import connect_sse",
    "# import httpx",
    "client = httpx.Client()",
    'URL = "import httpx"',
]
PYPROJECT = """[project]
name = "app"
version = "0.1.0"
dependencies = ["fastapi>=0.115"]

[dependency-groups]
dev = ["pytest>=8", "{client}"]
"""
OLD_TEST = ("import httpx\n\n\ndef test_health(api_url: str) -> None:\n"
            "    assert httpx.get(api_url).status_code == 200\n")


@pytest.mark.parametrize(("line", "want"), REWRITTEN.items(), ids=list(REWRITTEN))
def test_imports_of_httpx_import_httpx2(line: str, want: str) -> None:
    assert switch_import.switch_import_line(line, "httpx", "httpx2") == want


@pytest.mark.parametrize("line", UNCHANGED)
def test_other_lines_are_left_alone(line: str) -> None:
    assert switch_import.switch_import_line(line, "httpx", "httpx2") == line


def project(tmp_path: Path, client: str) -> Path:
    """A single-layout project: root pyproject.toml, user-owned tests/, a template-owned script."""
    root = tmp_path / "project"
    for rel, text in {
        "pyproject.toml": PYPROJECT.format(client=client),
        "tests/integration/test_live.py": OLD_TEST,
        "tests/integration/test_crlf.py": "import httpx\r\n",
        "scripts/probe.py": "import httpx\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(text.encode())
    up.commit_all(root, "A project from before httpx2")
    return root


def switch(root: Path, old: str = "httpx", new: str = "httpx2") -> subprocess.CompletedProcess[str]:
    """The step, for old -> new, as the after stage runs it: its exit code and stderr."""
    stderr = io.StringIO()
    ctx = core.Context.load(root, TEMPLATE)
    with mock.patch.object(switch_import, "SWITCHES", ((old, new),)), contextlib.redirect_stderr(stderr):
        code = cli.guarded(lambda: cli.run(ctx, [switch_import]))
    return subprocess.CompletedProcess([], code, "", stderr.getvalue())


def test_user_tests_of_a_project_that_installs_httpx2_import_it(tmp_path: Path) -> None:
    root = project(tmp_path, "httpx2>=2.16")
    first = switch(root)
    assert first.returncode == 0, first.stderr
    assert (root / "tests/integration/test_live.py").read_text() == OLD_TEST.replace(
        "import httpx\n", "import httpx2 as httpx\n", 1)
    assert (root / "tests/integration/test_crlf.py").read_bytes() == b"import httpx2 as httpx\r\n"
    assert (root / "scripts/probe.py").read_text() == "import httpx\n", "a template-owned file was rewritten"
    assert first.stderr.splitlines() == [
        f"migration: tests/integration/{name}: imports httpx2 in place of httpx, which the project no longer installs"
        for name in ("test_crlf.py", "test_live.py")
    ]
    second = switch(root)
    assert second.returncode == 0 and not second.stderr, f"not idempotent:\n{second.stderr}"


def test_a_project_that_still_installs_httpx_is_left_alone(tmp_path: Path) -> None:
    root = project(tmp_path, "httpx>=0.27")  # the team added httpx back (uv add httpx)
    result = switch(root)
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert (root / "tests/integration/test_live.py").read_text() == OLD_TEST


def test_an_unreadable_pyproject_leaves_the_imports_alone_and_says_so(tmp_path: Path) -> None:
    root = project(tmp_path, "httpx2>=2.16")
    (root / "pyproject.toml").write_text("<<<<<<< before updating\n")
    result = switch(root)
    assert result.returncode == 0, result.stderr
    assert "pyproject.toml does not parse" in result.stderr, result.stderr
    assert (root / "tests/integration/test_live.py").read_text() == OLD_TEST


def test_the_same_name_twice_is_refused_in_one_line(tmp_path: Path) -> None:
    root = project(tmp_path, "httpx2>=2.16")
    result = switch(root, "httpx", "HTTPX")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "migration failed: switch-import needs two different distribution names, got 'httpx' and 'HTTPX'"]
    assert (root / "tests/integration/test_live.py").read_text() == OLD_TEST


def test_without_tomllib_the_requirements_are_read_loosely() -> None:
    text = PYPROJECT.format(client="httpx2>=2.16") + '[project.optional-dependencies]\nweb = ["Flask[async] >= 3"]\n'
    found = switch_import.declared_loosely(text)
    assert {"fastapi", "pytest", "httpx2", "flask"} <= found
    assert "httpx" not in found
