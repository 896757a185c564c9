"""Issue 15: a project from before the deploy_targets question updates with the
question's default (compose) and gets no deploy file it did not choose: only the
answers file and the Makefile (whose help now lists targets with digits, for
k8s-render) change. Choosing kubernetes on a later update adds deploy/k8s/."""

from __future__ import annotations

from pathlib import Path

import pytest
import update_project as up
import yaml
from support import TEMPLATE

pytestmark = pytest.mark.slow  # renders older template versions and runs copier update

# The last commit of this repository before the deploy_targets question.
TARGETS_BEFORE = "89c1add"
ANSWERS = {"services": "api worker:worker web:node", "components": ["postgres", "redis"], "ci_provider": "github"}
K8S = {"deploy/k8s/base/kustomization.yaml", "deploy/k8s/base/services.yaml", "deploy/k8s/base/postgres.yaml",
       "deploy/k8s/base/redis.yaml", "deploy/k8s/base/migrate.yaml", "deploy/k8s/base/ingress.yaml",
       "deploy/k8s/overlays/prod/kustomization.yaml", "docs/kubernetes.md"}


def changed(project: Path) -> set[str]:
    return {line[3:] for line in up.git(project, "status", "--porcelain", "--untracked-files=all").splitlines()}


def test_an_old_project_gets_compose_only_then_kubernetes_when_chosen(tmp_path: Path) -> None:
    project = up.render(TEMPLATE, TARGETS_BEFORE, ANSWERS, tmp_path / "project")
    up.commit_all(project, "generated")
    up.update(project, "HEAD")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["deploy_targets"] == ["compose"], answers
    # Other template changes since that commit arrive too; nothing of a target it did not choose.
    unchosen = [path for path in changed(project) if path.startswith("deploy/k8s")
                or path in ("deploy/prod/swarm.yml", "docs/kubernetes.md")]
    assert not unchosen, unchosen
    assert not (project / "deploy/k8s").exists() and not up.leftovers(project)
    up.commit_all(project, "updated")

    up.update(project, "HEAD", deploy_targets=["compose", "kubernetes"])
    added = changed(project)
    assert K8S <= added, sorted(K8S - added)
    assert added - K8S == {".copier-answers.yml", "Makefile", "docs/development.md"}, sorted(added - K8S)
    assert "k8s-render:" in (project / "Makefile").read_text()
    assert not up.leftovers(project), "\n".join(up.leftovers(project))
