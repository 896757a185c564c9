"""CI and release workflows: one partial per workflow, rendered for GitHub and Gitea.

Render and lint layers for .github/workflows and .gitea/workflows: the exact
files per ci_provider, actionlint over every rendered workflow, the workflow
policy (permissions, timeouts, pinned actions), the release's build-once job per
layout, its push step run with bash, and GitHub/Gitea parity. tests/docker/test_act.py
executes the release with act.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import pytest
import support
import yaml
from support import COMBOS, TEMPLATE, project_files, run, tool

WORKFLOW_DIRS = {"github": ".github/workflows", "gitea": ".gitea/workflows"}
PROVIDERS = {"github": ["github"], "gitea": ["gitea"], "both": ["github", "gitea"], "none": []}
WORKFLOWS = ("ci", "release", "update")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@v\d+(\.\d+\.\d+)?$")
# Jinja syntax that survived the render (the partials write `{{ name }}`, with
# spaces). Not Jinja: GitHub's `${{ ... }}`, metadata-action's `{{version}}`
# and docker's Go templates (`{{.Id}}`, `{{range ...}}`, `{{println .}}`).
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{(?![.\w]+\}\}|range |println )|\{%|\{#")


def providers(name: str) -> list[str]:
    return PROVIDERS[str(COMBOS[name]["ci_provider"])]


def services(project: Path) -> list[dict[str, Any]]:
    """A rendered project's services, from its scripts/services.json."""
    return support.registry(project)["services"]


def load(root: Path, provider: str, workflow: str) -> dict[str, Any]:
    data = yaml.safe_load((root / WORKFLOW_DIRS[provider] / f"{workflow}.yml").read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def step(job: dict[str, Any], *, uses: str = "", step_id: str = "") -> dict[str, Any]:
    """The one step of a job with that id or that action (any version)."""
    found = [
        s
        for s in job["steps"]
        if (step_id and s.get("id") == step_id)
        or (uses and s.get("uses", "").split("@")[0] == uses)
    ]
    assert len(found) == 1, f"expected one step {step_id or uses!r}, got {found}"
    return found[0]


CACHE_INPUTS = {"enable-cache", "package-manager-cache"}


def without_cache_inputs(job: dict[str, Any]) -> dict[str, Any]:
    """A job with the setup actions' cache inputs (and a `with:` left empty by them) removed."""
    steps = []
    for each in job["steps"]:
        each = dict(each)
        if "with" in each:
            kept = {k: v for k, v in each["with"].items() if k not in CACHE_INPUTS}
            if kept:
                each["with"] = kept
            else:
                del each["with"]
        steps.append(each)
    return {**job, "steps": steps}


ALL = list(COMBOS)
WITH_CI = [name for name in COMBOS if providers(name)]
BOTH = [name for name in COMBOS if COMBOS[name]["ci_provider"] == "both"]
RENDERED = [
    pytest.param(name, provider, id=f"{name}:{provider}")
    for name in COMBOS
    for provider in providers(name)
]


# ------------------------------------------------------------------ render
@pytest.mark.parametrize("name", ALL)
def test_workflow_files_per_provider(render, name: str) -> None:
    root = render(name)
    found = {path for path in project_files(root) if path.startswith((".github/", ".gitea/"))}
    expected = {
        f"{WORKFLOW_DIRS[provider]}/{workflow}.yml"
        for provider in providers(name)
        for workflow in WORKFLOWS
    }
    if "github" in providers(name):
        expected.add(".github/dependabot.yml")
    assert found == expected, (
        f"missing: {sorted(expected - found)}; unexpected: {sorted(found - expected)}"
    )
    absent = [f".{p}" for p in WORKFLOW_DIRS if p not in providers(name)]
    leftovers = [folder for folder in absent if (root / folder).exists()]
    assert not leftovers, f"ci_provider {COMBOS[name]['ci_provider']} rendered {leftovers}"


def test_partial_refuses_a_missing_provider() -> None:
    """The partials need `provider` from the entry; without it the render fails loudly."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE))
    context = {"project_name": "x", "service_list": [], "python_version": "3.12"}
    for workflow in WORKFLOWS:
        template = env.get_template(f"partials/workflows/{workflow}.yml.jinja")
        with pytest.raises(jinja2.UndefinedError, match="provider_must_be_github_or_gitea"):
            template.render(context, registry="ghcr.io/x", layout="multi")


# -------------------------------------------------------------------- lint
@pytest.mark.parametrize("name", WITH_CI)
def test_actionlint(render, name: str) -> None:
    root = render(name)
    files = sorted(
        f"{WORKFLOW_DIRS[provider]}/{workflow}.yml"
        for provider in providers(name)
        for workflow in WORKFLOWS
    )
    # -shellcheck makes sure the run: scripts are checked too, not skipped silently.
    run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *files], cwd=root)


def zizmor(root: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    """zizmor over files of root, offline (no GitHub API call), with root's zizmor.yml."""
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--color", "never", *files],
        cwd=root, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("name", WITH_CI)
def test_zizmor(render, name: str) -> None:
    """Every finding is fixed in partials/workflows/ or justified there (inline
    ignore) or in zizmor.yml; zizmor reads Gitea's files as GitHub Actions."""
    root = render(name)
    files = sorted(
        f"{WORKFLOW_DIRS[provider]}/{workflow}.yml"
        for provider in providers(name)
        for workflow in WORKFLOWS
    )
    result = zizmor(root, files)
    assert result.returncode == 0, f"zizmor found:\n{result.stdout}{result.stderr}"
    assert "No findings to report" in result.stdout, result.stdout + result.stderr


def test_zizmor_fails_on_a_planted_finding(render, tmp_path: Path) -> None:
    """A pull request's title in a run step (template injection) fails the audit."""
    root = render("multi-both-redis-node-alpine")
    project = tmp_path / "project"
    shutil.copytree(root, project)
    ci = project / WORKFLOW_DIRS["gitea"] / "ci.yml"
    text = ci.read_text()
    assert "        run: make test\n" in text
    ci.write_text(text.replace(
        "        run: make test\n",
        '        run: make test\n      - run: echo "${{ github.event.pull_request.title }}"\n', 1))
    result = zizmor(project, [f"{WORKFLOW_DIRS['gitea']}/ci.yml"])
    assert result.returncode != 0, f"zizmor passed a template injection:\n{result.stdout}"
    assert "template-injection" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "provider"), RENDERED)
def test_workflow_policy(render, name: str, provider: str) -> None:
    root = render(name)
    for workflow in WORKFLOWS:
        text = (root / WORKFLOW_DIRS[provider] / f"{workflow}.yml").read_text()
        assert not LEFTOVER_JINJA.search(text), f"{workflow}.yml: Jinja left in the render"
        assert text.endswith("\n") and not text.endswith("\n\n"), f"{workflow}.yml: file end"
    ci, release, update = (load(root, provider, workflow) for workflow in WORKFLOWS)
    assert ci["on"] == {"push": {"branches": ["**"]}, "pull_request": None}
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert update["on"] == {"schedule": [{"cron": "17 5 * * 1"}], "workflow_dispatch": None}
    for workflow in (ci, release, update):
        assert workflow["permissions"] == {"contents": "read"}
        for job_name, job in workflow["jobs"].items():
            assert isinstance(job.get("timeout-minutes"), int), f"{job_name}: no timeout-minutes"
            for each in job["steps"]:
                if "uses" in each:
                    assert PINNED.match(each["uses"]), f"{job_name}: unpinned {each['uses']}"
    # The release sets up exactly what CI sets up (one macro), with the setup
    # actions' caches off (zizmor's cache-poisoning: no cache reaches a release),
    # and runs the same `make test`, on the images it built.
    test = ci["jobs"]["test"]
    images = release["jobs"]["images"]
    setup = len(test["steps"]) - 1
    assert without_cache_inputs({"steps": images["steps"][:setup]})["steps"] == test["steps"][:setup]
    assert step(images, uses="astral-sh/setup-uv")["with"] == {"enable-cache": False}
    # CI lints first: the long test job starts only on a clean lint.
    assert test["needs"] == "lint"
    lint = ci["jobs"]["lint"]
    assert [s.get("run") for s in lint["steps"][-2:]] == ["make lock-check", "make lint"]
    for each in images["steps"]:
        if each.get("uses", "").startswith("actions/setup-node@"):
            assert each["with"]["package-manager-cache"] is False
    [release_make_test] = [s for s in images["steps"] if s.get("run") == "make test"]
    assert set(release_make_test["env"]) == {"TEST_IMAGE_PREFIX", "TEST_IMAGE_TAG", "FRESH"}
    # Jobs that push nothing with git keep no token in .git/config.
    for job in (test, lint, images):
        assert step(job, uses="actions/checkout")["with"]["persist-credentials"] is False
    assert test["steps"][-1]["run"] == "make test"
    assert step(test, uses="actions/setup-python")["with"] == {"python-version": "3.12"}
    step(test, uses="astral-sh/setup-uv")
    has_node = any(svc["language"] in ("node", "ts") for svc in services(root))
    for job in (test, lint):  # eslint runs on node
        node_steps = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-node@")]
        assert len(node_steps) == int(has_node), (
            f"setup-node steps {node_steps}, node service: {has_node}"
        )
        if has_node:
            assert node_steps[0]["with"] == {"node-version": "20"}


# ----------------------------------------------------------------- release
def steps_of(job: dict[str, Any], uses: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == uses]


@pytest.mark.parametrize(("name", "provider"), RENDERED)
def test_release_builds_each_image_once_and_pushes_what_it_tested(render, name: str, provider: str) -> None:
    """One job: per service docker/metadata-action (tags and labels) and ONE
    build, loaded into the runner; then make test on those images (the
    TEST_IMAGE_* knob); then the push of those images. The metadata inputs are
    the ones tests/fixtures/act-actions' stand-in implements, so the real
    action computes what tests/docker/test_act.py saw."""
    project = render(name)
    names = [svc["name"] for svc in services(project)]
    workflow = load(project, provider, "release")
    jobs = workflow["jobs"]
    assert list(jobs) == ["images", "release"]
    assert jobs["release"]["needs"] == "images"
    images = jobs["images"]
    assert "strategy" not in images, "a matrix would build in one job and test in another"
    prefix = "${{ env.REGISTRY }}/acme-shop"
    assert workflow["env"] == {"REGISTRY": "${{ vars.RELEASE_REGISTRY || 'ghcr.io' }}"}
    metas = steps_of(images, "docker/metadata-action")
    assert [m["id"] for m in metas] == [f"meta-{n}" for n in names]
    for svc, meta in zip(names, metas, strict=True):
        assert meta["with"] == {
            "images": f"{prefix}/{svc}",
            "tags": "type=semver,pattern={{version}}",
            "flavor": "latest=auto",
            "labels": f"org.opencontainers.image.title={svc}",
        }
    builds = steps_of(images, "docker/build-push-action")
    assert [b["id"] for b in builds] == [f"build-{n}" for n in names], "each image is built exactly once"
    multi = COMBOS[name]["layout"] == "multi"
    for svc, build in zip(names, builds, strict=True):
        assert build["with"] == {
            "context": f"services/{svc}" if multi else ".",
            "file": f"services/{svc}/Dockerfile" if multi else "Dockerfile",
            "load": True,
            "push": False,
            "tags": f"${{{{ steps.meta-{svc}.outputs.tags }}}}",
            "labels": f"${{{{ steps.meta-{svc}.outputs.labels }}}}",
            "provenance": False,
            "sbom": False,
            "cache-from": f"type=registry,ref={prefix}/{svc}:buildcache",
            "cache-to": f"type=registry,ref={prefix}/{svc}:buildcache,mode=max,image-manifest=true,"
            "oci-mediatypes=true,ignore-error=true",
        }
    order = [s.get("id") or s.get("run") for s in images["steps"]]
    tests_at = order.index("make test")
    assert max(order.index(f"build-{n}") for n in names) < tests_at
    assert min(order.index(f"push-{n}") for n in names) > tests_at
    make_test = images["steps"][tests_at]
    assert make_test["env"] == {
        "TEST_IMAGE_PREFIX": prefix,
        "TEST_IMAGE_TAG": f"${{{{ steps.meta-{names[0]}.outputs.version }}}}",
        # issue 13: what the tests build themselves (stand-ins) skips the layer cache
        "FRESH": "1",
    }
    for svc in names:
        push = step(images, step_id=f"push-{svc}")
        assert push["env"] == {
            "IMAGE_ID": f"${{{{ steps.build-{svc}.outputs.imageid }}}}",
            "TAGS": f"${{{{ steps.meta-{svc}.outputs.tags }}}}",
        }
    assert images["outputs"] == {
        "version": f"${{{{ steps.meta-{names[0]}.outputs.version }}}}",
        "prerelease": f"${{{{ contains(steps.meta-{names[0]}.outputs.version, '-') }}}}",
    }
    attested = [(s["uses"].split("@")[0], s["with"]["subject-name"], s["with"]["subject-digest"])
                for s in images["steps"] if "subject-digest" in s.get("with", {})]
    if provider == "github":
        assert attested == [
            (action, f"{prefix}/{svc}", f"${{{{ steps.push-{svc}.outputs.digest }}}}")
            for svc in names
            for action in ("actions/attest-build-provenance", "actions/attest")
        ]
        assert {"id-token": "write", "attestations": "write"}.items() <= images["permissions"].items()
    else:
        assert attested == [], "Gitea has no attestation store"
        assert "# No provenance or SBOM attestation: Gitea" in (
            project / WORKFLOW_DIRS[provider] / "release.yml").read_text()


FAKE_DOCKER = """#!/usr/bin/env bash
# Stand-in for docker in test_push_step_*: image ids from $FAKE_IDS ("ref id"
# lines), pushes recorded in $FAKE_PUSHED, RepoDigests of the pushed repo.
if [[ $1 == image && $2 == inspect && $4 == *RepoDigests* ]]; then
  echo "${5%:*}@sha256:$(printf '%064d' 7)"
elif [[ $1 == image && $2 == inspect ]]; then
  awk -v ref="$5" '$1 == ref { print $2 }' "$FAKE_IDS"
elif [[ $1 == push ]]; then
  echo "$3" >>"$FAKE_PUSHED"
else
  echo "fake docker: unexpected $*" >&2; exit 2
fi
"""


@pytest.mark.parametrize(
    ("tested", "pushes"),
    [
        pytest.param("ghcr.io/acme-shop/web:1.2.3 sha256:aaa\n", True, id="the-tested-image"),
        pytest.param("ghcr.io/acme-shop/web:1.2.3 sha256:bbb\n", False, id="another-image"),
        pytest.param("ghcr.io/acme-shop/web:1.2.3 sha256:aaa\nghcr.io/acme-shop/web:1.2.3 sha256:bbb\n",
                     False, id="two-images"),
        pytest.param(None, False, id="no-test-ran"),
    ],
)
def test_push_step_pushes_only_the_tested_image(render, tmp_path: Path, tested: str | None,
                                                pushes: bool) -> None:
    """The push step, run with bash: it pushes every tag when the test stacks
    ran exactly the built image (scripts/stack's tested-images.txt), and
    nothing otherwise."""
    root = render("multi-both-redis-node-alpine")
    push = step(load(root, "gitea", "release")["jobs"]["images"], step_id="push-web")
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "docker"
    fake.write_text(FAKE_DOCKER)
    fake.chmod(0o755)
    tags = "ghcr.io/acme-shop/web:1.2.3\nghcr.io/acme-shop/web:latest\n"
    (tmp_path / "ids").write_text("".join(f"{t} sha256:aaa\n" for t in tags.split()))
    if tested is not None:
        (tmp_path / ".artifacts/main-1/integration").mkdir(parents=True)
        (tmp_path / ".artifacts/main-1/integration/tested-images.txt").write_text(tested)
    (tmp_path / "script.sh").write_text(push["run"])
    output = tmp_path / "github_output"
    output.touch()
    env = {
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "IMAGE_ID": "sha256:aaa",
        "TAGS": tags.rstrip("\n"),
        "FAKE_IDS": str(tmp_path / "ids"),
        "FAKE_PUSHED": str(tmp_path / "pushed"),
    }
    # How the runners run `run:` with bash.
    result = subprocess.run(
        [shutil.which("bash") or "bash", "--noprofile", "--norc", "-eo", "pipefail", "script.sh"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
    )
    pushed = (tmp_path / "pushed").read_text().split() if (tmp_path / "pushed").exists() else []
    if pushes:
        assert result.returncode == 0, result.stdout + result.stderr
        assert pushed == tags.split()
        assert output.read_text() == f"digest=sha256:{7:064d}\n"
    else:
        assert result.returncode != 0, f"pushed an untested image:\n{result.stdout}{result.stderr}"
        assert "::error::" in result.stdout, result.stdout + result.stderr
        assert pushed == []


@pytest.mark.parametrize("name", BOTH)
def test_github_and_gitea_differ_only_in_provider_lines(render, name: str) -> None:
    root = render(name)
    # CI and the template update have no provider-specific line at all.
    assert load(root, "github", "ci") == load(root, "gitea", "ci")
    assert load(root, "github", "update") == load(root, "gitea", "update")
    github, gitea = load(root, "github", "release"), load(root, "gitea", "release")
    attest_actions = ("actions/attest-build-provenance", "actions/attest", "anchore/sbom-action")

    def provider_parts(workflow: dict[str, Any]) -> dict[str, Any]:
        """Pop the provider-specific settings out of a release workflow."""
        images, release = workflow["jobs"]["images"], workflow["jobs"]["release"]
        login = step(images, uses="docker/login-action")["with"]
        attest = [s for s in images["steps"] if s.get("uses", "").split("@")[0] in attest_actions]
        images["steps"] = [s for s in images["steps"] if s not in attest]
        return {
            "images-permissions": images.pop("permissions", None),
            "credentials": (login.pop("username"), login.pop("password")),
            "attest-steps": len(attest),
            "release-steps": release.pop("steps"),
        }

    github_parts, gitea_parts = provider_parts(github), provider_parts(gitea)
    assert github == gitea, "GitHub and Gitea releases differ beyond the provider lines"
    assert github_parts == {
        "images-permissions": {
            "contents": "read", "packages": "write", "id-token": "write", "attestations": "write",
        },
        "credentials": ("${{ github.actor }}", "${{ secrets.GITHUB_TOKEN }}"),
        "attest-steps": 3 * len(services(root)),
        "release-steps": [
            {
                "uses": "softprops/action-gh-release@v3",
                "with": {
                    "prerelease": "${{ needs.images.outputs.prerelease }}",
                    "generate_release_notes": True,
                },
            }
        ],
    }
    assert gitea_parts == {
        "images-permissions": None,
        "credentials": ("${{ secrets.REGISTRY_USERNAME }}", "${{ secrets.REGISTRY_PASSWORD }}"),
        "attest-steps": 0,
        "release-steps": [
            {
                "uses": "akkuman/gitea-release-action@v1",
                "with": {
                    "token": "${{ secrets.GITEA_TOKEN }}",
                    "prerelease": "${{ needs.images.outputs.prerelease }}",
                },
            }
        ],
    }
    assert step(github["jobs"]["images"], uses="docker/login-action")["with"] == {
        "registry": "${{ env.REGISTRY }}"
    }


@pytest.mark.parametrize(
    ("registry", "host", "prefix"),
    [
        pytest.param("registry.example.com:5000/team", "registry.example.com:5000", "team", id="own-host"),
        pytest.param("acme", "docker.io", "acme", id="docker-hub"),
    ],
)
def test_github_outside_ghcr_logs_in_with_secrets(tmp_path: Path, registry: str, host: str, prefix: str) -> None:
    """GITHUB_TOKEN pushes to GHCR only; any other registry takes the REGISTRY_* secrets."""
    answers = {
        "layout": "single",
        "services": "app",
        "components": [],
        "ci_provider": "github",
        "registry": registry,
    }
    root = support.run_copy(answers, tmp_path / "project")
    workflow = load(root, "github", "release")
    images = workflow["jobs"]["images"]
    assert "packages" not in images["permissions"]
    assert workflow["env"] == {"REGISTRY": f"${{{{ vars.RELEASE_REGISTRY || '{host}' }}}}"}
    assert step(images, uses="docker/login-action")["with"] == {
        "registry": "${{ env.REGISTRY }}",
        "username": "${{ secrets.REGISTRY_USERNAME }}",
        "password": "${{ secrets.REGISTRY_PASSWORD }}",
    }
    assert step(images, step_id="meta-app")["with"]["images"] == f"${{{{ env.REGISTRY }}}}/{prefix}/app"


# ------------------------------------------------- dependency-update bots
def bot_scope(project: Path) -> set[tuple[str, str]]:
    """(dependabot ecosystem, directory) pairs the bots must watch, from scripts/services.json."""
    scope = {("github-actions", "/")}
    if (project / "tests/integration/test_stack.py").is_file():  # multi: the cross-service tests
        scope.add(("uv", "/"))
    for svc in services(project):
        directory = "/" if svc["path"] == "." else f"/{svc['path']}"
        scope |= {("uv" if svc["language"] == "python" else "npm", directory), ("docker", directory)}
    return scope


@pytest.mark.parametrize("name", [n for n in COMBOS if "github" in providers(n)])
def test_dependabot(render, name: str) -> None:
    root = render(name)
    # The schema ships inside check-jsonschema: no network.
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"], cwd=root)
    config = yaml.safe_load((root / ".github/dependabot.yml").read_text())
    found = [(u["package-ecosystem"], u["directory"]) for u in config["updates"]]
    assert len(found) == len(set(found)), f"listed twice: {found}"
    assert set(found) == bot_scope(root)


MANAGERS = {"uv": "pep621", "npm": "npm", "docker": "dockerfile", "github-actions": "github-actions"}
MANIFESTS = {"uv": "pyproject.toml", "npm": "package.json", "docker": "Dockerfile"}


@pytest.mark.parametrize("name", [n for n in COMBOS if "gitea" in providers(n)])
def test_renovate(render, name: str) -> None:
    """renovate.json parses and watches what dependabot.yml would: the same source."""
    root = render(name)
    config = json.loads((root / "renovate.json").read_text())
    assert config["extends"] == ["config:recommended"]
    scope = bot_scope(root)
    assert set(config["enabledManagers"]) == {MANAGERS[ecosystem] for ecosystem, _ in scope}
    expected = {f"{directory.strip('/')}/{MANIFESTS[e]}".lstrip("/") for e, directory in scope if e in MANIFESTS}
    expected |= {f"{WORKFLOW_DIRS[p]}/**" for p in providers(name)}
    assert sorted(config["includePaths"]) == sorted(expected)
    for path in config["includePaths"]:
        if not path.endswith("/**"):
            assert (root / path).is_file(), f"renovate.json includes {path}, which the project lacks"


@pytest.mark.parametrize("name", [n for n in COMBOS if not providers(n)])
def test_no_bots_without_ci(render, name: str) -> None:
    root = render(name)
    present = [p for p in (".github", "renovate.json", "zizmor.yml") if (root / p).exists()]
    assert not present, f"ci_provider none rendered {present}"
