"""A newer template release reaches a project the way users and CI meet it.

On top of the synthetic history (a clone, for this test only) v0.4.0 adds
a question whose default for new projects (60) is not what older projects
had (180), with an `answer` migration that keeps their old behaviour. A
project at v0.3.0 then runs what the scheduled workflow runs:
`scripts/update.py check-update --github-output` (an update is available),
`make update` (copier update --defaults), and check-update again.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import template_history as th
import update_project as up
import yaml
from support import project_env

pytestmark = pytest.mark.slow  # renders older template versions and runs copier update

QUESTION = "stack_timeout"


def release_v040(root: Path) -> None:
    config_path = root / "copier.yml"
    config = yaml.safe_load(config_path.read_text())
    config[QUESTION] = {"type": "int", "help": "Seconds a test stack may take to start", "default": 60}
    # Projects from before 0.4.0 waited 180s; the migration keeps that.
    config["_migrations"].insert(0, {
        "version": "0.4.0",
        "when": "{{ _stage == 'before' }}",
        "command": ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/update",
                    "answer", QUESTION, "180"],
    })
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=1000))
    doc = root / "template/docs/development.md.jinja"  # template-owned (README.md is the user's)
    doc.write_text(doc.read_text() + "\nTest stacks may take {{ stack_timeout }}s to start.\n")


def check_update(project: Path, tmp_path: Path) -> dict[str, str]:
    output = tmp_path / "github_output"
    output.write_text("")
    copier = str(Path(sys.executable).parent / "copier")
    result = subprocess.run(
        ["uv", "run", "--quiet", "scripts/update.py", "check-update", "--github-output"],
        cwd=project, capture_output=True, text=True, timeout=300,
        env=project_env(COPIER=copier, GITHUB_OUTPUT=str(output)),
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


def test_a_new_release_arrives_with_its_migrations(history, tmp_path: Path) -> None:
    template = tmp_path / "template"
    subprocess.run(["git", "clone", "--quiet", str(history.path), str(template)], check=True)
    newer = th.commit_version(th.History(template, history.tags), "v0.4.0", release_v040)
    answers = up.LAYOUTS["single-python"]
    project = up.render(newer.path, "v0.3.0", answers, tmp_path / "project")
    up.commit_all(project, "generated")

    assert check_update(project, tmp_path) == {"available": "true", "current": "0.3.0", "latest": "0.4.0"}

    up.make(project, "update")
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["_commit"] == "v0.4.0"
    assert recorded[QUESTION] == 180, "the migration did not keep the old project's behaviour"
    assert "Test stacks may take 180s to start." in (project / "docs/development.md").read_text()
    assert not up.leftovers(project)
    fresh = up.render(newer.path, "v0.4.0", answers, tmp_path / "fresh")
    assert re.search(rf"^{QUESTION}: 60$", (fresh / ".copier-answers.yml").read_text(), re.MULTILINE)

    up.commit_all(project, "update to v0.4.0")
    assert check_update(project, tmp_path)["available"] == "false"
