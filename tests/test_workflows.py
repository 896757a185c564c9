"""CI and release workflows: one partial per workflow, rendered for GitHub and Gitea.

Render and lint layers for .github/workflows and .gitea/workflows: the exact
files per ci_provider, actionlint over every rendered workflow, the workflow
policy (permissions, timeouts, pinned actions), the release matrix per layout,
the release's version step run with bash, and GitHub/Gitea parity.
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
# The default registry for project_name "Acme Shop" (support.BASE_ANSWERS).
REGISTRY = "ghcr.io/acme-shop"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@v\d+(\.\d+\.\d+)?$")
# Jinja syntax that survived the render; `${{ ... }}` is GitHub's and belongs there.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")


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
    # The release tests exactly what CI tests (one macro), with the setup
    # actions' caches off (zizmor's cache-poisoning: no cache reaches a release).
    assert without_cache_inputs(release["jobs"]["test"]) == ci["jobs"]["test"]
    release_test = release["jobs"]["test"]
    assert step(release_test, uses="astral-sh/setup-uv")["with"] == {"enable-cache": False}
    for each in release_test["steps"]:
        if each.get("uses", "").startswith("actions/setup-node@"):
            assert each["with"]["package-manager-cache"] is False
    # Jobs that push nothing with git keep no token in .git/config.
    for job in (ci["jobs"]["test"], release_test, release["jobs"]["build"]):
        assert step(job, uses="actions/checkout")["with"]["persist-credentials"] is False
    test = ci["jobs"]["test"]
    assert test["steps"][-1]["run"] == "make test"
    assert step(test, uses="actions/setup-python")["with"] == {"python-version": "3.12"}
    step(test, uses="astral-sh/setup-uv")
    has_node = any(svc["language"] == "node" for svc in services(root))
    node_steps = [s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-node@")]
    assert len(node_steps) == int(has_node), (
        f"setup-node steps {node_steps}, node service: {has_node}"
    )
    if has_node:
        assert node_steps[0]["with"] == {"node-version": "20"}


# ----------------------------------------------------------------- release
@pytest.mark.parametrize(("name", "provider"), RENDERED)
def test_release_matrix_lists_the_services(render, name: str, provider: str) -> None:
    project = render(name)
    names = [svc["name"] for svc in services(project)]
    jobs = load(project, provider, "release")["jobs"]
    assert list(jobs) == ["test", "build", "release"]
    assert jobs["build"]["needs"] == "test"
    assert jobs["release"]["needs"] == "build"
    if COMBOS[name]["layout"] == "multi":
        expected = [
            {"service": s, "context": f"services/{s}", "dockerfile": f"services/{s}/Dockerfile"}
            for s in names
        ]
    else:
        expected = [
            {"service": s, "context": ".", "dockerfile": "Dockerfile"} for s in names
        ]
    assert jobs["build"]["strategy"]["matrix"] == {"include": expected}
    build_push = step(jobs["build"], uses="docker/build-push-action")["with"]
    assert build_push["context"] == "${{ matrix.context }}"
    assert build_push["file"] == "${{ matrix.dockerfile }}"
    assert build_push["tags"] == "${{ steps.version.outputs.tags }}"


VERSION_CASES = [
    pytest.param("v1.2.3", "1.2.3", False, True, id="v1.2.3"),
    pytest.param("v1.2.3-rc.1", "1.2.3-rc.1", True, True, id="v1.2.3-rc.1"),
    pytest.param("v2.0.0-beta", "2.0.0-beta", True, True, id="v2.0.0-beta"),
    # A runner that sets GITHUB_REF but not GITHUB_REF_NAME.
    pytest.param("v1.2.3", "1.2.3", False, False, id="v1.2.3-ref-only"),
]


@pytest.mark.parametrize("provider", ["github", "gitea"])
@pytest.mark.parametrize(("tag", "version", "prerelease", "ref_name"), VERSION_CASES)
def test_version_step(
    render,
    tmp_path: Path,
    provider: str,
    tag: str,
    version: str,
    prerelease: bool,
    ref_name: bool,
) -> None:
    root = render("multi-both-redis-node-alpine")
    version_step = step(load(root, provider, "release")["jobs"]["build"], step_id="version")
    assert version_step["shell"] == "bash"
    script = version_step["run"]
    assert "${{" not in script, "the version script must read env vars only"
    image = version_step["env"]["IMAGE"].replace("${{ matrix.service }}", "web")
    assert image == f"{REGISTRY}/web"
    (tmp_path / "script.sh").write_text(script)
    output = tmp_path / "github_output"
    output.touch()
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_OUTPUT": str(output),
        "GITHUB_REF": f"refs/tags/{tag}",
        "IMAGE": image,
    }
    if ref_name:
        env["GITHUB_REF_NAME"] = tag
    # How the runners run `shell: bash`.
    run(
        [shutil.which("bash") or "bash", "--noprofile", "--norc", "-eo", "pipefail", "script.sh"],
        cwd=tmp_path,
        env=env,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    tags = [f"{image}:{version}"] + ([] if prerelease else [f"{image}:latest"])
    assert outputs == {
        "version": version,
        "prerelease": "true" if prerelease else "false",
        "tags": ",".join(tags),
    }


@pytest.mark.parametrize("name", BOTH)
def test_github_and_gitea_differ_only_in_provider_lines(render, name: str) -> None:
    root = render(name)
    # CI and the template update have no provider-specific line at all.
    assert load(root, "github", "ci") == load(root, "gitea", "ci")
    assert load(root, "github", "update") == load(root, "gitea", "update")
    github, gitea = load(root, "github", "release"), load(root, "gitea", "release")

    def provider_parts(workflow: dict[str, Any]) -> dict[str, Any]:
        """Pop the provider-specific settings out of a release workflow."""
        build, release = workflow["jobs"]["build"], workflow["jobs"]["release"]
        login = step(build, uses="docker/login-action")["with"]
        return {
            "build-permissions": build.pop("permissions", None),
            "credentials": (login.pop("username"), login.pop("password")),
            "release-steps": release.pop("steps"),
        }

    github_parts, gitea_parts = provider_parts(github), provider_parts(gitea)
    assert github == gitea, "GitHub and Gitea releases differ beyond the provider lines"
    assert github_parts == {
        "build-permissions": {"contents": "read", "packages": "write"},
        "credentials": ("${{ github.actor }}", "${{ secrets.GITHUB_TOKEN }}"),
        "release-steps": [
            {
                "uses": "softprops/action-gh-release@v3",
                "with": {
                    "prerelease": "${{ needs.build.outputs.prerelease }}",
                    "generate_release_notes": True,
                },
            }
        ],
    }
    assert gitea_parts == {
        "build-permissions": None,
        "credentials": ("${{ secrets.REGISTRY_USERNAME }}", "${{ secrets.REGISTRY_PASSWORD }}"),
        "release-steps": [
            {
                "uses": "akkuman/gitea-release-action@v1",
                "with": {
                    "token": "${{ secrets.GITEA_TOKEN }}",
                    "prerelease": "${{ needs.build.outputs.prerelease }}",
                },
            }
        ],
    }
    assert step(github["jobs"]["build"], uses="docker/login-action")["with"] == {
        "registry": "ghcr.io"
    }


@pytest.mark.parametrize(
    ("registry", "host"),
    [
        pytest.param("registry.example.com:5000/team", "registry.example.com:5000", id="own-host"),
        pytest.param("acme", "docker.io", id="docker-hub"),
    ],
)
def test_github_outside_ghcr_logs_in_with_secrets(tmp_path: Path, registry: str, host: str) -> None:
    """GITHUB_TOKEN pushes to GHCR only; any other registry takes the REGISTRY_* secrets."""
    answers = {
        "layout": "single",
        "services": "app",
        "components": [],
        "ci_provider": "github",
        "registry": registry,
    }
    root = support.run_copy(answers, tmp_path / "project")
    build = load(root, "github", "release")["jobs"]["build"]
    assert "permissions" not in build
    assert step(build, uses="docker/login-action")["with"] == {
        "registry": host,
        "username": "${{ secrets.REGISTRY_USERNAME }}",
        "password": "${{ secrets.REGISTRY_PASSWORD }}",
    }
    assert step(build, step_id="version")["env"] == {
        "IMAGE": f"{registry}/${{{{ matrix.service }}}}"
    }


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
