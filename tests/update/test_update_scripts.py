"""The generated project's update tooling: conflict check, pre-commit hook, make targets,
the summary at the end of an update, PRs.

The summary tests run scripts/update.py with a stand-in for Copier (COPIER is its
documented override): a script that changes the project as an update would and
writes the report with the template's own hooks/update/report.py.
scripts/update.py's `pull-request` runs against a local bare remote and a
fake GitHub/Gitea API (a thread serving HTTP on 127.0.0.1), so the test
sees exactly what the scheduled workflow would push and request.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import update_project as up
import yaml
from support import TEMPLATE, project_env

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
    for target in ("update", "template-diff", "add-service", "remove-service", "switch-layout",
                   "check-conflicts"):
        assert f"  {target} " in listed, listed


# ---------------------------------------------------------------- summary
REPORT = ".git/copier-update-report.json"
# Copier's stand-in: applies FAKE_UPDATE's file changes in the project (its working
# directory), then writes the report as the template's engine does (unless told not to).
FAKE_COPIER = """
import importlib.util, json, os, sys
from pathlib import Path

if sys.argv[1:2] == ["check-update"]:  # as for a template without release tags: cannot tell
    sys.exit("Cannot check because cannot obtain old template references")
plan = json.loads(os.environ["FAKE_UPDATE"])
for rel, content in plan["files"].items():
    path = Path(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
if plan["report"]:
    hooks = Path(plan["hooks"])
    sys.path.insert(0, str(hooks))
    spec = importlib.util.spec_from_file_location("report", hooks / "update" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    owned = lambda p: p.startswith(("src/", "tests/")) or p == "README.md"
    built = report.build(Path.cwd(), owned, Path(plan["old"]), Path(plan["new"]), "v0.2.0", "v0.3.0")
    report.write(Path.cwd(), built)
"""
ACTION = ("- **Action:** run `make prod-secrets` before your next deploy: it writes the\n"
          "  missing secret files.\n")


def load_report_module():  # noqa: ANN201 - the template's hooks/update/report.py
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    spec = importlib.util.spec_from_file_location("update_report", TEMPLATE / "hooks/update/report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_owned(path: str) -> bool:
    """User-owned in the stand-in's reports, as _skip_if_exists says it for these files."""
    return path.startswith(("src/", "tests/")) or path == "README.md"


def renders(base: Path) -> tuple[Path, Path]:
    """The template's old and new version of a user-owned file of the project."""
    old, new = base / "old-render", base / "new-render"
    for root, text in ((old, "print('hello')\n"), (new, "print('hello')\nprint('world')\n")):
        (root / "src/app").mkdir(parents=True, exist_ok=True)
        (root / "src/app/main.py").write_text(text)
    return old, new


def changelog(work: Path, added: str) -> str:
    text = (work / "docs/template-changes.md").read_text()
    assert "## Unreleased\n" in text
    return text.replace("## Unreleased\n", f"## Unreleased\n\n{added}", 1)


def run_update(work: Path, files: dict[str, str], *args: str, report: bool = True
               ) -> subprocess.CompletedProcess[str]:
    fake = work.parent / "fake_copier.py"
    fake.write_text(FAKE_COPIER)
    old, new = renders(work.parent)
    plan = {"files": files, "report": report, "hooks": str(TEMPLATE / "hooks"), "old": str(old), "new": str(new)}
    env = project_env(COPIER=shlex.join([sys.executable, str(fake)]), FAKE_UPDATE=json.dumps(plan))
    return subprocess.run([sys.executable, "scripts/update.py", "update", *args], cwd=work,
                          capture_output=True, text=True, env=env, timeout=120)


def test_update_ends_with_one_summary_and_fails_on_conflicts(project: Path, copy_of) -> None:  # noqa: ANN001
    work = copy_of(project)
    files = {
        "Makefile": (work / "Makefile").read_text() + "\n# from the template\n",
        "README.md": CONFLICT,
        "docs/template-changes.md": changelog(work, f"{ACTION}- Services got faster.\n"),
        **{f"scripts/tool-{n:02}.sh": "echo\n" for n in range(1, 13)},
    }
    result = run_update(work, files)
    lines = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    assert lines[-1] == ("update: CONFLICTS in 1 file: keep the lines you want, delete the markers "
                         "(and the .rej files), then commit; check again with: scripts/check-conflicts.sh")
    summary = "\n".join(lines[lines.index("update: summary (template v0.2.0 -> v0.3.0)"):-1])
    assert "\n  2 template files merged:\n    Makefile\n    docs/template-changes.md\n" in summary, summary
    created = [f"    scripts/tool-{n:02}.sh" for n in range(1, 11)]
    assert "\n".join(["  12 files created:", *created, "    ... and 2 more"]) in summary, summary
    assert ("  1 file of yours kept as they are, although the template's version changed; its change: "
            "make template-diff [FILES=path]\n    src/app/main.py\n") in summary, summary
    assert "  conflicts in 1 file:\n    README.md: 2 marker lines (1, 5)\n" in summary, summary
    # Wrapped to the terminal, continued under the text.
    assert summary.endswith("  Before your next deploy:\n    - run `make prod-secrets` before your next "
                            "deploy: it writes the missing secret\n      files."), summary
    assert "faster" not in summary and "CONFLICTS" not in summary

    # The stored diff outlives the update's commit.
    up.commit_all(work, "the update, conflicts resolved later")
    shown = subprocess.run([sys.executable, "scripts/update.py", "template-diff"], cwd=work,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == ("--- a/src/app/main.py\n+++ b/src/app/main.py\n@@ -1 +1,2 @@\n print('hello')\n"
                            "+print('world')\n")
    assert up.make(work, "template-diff", "FILES=src/app/main.py").stdout.endswith(shown.stdout)
    wrong = subprocess.run([sys.executable, "scripts/update.py", "template-diff", "src/app/other.py"], cwd=work,
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 1 and wrong.stderr == (
        "update: src/app/other.py: not a file of yours whose template version changed in the last "
        "update (those are: src/app/main.py)\n"), wrong.stderr


def test_allow_conflicts_exits_0_and_a_missing_summary_is_one_line(project: Path, copy_of) -> None:  # noqa: ANN001
    """An engine that wrote no summary (a template older than the project's update.py):
    one line says so, the conflicts are listed all the same."""
    work = copy_of(project)
    # The last update's report: older than this update, so not this update's.
    stale = work / REPORT
    stale.write_text(json.dumps({"from": "v0.1.0", "to": "v0.2.0", "merged": ["stale-file"], "created": [],
                                 "deleted": [], "edited": [], "user_owned_changed": [],
                                 "summary": {"text": ["update: summary (template v0.1.0 -> v0.2.0)"]}}))
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    files = {"Makefile": CONFLICT, "docs/template-changes.md": changelog(work, ACTION)}
    result = run_update(work, files, "--allow-conflicts", report=False)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    start = lines.index("update: summary")
    assert lines[start:] == [
        "update: summary",
        "  no update summary (the template's engine wrote none): `git status` shows the changed files, "
        "docs/template-changes.md what to do",
        "  conflicts:",
        "    Makefile:1:<<<<<<< before updating",
        "    Makefile:5:>>>>>>> after updating",
        "update: CONFLICTS in 1 file: keep the lines you want, delete the markers (and the .rej files), "
        "then commit; check again with: scripts/check-conflicts.sh",
    ], result.stderr


def test_an_update_without_conflicts_exits_0(project: Path, copy_of) -> None:  # noqa: ANN001
    work = copy_of(project)
    result = run_update(work, {"Makefile": (work / "Makefile").read_text() + "\n# more\n"})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[lines.index("update: summary (template v0.2.0 -> v0.3.0)"):] == [
        "update: summary (template v0.2.0 -> v0.3.0)",
        "  1 template file merged:",
        "    Makefile",
        "  1 file of yours kept as they are, although the template's version changed; its change: "
        "make template-diff [FILES=path]",
        "    src/app/main.py",
        "update: done: review with `git status` and `git diff`, run `make test-unit`, then commit",
    ], result.stderr


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
    # What `scripts/update.py update --allow-conflicts` left: a change, a conflict, a new
    # action, and the engine's report with the template's changes of two files of the team's.
    (work / "Makefile").write_text((work / "Makefile").read_text() + "\n# from the template\n")
    (work / "README.md").write_text(CONFLICT)
    (work / "docs/template-changes.md").write_text(changelog(work, f"{ACTION}- Services got faster.\n"))
    (work / "src/app/logo.png").write_bytes(b"\x89PNG\0mine")
    old, new = renders(work.parent)
    (new / "src/app/main.py").write_text("".join(f"print({n})\n" for n in range(400)))
    (old / "src/app/logo.png").write_bytes(b"\x89PNG\0old")
    (new / "src/app/logo.png").write_bytes(b"\x89PNG\0new")
    report = load_report_module()
    report.write(work, report.build(work, fake_owned, old, new, "v0.2.0", "v0.3.0"))

    result = pull_request(work, api_url)
    assert result.returncode == 0, result.stderr
    pushed = up.git(remote, "log", "-1", "--format=%an|%s", "template-update")
    assert pushed.strip() == "template-update[bot]|Update from the project template 0.2.0 to 0.3.0"
    changed = up.git(remote, "diff", "--name-only", "main", "template-update").split()
    assert changed == ["Makefile", "README.md", "docs/template-changes.md", "src/app/logo.png"]
    get, post = handler.requests
    assert get["method"] == "GET" and get["path"].startswith("/api/v1/repos/acme/shop/pulls?state=open")
    assert post["path"] == "/api/v1/repos/acme/shop/pulls" and post["auth"] == "token s3cret"
    body = post["body"]
    assert {k: body[k] for k in ("title", "head", "base")} == {
        "title": "Update from the project template 0.2.0 to 0.3.0", "head": "template-update", "base": "main",
    }
    text = body["body"]
    sections = {part.split("**")[0]: part for part in text.split("\n\n**")[1:]}
    assert text.startswith("`copier update` to the template's latest release (template v0.2.0 -> v0.3.0), "), text
    assert sections["Before your next deploy:"] == (
        "Before your next deploy:**\n\n- run `make prod-secrets` before your next deploy: it writes the missing "
        "secret files."), text
    assert sections["Conflicts to resolve"].endswith("\n\n- `README.md`: 2 marker lines (1, 5)"), text
    what = sections["What changed in the template"]
    assert "\n- Services got faster." in what and "Makefile" not in what, text
    assert sections["2 template files merged:"] == (
        "2 template files merged:**\n\n- `Makefile`\n- `docs/template-changes.md`"), text
    assert sections["1 file created:"] == "1 file created:**\n\n- `src/app/logo.png`", text
    owned = sections["2 files of yours kept as they are, although the template's version changed."]
    binary, main = owned.split("<details>")[1:]
    assert binary.startswith("<summary><code>src/app/logo.png</code></summary>\n\nA binary or very large file"), owned
    assert main.startswith("<summary><code>src/app/main.py</code></summary>\n\n```diff\n--- a/src/app/main.py\n"
                           "+++ b/src/app/main.py\n@@ -1 +1,400 @@\n-print('hello')\n+print(0)\n"), owned
    # 150 lines of the diff's 404, then where the rest is.
    assert "\n+print(145)\n```\n\n... 254 more lines: `make template-diff FILES=src/app/main.py` after a local " \
           "`make update` shows them all.\n\n</details>" in main, owned
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


def test_make_update_at_the_latest_release_runs_no_update(project: Path, copy_of) -> None:  # noqa: ANN001
    """Copier's check-update says the project is at the latest release: `make update`
    says so in one line and renders nothing (no `copier update`: the stand-in would write)."""
    work = copy_of(project)
    copier = Path(sys.executable).parent / "copier"
    result = subprocess.run([sys.executable, "scripts/update.py", "update"], cwd=work, capture_output=True,
                            text=True, env=project_env(COPIER=str(copier)), timeout=120)
    assert result.returncode == 0, result.stderr
    release = yaml.safe_load((work / ".copier-answers.yml").read_text())["_commit"]
    assert f"already at the template's latest release {release.lstrip('v')}" in result.stderr, result.stderr
    assert "running" not in result.stderr, result.stderr
    assert subprocess.run(["git", "status", "--porcelain"], cwd=work, capture_output=True,
                          text=True).stdout == ""
