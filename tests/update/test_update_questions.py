"""New questions never silently change an old project.

Compares the questions of HEAD's copier.yml (the working tree) with those of
the previous release: the newest v* tag of the template repository below
HEAD, or, while the repository has no release tag yet, the synthetic
previous version v0.2.0 of template_history.py (the test id says which).

For every question (a top-level key without a leading '_'):

- added: it needs a `default` (reproducing the old behaviour; the update
  tests prove it for image_flavor, whose default `slim` is what every image
  was before) or a `_migrations` entry newer than the previous release
  that names it, e.g. `hooks/update answer NAME VALUE`;
- removed or renamed: it needs such a migration;
- choices: an answer old projects may have (a choice of the previous
  release) that is no longer a choice needs such a migration.
"""

from __future__ import annotations

import shlex
import subprocess

import pytest
import yaml
from packaging.version import InvalidVersion, Version
from support import TEMPLATE


def questions(config: dict) -> dict[str, dict]:
    """Every question with its settings (the short form `name: default` included)."""
    return {
        key: value if isinstance(value, dict) else {"default": value}
        for key, value in config.items()
        if not str(key).startswith("_")
    }


def choice_values(spec: dict) -> set[str]:
    choices = spec.get("choices") or []
    values = choices.values() if isinstance(choices, dict) else choices
    return {str(v["value"] if isinstance(v, dict) else v) for v in values}


def migrated(config: dict, since: Version) -> set[str]:
    """Words of the commands of _migrations entries newer than `since`."""
    words: set[str] = set()
    for entry in config.get("_migrations") or []:
        if not isinstance(entry, dict) or "version" not in entry:
            continue
        try:
            if Version(str(entry["version"])) <= since:
                continue
        except InvalidVersion:
            continue
        command = entry.get("command", [])
        parts = shlex.split(command) if isinstance(command, str) else [str(p) for p in command]
        words |= {part.split("=", 1)[-1] for part in parts} | set(parts)
    return words


def compatibility_problems(old: dict, new: dict, since: Version) -> list[str]:
    before, after, covered = questions(old), questions(new), migrated(new, since)
    problems = []
    for name in sorted(after.keys() - before.keys()):
        if "default" not in after[name] and name not in covered:
            problems.append(f"new question {name!r} has no default and no migration")
    for name in sorted(before.keys() - after.keys()):
        if name not in covered:
            problems.append(f"question {name!r} was removed or renamed without a migration")
    for name in sorted(before.keys() & after.keys()):
        if before[name].get("when") is False:
            continue  # computed, never stored in the answers file
        dropped = choice_values(before[name]) - choice_values(after[name]) if after[name].get("choices") else set()
        if dropped and name not in covered:
            problems.append(f"question {name!r} dropped the choices {sorted(dropped)} without a migration")
    return problems


# ------------------------------------------------------------ the real thing
def previous_release() -> str | None:
    """The newest v* tag below HEAD in the template repository, if there is one."""
    result = subprocess.run(
        ["git", "tag", "--merged", "HEAD", "--list", "v*", "--sort=-v:refname"],
        cwd=TEMPLATE, capture_output=True, text=True,
    )
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=TEMPLATE, capture_output=True, text=True).stdout
    for tag in result.stdout.split():
        commit = subprocess.run(["git", "rev-list", "-n1", tag], cwd=TEMPLATE, capture_output=True, text=True)
        if commit.stdout != head:
            return tag
    return None


PREVIOUS = previous_release()


@pytest.mark.parametrize(
    "base", [PREVIOUS or "synthetic-v0.2.0"], ids=lambda b: f"previous={b}"
)
def test_questions_are_compatible_with_the_previous_release(history, base: str) -> None:
    if PREVIOUS:
        old_text = subprocess.run(
            ["git", "show", f"{PREVIOUS}:copier.yml"], cwd=TEMPLATE, capture_output=True, text=True, check=True
        ).stdout
        since = Version(PREVIOUS.lstrip("v"))
    else:
        # No release tag yet: the synthetic history's previous version stands in.
        old_text = subprocess.run(
            ["git", "show", "v0.2.0:copier.yml"], cwd=history.path, capture_output=True, text=True, check=True
        ).stdout
        since = Version("0.2.0")
    new = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    problems = compatibility_problems(yaml.safe_load(old_text), new, since)
    assert not problems, f"copier.yml against {base}:\n" + "\n".join(problems)


# ------------------------------------------------------------- the checker
OLD = {
    "_migrations": [],
    "layout": {"type": "str", "choices": ["multi", "single"], "default": "multi"},
    "python_version": {"type": "str", "choices": {"3.11": "3.11", "3.12": "3.12"}, "default": "3.12"},
    "legacy": {"type": "bool", "default": False},
}


def answer_migration(version: str, name: str) -> dict:
    return {"version": version, "when": "{{ _stage == 'before' }}",
            "command": ["python", "hooks/update", "answer", name, "x"]}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(lambda c: c.update(flavor={"type": "str", "default": "slim"}), None, id="added-with-default"),
        pytest.param(lambda c: c.update(flavor={"type": "str"}), "no default", id="added-without-default"),
        pytest.param(
            lambda c: (c.update(flavor={"type": "str"}), c["_migrations"].append(answer_migration("0.3.0", "flavor"))),
            None, id="added-with-migration",
        ),
        pytest.param(
            lambda c: (c.update(flavor={"type": "str"}), c["_migrations"].append(answer_migration("0.2.0", "flavor"))),
            "no default", id="migration-of-an-older-release",
        ),
        pytest.param(lambda c: c.pop("legacy"), "removed or renamed", id="removed"),
        pytest.param(
            lambda c: (c.pop("legacy"), c["_migrations"].append(answer_migration("0.3.0", "legacy"))),
            None, id="removed-with-migration",
        ),
        pytest.param(
            lambda c: c["python_version"].update(choices={"3.12": "3.12", "3.13": "3.13"}),
            "dropped the choices ['3.11']", id="choice-dropped",
        ),
        pytest.param(lambda c: c.update(_envops={}), None, id="settings-are-not-questions"),
    ],
)
def test_compatibility_problems(change, problem: str | None) -> None:  # noqa: ANN001
    import copy

    new = copy.deepcopy(OLD)
    change(new)
    problems = compatibility_problems(OLD, new, Version("0.2.0"))
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems
