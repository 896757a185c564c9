"""The generated project's update tooling: conflict check, pre-commit hook, make targets, PRs.

scripts/update.py's `pull-request` runs against a local bare remote and a
fake GitHub/Gitea API (a thread serving HTTP on 127.0.0.1), so the test
sees exactly what the scheduled workflow would push and request.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import update_project as up
import yaml
from support import project_env

pytestmark = pytest.mark.slow  # renders older template versions and runs copier update

SINGLE = up.LAYOUTS["single-python"]
CONFLICT = "<" * 7 + " before updating\nmine\n" + "=" * 7 + "\ntheirs\n" + ">" * 7 + " after updating\n"


@pytest.fixture(scope="module")
def project(history, tmp_path_factory) -> Path:  # noqa: ANN001
    """A committed single-layout project at the history's HEAD (tests copy it before changing it)."""
    project = up.render(history.path, history.head, SINGLE, tmp_path_factory.mktemp("scripts") / "project")
    up.commit_all(project, "generated")
    return project


def check(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scripts/check-conflicts.sh", *args], cwd=project, capture_output=True, text=True)


# --------------------------------------------------------- conflict check
def test_check_conflicts_finds_markers_and_rej_files(project: Path, copy_of) -> None:  # noqa: ANN001
    work = copy_of(project)
    assert check(work).returncode == 0
    (work / "notes.md").write_text("Title\n=======\n\nA setext heading is not a conflict.\n")
    assert check(work).returncode == 0, "a Markdown heading underline is not a conflict marker"
    (work / "src/app/main.py").write_text(CONFLICT)
    (work / "Dockerfile.rej").write_text("@@ -1 +1 @@\n")  # git-ignored, found anyway
    result = check(work, "--list")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "src/app/main.py:1:<<<<<<< before updating",
        "src/app/main.py:5:>>>>>>> after updating",
        "Dockerfile.rej",
    ]
    human = check(work)
    assert human.returncode == 1 and "delete the markers" in human.stderr and "Dockerfile.rej" in human.stderr


def test_check_conflicts_works_outside_git(project: Path, tmp_path: Path) -> None:
    work = tmp_path / "plain"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns(".git"))
    (work / "node_modules/pkg").mkdir(parents=True)
    (work / "node_modules/pkg/a.js").write_text(CONFLICT)  # other people's files
    assert check(work).returncode == 0
    (work / "README.md").write_text(CONFLICT)
    result = check(work, "--list")
    assert result.returncode == 1 and result.stdout.startswith("README.md:1:"), result.stdout


def test_pre_commit_config_runs_the_check(project: Path) -> None:
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for repo in config["repos"] if repo["repo"] == "local" for h in repo["hooks"]}
    hook = hooks["check-conflicts"]
    assert hook["entry"] == "scripts/check-conflicts.sh" and hook["language"] == "script"
    assert hook["always_run"] is True and hook["pass_filenames"] is False
    assert up.is_executable(project / hook["entry"])


@pytest.mark.slow
def test_pre_commit_hook_blocks_a_conflicted_commit(project: Path, copy_of) -> None:  # noqa: ANN001
    work = copy_of(project)
    env = project_env(PRE_COMMIT_HOME=str(work.parent / "pre-commit-home"))
    run = ["uvx", "pre-commit", "run", "--all-files"]
    passed = subprocess.run(run, cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    (work / "README.md").write_text(CONFLICT)
    up.git(work, "add", "README.md")
    failed = subprocess.run(run, cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert failed.returncode == 1 and "README.md:1:" in failed.stdout, failed.stdout + failed.stderr


def test_make_help_lists_the_update_targets(project: Path) -> None:
    listed = up.make(project, "help").stdout
    for target in ("update", "add-service", "remove-service", "switch-layout", "check-conflicts"):
        assert f"  {target} " in listed, listed


# ------------------------------------------------------------ pull request
class FakeForge(BaseHTTPRequestHandler):
    """GitHub's and Gitea's pull request endpoints, as far as update.py uses them."""

    requests: list[dict] = []
    open_pulls: list[dict] = []

    def _reply(self, body: object, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append({"method": "GET", "path": self.path, "auth": self.headers["Authorization"]})
        self._reply(self.open_pulls)

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"method": "POST", "path": self.path, "auth": self.headers["Authorization"],
                              "body": body})
        self._reply({"html_url": "http://forge.test/acme/shop/pulls/7", **body}, status=201)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def forge() -> Iterator[tuple[str, type[FakeForge]]]:
    handler = type("Forge", (FakeForge,), {"requests": [], "open_pulls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v1", handler
    finally:
        server.shutdown()
        thread.join()


def pull_request(work: Path, api_url: str) -> subprocess.CompletedProcess[str]:
    env = project_env(TOKEN="s3cret", API_URL=api_url, REPOSITORY="acme/shop", BASE="main")
    return subprocess.run(
        ["uv", "run", "--quiet", "scripts/update.py", "pull-request", "--branch", "template-update",
         "--title", "Update from the project template 0.2.0 to 0.3.0"],
        cwd=work, capture_output=True, text=True, env=env, timeout=300,
    )


def test_pull_request_pushes_the_branch_and_opens_one_pull_request(project, copy_of, forge) -> None:  # noqa: ANN001
    api_url, handler = forge
    work = copy_of(project)
    remote = work.parent / "remote.git"
    up.git(work, "init", "--quiet", "--bare", str(remote))
    up.git(work, "remote", "add", "origin", str(remote))
    up.git(work, "push", "--quiet", "origin", "main")
    # What `scripts/update.py update --allow-conflicts` left: a change and a conflict.
    (work / "Makefile").write_text((work / "Makefile").read_text() + "\n# from the template\n")
    (work / "README.md").write_text(CONFLICT)
    changes = work / "docs/template-changes.md"
    changes.write_text(changes.read_text().replace("## Unreleased\n", "## Unreleased\n\n- Services got faster.\n", 1))

    result = pull_request(work, api_url)
    assert result.returncode == 0, result.stderr
    pushed = up.git(remote, "log", "-1", "--format=%an|%s", "template-update")
    assert pushed.strip() == "template-update[bot]|Update from the project template 0.2.0 to 0.3.0"
    changed = up.git(remote, "diff", "--name-only", "main", "template-update").split()
    assert changed == ["Makefile", "README.md", "docs/template-changes.md"]
    get, post = handler.requests
    assert get["method"] == "GET" and get["path"].startswith("/api/v1/repos/acme/shop/pulls?state=open")
    assert post["path"] == "/api/v1/repos/acme/shop/pulls" and post["auth"] == "token s3cret"
    body = post["body"]
    assert {k: body[k] for k in ("title", "head", "base")} == {
        "title": "Update from the project template 0.2.0 to 0.3.0", "head": "template-update", "base": "main",
    }
    assert "Conflicts to resolve" in body["body"] and "README.md:1:" in body["body"]
    assert "**What changed in the template**" in body["body"] and "\n- Services got faster." in body["body"], body
    assert "Makefile" not in body["body"].split("**What changed in the template**")[1].split("**Conflicts")[0]
    assert "http://forge.test/acme/shop/pulls/7" in result.stderr

    # The next week's run refreshes the branch; the open pull request is reused.
    handler.requests.clear()
    handler.open_pulls.append({"head": {"ref": "template-update"}, "html_url": "http://forge.test/pulls/7"})
    up.git(work, "switch", "--quiet", "main")
    (work / "Makefile").write_text((work / "Makefile").read_text() + "\n# and more\n")
    result = pull_request(work, api_url)
    assert result.returncode == 0, result.stderr
    assert [r["method"] for r in handler.requests] == ["GET"], handler.requests


def test_pull_request_needs_its_settings(project: Path) -> None:
    result = subprocess.run(
        ["uv", "run", "--quiet", "scripts/update.py", "pull-request"],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in project_env().items() if k not in ("TOKEN", "API_URL", "REPOSITORY", "BASE")},
    )
    assert result.returncode == 1 and "set TOKEN, API_URL, REPOSITORY, BASE" in result.stderr
