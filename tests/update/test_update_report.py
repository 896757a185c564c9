"""hooks/update/report.py: what an update did, read off a small git project and two template renders;
hooks/update/summary.py: the summary composed from it (the terminal's lines, the pull request's body)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "hooks"))  # report.py imports gitutil from there
from update import summary  # noqa: E402

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def load_report():  # noqa: ANN201 - the module, loaded by path (hooks/update/ is a folder of the engine)
    spec = importlib.util.spec_from_file_location("update_report", TEMPLATE / "hooks/update/report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = load_report()


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def owned(path: str) -> bool:
    """User-owned as the template's _skip_if_exists says it, in small: src/, tests/, README.md."""
    return path.startswith(("src/", "tests/")) or path == "README.md"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A committed project before its update."""
    root = tree(tmp_path / "project", {
        ".gitignore": "*.rej\n",
        "Makefile": "all:\n",
        "Dockerfile": "FROM python\n",
        "scripts/old.sh": "echo old\n",
        "src/app/main.py": "print('mine')\n",
        "src/app/settings.py": "A = 1\n",
        "README.md": "# Shop\n",
    })
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "before the update")
    return root


def update(root: Path) -> None:
    """What a copier update and the engine's steps leave: changes staged and not, untracked files."""
    (root / "Makefile").write_text("all:\n\ttest\n")  # merged, not staged
    (root / "Dockerfile").write_text("FROM python:3.12\n")
    git(root, "add", "Dockerfile")  # merged, staged (a step staged it)
    (root / "src/app/settings.py").write_text("A = 1\nB = 2\n")  # a step edited a user-owned file
    git(root, "rm", "--quiet", "scripts/old.sh")
    tree(root, {"scripts/new.sh": "echo new\n", "tests/test_new.py": "def test(): pass\n",
                "Makefile.rej": "@@ -1 +1 @@\n"})  # the .rej file is git-ignored
    git(root, "add", "scripts/new.sh")


def renders(tmp_path: Path) -> tuple[Path, Path]:
    old = tree(tmp_path / "old", {
        "Makefile": "all:\n",
        "src/app/main.py": "print('hello')\n",
        "src/app/same.py": "x = 1\n",
        "src/app/gone.py": "gone = True\n",
        "src/app/logo.png": b"\x89PNG\0old",
        "README.md": "# Shop\n",
    })
    new = tree(tmp_path / "new", {
        "Makefile": "all:\n\ttest\n",
        "src/app/main.py": "print('hello')\nprint('world')",
        "src/app/same.py": "x = 1\n",
        "src/app/logo.png": b"\x89PNG\0new",
        "tests/test_new.py": "def test(): pass\n",
        "tests/test_absent.py": "def test(): pass\n",  # the project lacks it: nothing to say
        "README.md": "# Shop\n",
    })
    return old, new


def test_lists_what_the_update_changed(project: Path, tmp_path: Path) -> None:
    old, new = renders(tmp_path)
    # gone.py: user-owned, present in the project, dropped by the new template.
    tree(project, {"src/app/gone.py": "gone = True\n", "src/app/logo.png": b"\x89PNG\0mine"})
    git(project, "add", "src/app/gone.py", "src/app/logo.png")
    git(project, "commit", "--quiet", "-m", "more files")
    update(project)

    built = report.build(project, owned, old, new, "v0.2.0", "v0.3.0")

    assert built["from"] == "v0.2.0" and built["to"] == "v0.3.0"
    assert built["merged"] == ["Dockerfile", "Makefile"]
    assert built["edited"] == ["src/app/settings.py"]
    assert built["created"] == ["scripts/new.sh", "tests/test_new.py"]
    assert built["deleted"] == ["scripts/old.sh"]
    changed = {entry["path"]: entry["diff"] for entry in built["user_owned_changed"]}
    assert list(changed) == ["src/app/gone.py", "src/app/logo.png", "src/app/main.py", "tests/test_new.py"]
    assert changed["src/app/main.py"] == (
        "--- a/src/app/main.py\n+++ b/src/app/main.py\n@@ -1 +1,2 @@\n print('hello')\n"
        "+print('world')\n\\ No newline at end of file\n"
    )
    assert changed["src/app/gone.py"] == "--- a/src/app/gone.py\n+++ b/src/app/gone.py\n@@ -1 +0,0 @@\n-gone = True\n"
    assert changed["tests/test_new.py"].startswith("--- a/tests/test_new.py\n+++ b/tests/test_new.py\n@@ -0,0 +1 @@\n")
    assert changed["src/app/logo.png"] is None, "a binary file is listed without a diff"


def test_a_no_op_update_has_no_template_diffs(project: Path) -> None:
    built = report.build(project, owned, None, None, "v0.3.0", "v0.3.0")
    assert built == {"from": "v0.3.0", "to": "v0.3.0", "merged": [], "edited": [], "created": [],
                     "deleted": [], "user_owned_changed": [], "conflicts": {}, "changes": [], "actions": [],
                     "summary": built["summary"]}
    assert built["summary"]["text"] == ["update: summary (template v0.3.0)", "  no file changed"]


def test_odd_files_never_stop_the_report(project: Path, tmp_path: Path) -> None:
    old, new = renders(tmp_path)
    tree(project, {"src/big.txt": "x\n", "src/latin1.txt": "x\n", "src/name with spaces.py": "x\n"})
    (project / "src/link").symlink_to("app")
    tree(old, {"src/big.txt": "a\n" * (report.MAX_DIFF_INPUT // 2 + 1), "src/latin1.txt": "caf\xe9\n".encode("latin-1"),
               "src/name with spaces.py": "a = 1\n"})
    tree(new, {"src/big.txt": "b\n", "src/latin1.txt": "cafe\n", "src/name with spaces.py": "a = 2\n"})
    (old / "src/link").symlink_to("app")
    (new / "src/link").symlink_to("app/main.py")

    def picky(path: str) -> bool:
        if path == "src/app/same.py":
            raise ValueError("an owned() that fails on a path")
        return owned(path)

    changed = {e["path"]: e["diff"] for e in report.build(project, picky, old, new, "a", "b")["user_owned_changed"]}
    assert changed["src/big.txt"] is None and changed["src/latin1.txt"] is None
    assert "-a = 1\n+a = 2\n" in changed["src/name with spaces.py"]
    assert changed["src/link"] == "--- a/src/link\n+++ b/src/link\n@@ -1 +1 @@\n-app\n\\ No newline at end of file\n" \
                                  "+app/main.py\n\\ No newline at end of file\n"


def test_a_folder_of_a_larger_repository(tmp_path: Path) -> None:
    outer = tree(tmp_path / "outer", {"other/file": "x\n", "project/Makefile": "all:\n"})
    git(outer, "init", "--quiet")
    git(outer, "add", "--all")
    git(outer, "commit", "--quiet", "-m", "one")
    tree(outer, {"other/file": "y\n", "other/new": "n\n", "project/Makefile": "all: x\n", "project/new.sh": "n\n"})
    built = report.build(outer / "project", owned, None, None, "a", "b")
    assert (built["merged"], built["created"]) == (["Makefile"], ["new.sh"])


def test_write_keeps_it_in_the_git_directory(project: Path) -> None:
    built = report.build(project, owned, None, None, "v1", "v2")
    path = report.write(project, built)
    assert path == project / ".git" / report.REPORT
    assert json.loads(path.read_text()) == built
    # Replaced whole by the next update; the working tree stays clean.
    report.write(project, {**built, "to": "v3"})
    assert json.loads(path.read_text())["to"] == "v3"
    assert git(project, "status", "--porcelain") == ""
    assert [p.name for p in (project / ".git").glob(f"*{report.REPORT}*")] == [report.REPORT]


# ------------------------------------------------------------------ the summary
CONFLICT = "<" * 7 + " before updating\nmine\n" + "=" * 7 + "\ntheirs\n" + ">" * 7 + " after updating\n"
ACTION = ("- **Action:** run `make prod-secrets` before your next deploy: it writes the\n"
          "  missing secret files.\n")


def test_the_summary_has_the_conflicts_and_the_changelogs_actions(project: Path, tmp_path: Path) -> None:
    old, new = renders(tmp_path)
    tree(project, {"docs/template-changes.md": "# Changes\n\n## Unreleased\n", ".gitignore": "*.rej\nnode_modules/\n"})
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "the changelog")
    update(project)
    tree(project, {"docs/template-changes.md": f"# Changes\n\n## Unreleased\n\n{ACTION}- Faster.\n",
                   "README.md": CONFLICT, "node_modules/x/a.js": CONFLICT, "logo.bin": b"\0" + CONFLICT.encode()})

    built = report.build(project, owned, old, new, "v0.2.0", "v0.3.0")

    # The .rej file is git-ignored and found all the same; ignored files and binary ones are not scanned.
    assert built["conflicts"] == {"README.md": ["1", "5"], "Makefile.rej": []}
    assert built["changes"] == ["", ACTION.splitlines()[0], ACTION.splitlines()[1], "- Faster."]
    assert built["actions"] == ["run `make prod-secrets` before your next deploy: it writes the missing secret files."]
    text = built["summary"]["text"]
    assert text[0] == "update: summary (template v0.2.0 -> v0.3.0)"
    assert text[-6:] == [
        "  conflicts in 2 files:",
        "    README.md: 2 marker lines (1, 5)",
        "    Makefile.rej: a rejected change: apply it by hand, then delete the file",
        "  Before your next deploy:",
        "    - run `make prod-secrets` before your next deploy: it writes the missing secret",
        "      files.",
    ], text
    body = "\n".join(built["summary"]["markdown"])
    assert body.startswith("`copier update` to the template's latest release (template v0.2.0 -> v0.3.0), ")
    assert "\n\n**Conflicts to resolve** (CI's conflict check fails until they are):\n\n- `README.md`: 2 marker " \
           "lines (1, 5)\n- `Makefile.rej`: a rejected change" in body, body
    # The stored report is what the project's scripts/update.py prints and posts.
    assert json.loads(report.write(project, built).read_text())["summary"] == built["summary"]


def test_a_changelog_new_with_the_update_is_all_new_lines(project: Path) -> None:
    tree(project, {"docs/template-changes.md": f"# Changes\n\n{ACTION}"})
    built = report.build(project, owned, None, None, "v1", "v2")
    assert built["changes"] == ["# Changes", "", *ACTION.splitlines()] and len(built["actions"]) == 1


def test_conflicts_outside_git(tmp_path: Path) -> None:
    import gitutil

    root = tree(tmp_path / "plain", {"README.md": CONFLICT, ".venv/x.py": CONFLICT, "a/b.rej": "@@\n",
                                     "notes.md": "Title\n=======\n"})
    assert gitutil.conflicts(root) == ["README.md:1:<<<<<<< before updating", "README.md:5:>>>>>>> after updating",
                                       "a/b.rej"]


def test_only_action_bullets_are_actions() -> None:
    lines = [
        "### A release",
        "",
        "- **Action:** run `make prod-secrets`",
        "  before your next deploy.",
        "  - a nested bullet is not part of it",
        "- A normal bullet that mentions **Action:** in passing.",
        "- **Action:**   delete `POSTGRES_PASSWORD` from `.env`.",
        "**Action:** not a bullet",
        "* **Action:** another bullet character: not the marker",
        "- **Action** without the colon",
        "  - **Action:** a nested action bullet",
    ]
    assert summary.actions(lines) == [
        "run `make prod-secrets` before your next deploy.",
        "delete `POSTGRES_PASSWORD` from `.env`.",
        "a nested action bullet",
    ]
    assert summary.actions(["- A normal bullet.", "  continued."]) == []
    # The template's own changelog: every marked bullet is one whole action.
    changelog = (TEMPLATE / "CHANGELOG.md").read_text().splitlines()
    marked = [line for line in changelog if line.startswith("- **Action:**")]
    found = summary.actions(changelog)
    assert len(found) == len(marked) and all(found), found
    assert any(a.startswith("run `make prod-secrets`, then delete `POSTGRES_PASSWORD`") and a.endswith(
        "random passwords otherwise.") for a in found), found


def test_with_markers_in_the_makefile_the_summary_names_the_script() -> None:
    built = {"from": "v1", "to": "v1", "user_owned_changed": [{"path": "src/app/main.py", "diff": ""}]}
    assert "make template-diff [FILES=path]" in "\n".join(summary.text({**built, "conflicts": {"README.md": ["3"]}}))
    text = "\n".join(summary.text({**built, "conflicts": {"Makefile": ["3", "9"]}}))
    assert "its change: uv run scripts/update.py template-diff [PATH...]" in text and "make template" not in text
    assert text.startswith("update: summary (template v1)\n"), text


def test_the_pull_request_body_stays_within_the_forges_limit() -> None:
    """GitHub refuses a body over 65,536 characters: a huge update is cut, and says so."""
    diff = "--- a/x\n+++ b/x\n@@ -1,1000 +1,1000 @@\n" + "".join(f"-old {n} {'y' * 60}\n+new {n}\n"
                                                                 for n in range(1000))
    changed = [{"path": f"src/app/m{n:02}.py", "diff": diff} for n in range(40)]
    changes = [f"- change {n} " + "x" * 80 for n in range(2000)]
    built = {"from": "v1", "to": "v9", "merged": [f"f{n}" for n in range(500)], "user_owned_changed": changed,
             "changes": changes}
    body = "\n".join(summary.markdown(built))
    assert len(body) < 60_000, len(body)
    assert body.count("<details>") == 30 and body.endswith(
        "... and 10 more: `make template-diff` after a local `make update` shows them all."), body[-300:]
    assert "\n- f9\n- ... and 490 more\n" in body.replace("`", "")
    assert re.search(r"\n\n\.\.\. 1[0-9]{3} more lines in docs/template-changes\.md\.\n", body), body[:200]
    # The diffs' room is spent: later files say where the diff is.
    assert "\n\n2003 more lines: `make template-diff FILES=src/app/m29.py`" in body
