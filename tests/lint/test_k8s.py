"""Kubernetes (deploy_targets: kubernetes): the kustomize output of every named
combination validates strictly against the Kubernetes schemas, offline.

Each combination of COMBOS is rendered once more with kubernetes chosen (the
shared renders stay as they are); `kubectl kustomize` builds the prod overlay
and `kubernetes-validate --strict` checks every object against the schemas it
bundles (no cluster, no network). kubectl is required, never skipped: the
machines this runs on ship it (.ci/run checks).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from support import BASE_ANSWERS, COMBOS, kubernetes_validate, run_copy, service_list, tool

TARGETS = ["compose", "kubernetes"]


@pytest.fixture(scope="module")
def k8s_render(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """k8s_render(name) -> COMBOS[name] rendered with kubernetes chosen, once per module."""
    root = tmp_path_factory.mktemp("k8s")
    cache: dict[str, Path] = {}

    def _render(name: str) -> Path:
        if name not in cache:
            cache[name] = run_copy({**COMBOS[name], "deploy_targets": TARGETS}, root / name)
        return cache[name]

    return _render


def same_worker(name: str) -> pytest.MarkDecorator:
    """The xdist group of the tests of one combination: they share its render (the module's
    k8s_render, per worker), and the combinations spread over the workers."""
    return pytest.mark.xdist_group(f"k8s-{name}")


def combos(*names: str) -> list:
    return [pytest.param(name, id=name, marks=same_worker(name)) for name in names]


def kustomize(folder: Path) -> str:
    """`kubectl kustomize` of one kustomization folder; its own error on failure."""
    result = subprocess.run([tool("kubectl"), "kustomize", str(folder)], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {folder} exited {result.returncode}:\n{result.stderr}", pytrace=False)
    return result.stdout


def objects(manifests: str) -> dict[tuple[str, str], dict]:
    """{(kind, name): object} of a kustomize output."""
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(manifests) if doc}


def expected_objects(combo: dict) -> set[tuple[str, str]]:
    """What the manifests hold, from the services list and the components."""
    slug = "acme-shop"
    services = service_list(combo)
    components = combo["components"]
    expected = {("Deployment", svc["name"]) for svc in services}
    expected |= {("Service", svc["name"]) for svc in services if svc["kind"] in ("api", "frontend")}
    expected |= {("Job", f"{svc['name']}-migrate") for svc in services
                 if "postgres" in components and svc["kind"] in ("api", "worker")}
    for infra in ("postgres", "redis"):
        if infra in components:
            expected |= {("StatefulSet", infra), ("Service", infra)}
    if any(svc["kind"] == "api" for svc in services):
        expected.add(("Ingress", slug))
    if [svc["kind"] for svc in services].count("frontend") == 1:
        expected.add(("Ingress", f"{slug}-root"))
    return expected


@pytest.mark.parametrize("name", combos(*COMBOS))
def test_prod_overlay_validates_strictly(k8s_render, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    project = k8s_render(name)
    manifests = kustomize(project / "deploy/k8s/overlays/prod")
    code, output = kubernetes_validate(manifests, tmp_path)
    assert code == 0, f"kubernetes-validate --strict:\n{output}"
    found = objects(manifests)
    expected = expected_objects(COMBOS[name])
    assert set(found) == expected, (f"only rendered: {sorted(set(found) - expected)}; "
                                    f"missing: {sorted(expected - set(found))}")
    assert all(doc["metadata"].get("namespace") == "acme-shop" for doc in found.values())


@pytest.mark.parametrize("name", combos("multi-both-pg-redis-frontend", "single-none-node-worker"))
def test_base_alone_validates_strictly(k8s_render, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    code, output = kubernetes_validate(kustomize(k8s_render(name) / "deploy/k8s/base"), tmp_path)
    assert code == 0, f"kubernetes-validate --strict:\n{output}"


PLANTED = [
    # (what, a change to the first Deployment, a fragment of the validator's message)
    ("unknown field", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(imagePullPolicyy="Always"),
     "'imagePullPolicyy' was unexpected"),
    ("wrong type", lambda d: d["spec"].update(replicas="two"), "'two' is not of type 'integer'"),
]


@pytest.mark.parametrize(("what", "plant", "fragment"), PLANTED, ids=[p[0] for p in PLANTED])
@same_worker("multi-github-pg-redis-mixed")
def test_planted_mistake_fails_validation(k8s_render, tmp_path: Path, what: str, plant, fragment: str) -> None:  # noqa: ANN001
    docs = list(yaml.safe_load_all(kustomize(k8s_render("multi-github-pg-redis-mixed") / "deploy/k8s/overlays/prod")))
    deployment = next(doc for doc in docs if doc["kind"] == "Deployment")
    plant(deployment)
    code, output = kubernetes_validate(yaml.safe_dump_all(docs), tmp_path)
    print(f"kubernetes-validate on the planted {what}:\n{output}")
    assert code != 0, f"the planted {what} passed:\n{output}"
    assert fragment in output and f"deployment/{deployment['metadata']['name']}" in output, output


def dockerfile_healthcheck(project: Path, svc: dict) -> list[str]:
    """The CMD of a service's HEALTHCHECK (its Dockerfile), as a list."""
    text = (project / svc["path"] / "Dockerfile").read_text()
    match = re.search(r"HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])", text)
    assert match, f"no HEALTHCHECK in {svc['path']}/Dockerfile"
    return json.loads(match.group(1))


@pytest.mark.parametrize("name", combos("multi-none-pg-redis-scheduler", "multi-none-pg-redis-node-lifecycle",
                                         "multi-both-pg-redis-frontend", "single-gitea-node-api"))
def test_workloads_mirror_the_images_and_the_prod_stack(k8s_render, name: str) -> None:  # noqa: ANN001
    """Probes are the images' healthchecks, images the release's names, secrets by reference only."""
    project = k8s_render(name)
    found = objects(kustomize(project / "deploy/k8s/overlays/prod"))
    for svc in service_list(COMBOS[name]):
        deployment = found[("Deployment", svc["name"])]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == f"ghcr.io/acme-shop/{svc['name']}:latest", container["image"]
        health = dockerfile_healthcheck(project, svc)
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if svc["kind"] in ("api", "frontend"):
                # The image's check GETs /health on the service's port (directly or through its health module).
                assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, container[probe]
                assert container["ports"] == [{"name": "http", "containerPort": svc["port"]}]
            else:
                assert container[probe]["exec"]["command"] == health, (probe, health)
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert set(container["resources"]) == {"requests", "limits"}
        if svc["kind"] == "scheduler":
            assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
        for var in container.get("env", []):
            if var["name"].endswith(("PASSWORD", "API_KEY")):
                assert var["valueFrom"]["secretKeyRef"]["name"] == "acme-shop-secrets", var
        # The prod compose file runs the same image under the same name.
        prod = (project / "deploy/prod/docker-compose.yml").read_text()
        assert f"ghcr.io/acme-shop}}/{svc['name']}:" in prod


@same_worker("multi-github-pg-redis-mixed")
def test_make_k8s_render_prints_the_prod_overlay(k8s_render) -> None:  # noqa: ANN001
    project = k8s_render("multi-github-pg-redis-mixed")
    result = subprocess.run(["make", "-s", "k8s-render"], cwd=project, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == kustomize(project / "deploy/k8s/overlays/prod")
    help_text = subprocess.run(["make", "help"], cwd=project, capture_output=True, text=True, timeout=60).stdout
    assert "k8s-render" in help_text, help_text


@same_worker("single-none-node-worker")
def test_make_k8s_render_without_kustomize_is_one_line(k8s_render, tmp_path: Path) -> None:  # noqa: ANN001
    project = k8s_render("single-none-node-worker")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("make", "bash"):
        (bin_dir / name).symlink_to(tool(name))
    result = subprocess.run(["make", "-s", "k8s-render"], cwd=project, capture_output=True, text=True,
                            timeout=60, env={"PATH": str(bin_dir)})
    assert result.returncode != 0 and result.stdout == "", result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "neither kustomize nor kubectl is installed" in lines[0], result.stderr


def test_the_overlay_is_the_users_and_the_base_the_templates() -> None:
    """copier.yml's _skip_if_exists keeps the overlay; nothing under base/ is in it."""
    from support import TEMPLATE

    skip = yaml.safe_load((TEMPLATE / "copier.yml").read_text())["_skip_if_exists"]
    assert "deploy/k8s/overlays/**" in skip
    assert not [pattern for pattern in skip if pattern.startswith("deploy/k8s/base")]


@same_worker("multi-none-nocomp")
def test_answers_record_the_targets(k8s_render) -> None:  # noqa: ANN001
    answers = yaml.safe_load((k8s_render("multi-none-nocomp") / ".copier-answers.yml").read_text())
    assert answers["deploy_targets"] == TARGETS
    assert {**BASE_ANSWERS, **COMBOS["multi-none-nocomp"]}.items() <= answers.items()
