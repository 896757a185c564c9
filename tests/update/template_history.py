"""A throwaway git history of the template, built from the working tree.

The template has no release tags of its own yet, so the update tests (and
bench/update.py) build its past: three tagged versions in a temp git repo,
each the working tree with the later changes undone.

    v0.1.0  the integration script is still scripts/integration.sh, the
            Dockerfiles check health every 30s, and there is no
            `image_flavor` question (every image was slim)
    v0.2.0  the script is renamed to scripts/run-integration-tests.sh
            (the rename step since v0.2.0, hooks/update/steps/renames.py,
            carries the user's edits over)
    v0.3.0  the working tree: Dockerfile healthcheck changed, new question
            `image_flavor` whose default (slim) reproduces the old images

The real repository must therefore tag its first release v0.2.0 or later:
the rename step is declared since v0.2.0.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

# What a template version is made of; nothing else is copied.
PARTS = ("copier.yml", "CHANGELOG.md", "template", "partials", "hooks")
OLD_SCRIPT = "scripts/integration.sh"
NEW_SCRIPT = "scripts/run-integration-tests.sh"
NEW_QUESTION = "image_flavor"
OLD_INTERVAL = "--interval=30s"
DOCKERFILE = "template/{% yield svc from service_list %}{{ svc.path }}{% endyield %}/Dockerfile.jinja"
TAGS = ("v0.1.0", "v0.2.0", "v0.3.0")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Template Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Template Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


class HistoryError(RuntimeError):
    """The working tree no longer has what a synthetic old version undoes."""


@dataclass(frozen=True)
class History:
    path: Path
    tags: tuple[str, ...] = TAGS

    @property
    def head(self) -> str:
        return self.tags[-1]


def git(cwd: Path, *args: str) -> str:
    import os

    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    if result.returncode != 0:
        raise HistoryError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout


def copy_parts(src: Path, dst: Path) -> None:
    """Replace dst's template parts with src's (the working tree, dirty or not)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache")
    for part in PARTS:
        target = dst / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if (src / part).is_dir():
            shutil.copytree(src / part, target, ignore=ignore)
        else:
            shutil.copy2(src / part, target)


def old_script_name(root: Path) -> None:
    """Undo the 0.2.0 rename: the script and every reference to it."""
    new = root / "template" / NEW_SCRIPT
    if not new.is_file():
        raise HistoryError(f"template/{NEW_SCRIPT} is gone: update tests/update/template_history.py")
    new.rename(root / "template" / OLD_SCRIPT)
    for path in [*(root / "template").rglob("*"), *(root / "partials").rglob("*")]:
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if NEW_SCRIPT in text:
            path.write_text(text.replace(NEW_SCRIPT, OLD_SCRIPT))


def old_healthcheck(root: Path) -> None:
    """Undo the 0.3.0 Dockerfile change: health checked every 30s."""
    path = root / DOCKERFILE
    text = path.read_text()
    old, count = re.subn(r"(HEALTHCHECK )--interval=\S+", rf"\1{OLD_INTERVAL}", text)
    if not count or old == text:
        raise HistoryError(
            f"{DOCKERFILE} has no HEALTHCHECK --interval other than {OLD_INTERVAL}: "
            "pick another change in tests/update/template_history.py"
        )
    path.write_text(old)


def without_question(root: Path, name: str = NEW_QUESTION) -> None:
    """Undo a new question: before it existed its effect was its default."""
    path = root / "copier.yml"
    data = yaml.safe_load(path.read_text())
    question = data.get(name)
    if not isinstance(question, dict) or "default" not in question:
        raise HistoryError(f"copier.yml has no question {name!r} with a default")
    # A computed value: not asked, not stored in the answers file.
    data[name] = {"type": question.get("type", "str"), "when": False, "default": question["default"]}
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000))


# Each version: the working tree with these changes undone.
UNDO = {
    "v0.1.0": (old_script_name, old_healthcheck, without_question),
    "v0.2.0": (old_healthcheck, without_question),
    "v0.3.0": (),
}


def build(src: Path, dst: Path, tags: tuple[str, ...] = TAGS,
          changes: Mapping[str, Sequence[Callable[[Path], None]]] | None = None) -> History:
    """A git repo at dst with one commit and tag per version, oldest first.

    Each version is the working tree with changes[tag] applied (UNDO by default):
    functions that edit the copy into what that version looked like.
    """
    changes = UNDO if changes is None else changes
    dst.mkdir(parents=True, exist_ok=True)
    git(dst, "init", "--quiet", "--initial-branch=main")
    for tag in tags:
        copy_parts(src, dst)
        for change in changes.get(tag, ()):
            change(dst)
        git(dst, "add", "--all")
        git(dst, "commit", "--quiet", "--allow-empty", "-m", f"Release {tag}")
        git(dst, "tag", tag)
    return History(dst, tags)


def commit_version(history: History, tag: str, change) -> History:  # noqa: ANN001
    """Add one more tagged version on top: change(repo_root) edits the files."""
    change(history.path)
    git(history.path, "add", "--all")
    git(history.path, "commit", "--quiet", "-m", f"Release {tag}")
    git(history.path, "tag", tag)
    return History(history.path, (*history.tags, tag))
