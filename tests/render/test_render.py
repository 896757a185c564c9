"""Layer 2: what each named combination renders, file by file, and that it parses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from support import BASE_ANSWERS, COMBOS, TEMPLATE, project_files, service_list

ROOT_FILES = {
    ".copier-answers.yml",
    ".gitignore",
    "Makefile",
    "README.md",
    "deploy/dev/docker-compose.yml",
    "deploy/dev/.env.example",
    "deploy/prod/docker-compose.yml",
    "deploy/prod/.env.example",
    # The prod stack's compose start order (issue 15); swarm.yml: see expected_files.
    "deploy/prod/start-order.yml",
    "scripts/prod-check.sh",
    "deploy/test/docker-compose.yml",
    "deploy/test/integration.env.example",  # copied to .env.integration on first use
    "scripts/get-test-instance-id.sh",
    # The stack package: every fact about the test and dev stacks (issue 24).
    "scripts/stack/__init__.py",
    "scripts/stack/__main__.py",
    "scripts/stack/launch.sh",
    "scripts/stack/registry.py",
    "scripts/stack/run.py",
    "scripts/lib/services.py",
    "scripts/services.json",
    "scripts/lib/gitutil.py",
    "scripts/unit-tests.sh",
    "scripts/run-integration-tests.sh",
    "scripts/test-runner.py",
    # The runner's package, started by scripts/test-runner.py.
    "scripts/test_runner/__init__.py",
    "scripts/test_runner/cli.py",
    "scripts/test_runner/parsing.py",
    "scripts/test_runner/planning.py",
    "scripts/test_runner/process.py",
    "scripts/test_runner/state.py",
    "scripts/test_runner/view.py",
    "scripts/update.py",
    "scripts/check-conflicts.sh",
    "scripts/lint.py",  # make lint
    "scripts/dev.py",  # the dev stack's manager, make test-watch
    ".pre-commit-config.yaml",
    "docs/development.md",
    "docs/template-changes.md",
    "docs/deploy.md",  # the prod stack: compose, the edge, swarm (issue 15)
    # Tool settings beside the (user-owned) manifests; lock files (scripts/lock.py).
    "ruff.toml",
    "scripts/lock.py",
    # Extension points: user-owned, created once.
    "local.mk",
    "deploy/dev/docker-compose.override.yml",
    "deploy/test/docker-compose.override.yml",
    "deploy/prod/docker-compose.override.yml",
}
MULTI_ROOT_FILES = {
    "pyproject.toml",
    "pytest.ini",
    "scripts/test-service.sh",
    "tests/integration/conftest.py",
    "tests/integration/test_stack.py",
    "testkit/__init__.py",  # template-owned helpers of the cross-service tests
}
CI_FILES = {
    "github": {".github/workflows/ci.yml", ".github/workflows/release.yml", ".github/workflows/update.yml"},
    "gitea": {".gitea/workflows/ci.yml", ".gitea/workflows/release.yml", ".gitea/workflows/update.yml"},
}

# The dependency-update bot each forge gets (partials/deps/).
BOT_FILES = {"github": {".github/dependabot.yml"}, "gitea": {"renovate.json"}}


def service_files(name: str, language: str, kind: str, multi: bool,
                  components: tuple[str, ...] = ()) -> set[str]:
    """The files one service renders, relative to its folder."""
    files = {"Dockerfile", ".dockerignore", "deploy/test/docker-compose.yml",
             "deploy/test/docker-compose.override.yml"}
    if multi:
        files.add("Makefile")
    if language == "python":
        package = name.replace("-", "_")
        files |= {
            "pyproject.toml",
            "pytest.ini",
            f"src/{package}/__init__.py",
            f"src/{package}/settings.py",
            f"src/{package}/health.py",
            f"src/{package}/{ {'api': 'main', 'worker': 'worker'}.get(kind, kind) }.py",
            f"tests/unit/test_{kind}.py",
            "tests/integration/conftest.py",
            f"tests/integration/test_{kind}_live.py",
            "testkit/__init__.py",
        }
        if kind == "api":  # problem details, the POST routes' guards and their tests (issue 26)
            files |= {f"src/{package}/errors.py", f"src/{package}/guards.py", "tests/unit/test_guards.py"}
        if "postgres" in components and kind != "scheduler":  # schema migrations (Alembic), models, seed
            files |= {"alembic.ini", "migrations/env.py", "migrations/script.py.mako", "migrations/step.py",
                      "migrations/versions/0001_initial.py", f"src/{package}/models.py",
                      f"src/{package}/seed.py"}
        if "postgres" in components and (kind == "api" or (kind == "worker" and "redis" in components)):
            files.add(f"src/{package}/db.py")  # the connection pool
        if "llm" in components and kind in ("api", "worker"):  # the sample runs (llm component)
            files.add(f"src/{package}/runs.py")
            files |= ({"migrations/versions/llm_0001_runs.py", "migrations/versions/llm_0002_leases.py"}
                      if kind == "api" else {"tests/integration/test_llm_client.py"})
    elif kind == "frontend":
        files |= {
            "package.json",
            "index.html",
            "Caddyfile",
            "vite.config.ts",
            "tsconfig.json",
            "eslint.config.js",
            "src/main.tsx",
            "src/App.tsx",
            "src/vite-env.d.ts",
            "tests/unit/frontend.test.tsx",
            "tests/integration/frontend.live.test.ts",
            "tests/integration/frontend.browser.test.ts",
        }
    else:
        # node: JavaScript modules and eslint; ts: the same modules in TypeScript, tsc and eslint
        ext = "ts" if language == "ts" else "js"
        files |= {
            "package.json",
            f"src/config.{ext}",
            f"src/health.{ext}",
            f"tests/unit/{kind}.test.{ext}",
            f"tests/integration/{kind}.live.test.{ext}",
            f"testkit/wait-for.{ext}",
        }
        files |= {"tsconfig.json", "tsconfig.build.json", "eslint.config.js"} if ext == "ts" else {"eslint.config.js"}
        files |= {f"src/app.{ext}", f"src/server.{ext}"} if kind == "api" else {f"src/{kind}.{ext}"}
        if "postgres" in components and kind != "scheduler":  # node-pg-migrate (JavaScript), seed
            files |= {"migrate.js", "migrations/1700000000000_initial.js", f"src/seed.{ext}"}
    return files


def k8s_files(combo: dict) -> set[str]:
    """deploy/k8s/ (deploy_targets: kubernetes): the base's parts the project has, the overlay, the page."""
    kinds = {svc["kind"] for svc in service_list(combo)}
    components = combo["components"]
    base = {"kustomization.yaml", "services.yaml"}
    base |= {f"{infra}.yaml" for infra in ("postgres", "redis") if infra in components}
    if "postgres" in components and kinds & {"api", "worker"}:
        base.add("migrate.yaml")
    if "api" in kinds:
        base.add("ingress.yaml")
    return {f"deploy/k8s/base/{name}" for name in base} | {
        "deploy/k8s/overlays/prod/kustomization.yaml", "docs/kubernetes.md"}


def expected_files(combo: dict) -> set[str]:
    multi = combo["layout"] == "multi"
    files = set(ROOT_FILES)
    if multi:
        files |= MULTI_ROOT_FILES
    provider = combo["ci_provider"]
    for ci in ("github", "gitea"):
        if provider in (ci, "both"):
            files |= CI_FILES[ci] | BOT_FILES[ci]
    if provider != "none":
        files.add("zizmor.yml")  # the workflow audit's settings
    if any(svc["kind"] in ("api", "frontend") for svc in service_list(combo)):
        # The prod stack's TLS edge: its Caddyfile and the user's routes (issue 15).
        files |= {"deploy/prod/Caddyfile", "deploy/prod/Caddyfile.local"}
    if "llm" in combo["components"]:
        # The stand-in for the OpenAI-compatible API; the run scenarios INT-001..INT-004.
        files |= {"deploy/llm-stub/Dockerfile", "deploy/llm-stub/llm_stub.py"}
        kinds = {(svc["language"], svc["kind"]) for svc in service_list(combo)}
        if multi and {("python", "api"), ("python", "worker")} <= kinds:
            files.add("tests/integration/test_llm_runs.py")
    if "kubernetes" in combo.get("deploy_targets", ()):
        files |= k8s_files(combo)
    if "swarm" in combo.get("deploy_targets", ()):
        files.add("deploy/prod/swarm.yml")  # the prod stack's Docker Swarm settings (issue 15)
    for svc in service_list(combo):
        prefix = f"services/{svc['name']}/" if multi else ""
        files |= {prefix + f for f in service_files(svc["name"], svc["language"], svc["kind"], multi,
                                                    tuple(combo["components"]))}
    return files


@pytest.mark.parametrize("name", COMBOS)
def test_exact_file_set(render, name: str) -> None:
    project = render(name)
    actual = project_files(project)
    expected = expected_files(COMBOS[name])
    missing, unexpected = sorted(expected - actual), sorted(actual - expected)
    assert not missing and not unexpected, f"missing: {missing}\nunexpected: {unexpected}"


JINJA_LEFTOVER = re.compile(r"\{%-?\s|\s-?%\}|\{\{[^}]*\}\}|\{#")
# GitHub/Gitea expressions are ${{ ... }}, metadata-action's patterns {{version}};
# compose interpolation is ${...}.
WORKFLOW_EXPR = re.compile(r"\$\{\{[^}]*\}\}|\{\{version\}\}")
# docker's Go templates (`docker inspect --format '{{.Id}}'`): fields, range, println, end.
GO_TEMPLATE = re.compile(r"\{\{(\.[\w.]*|range \.\w+|println \.|end)\}\}")


@pytest.mark.parametrize("name", COMBOS)
def test_no_leftover_jinja(render, name: str) -> None:
    project = render(name)
    offenders = []
    for rel in sorted(project_files(project)):
        text = (project / rel).read_text()
        if rel.startswith((".github/", ".gitea/")):
            text = WORKFLOW_EXPR.sub("", text)
        text = GO_TEMPLATE.sub("", text)
        for lineno, line in enumerate(text.splitlines(), 1):
            if JINJA_LEFTOVER.search(line):
                offenders.append(f"{rel}:{lineno}: {line.strip()}")
    assert not offenders, "leftover Jinja:\n" + "\n".join(offenders)


@pytest.mark.parametrize("name", COMBOS)
def test_every_data_file_parses(render, name: str) -> None:
    project = render(name)
    parsed = 0
    for rel in sorted(project_files(project)):
        path = project / rel
        try:
            if rel.endswith((".yml", ".yaml")):
                # Kubernetes manifests hold several documents (deploy/k8s/).
                list(yaml.safe_load_all(path.read_text()))
            elif rel.endswith(".toml"):
                tomllib.loads(path.read_text())
            elif rel.endswith(".json"):
                json.loads(path.read_text())
            else:
                continue
        except Exception as error:  # noqa: BLE001 - report which file and why
            pytest.fail(f"{rel} does not parse: {error}")
        parsed += 1
    assert parsed >= 5


@pytest.mark.parametrize("name", COMBOS)
def test_scripts_are_executable(render, name: str) -> None:
    project = render(name)
    scripts = [p for p in (project / "scripts").iterdir() if p.suffix in (".sh", ".py")]
    not_exec = [p.name for p in scripts if not p.stat().st_mode & 0o111]
    assert scripts and not not_exec, f"not executable: {not_exec}"


def test_answers_file_records_every_question(render) -> None:
    answers = yaml.safe_load((render("multi-github-pg-redis-mixed") / ".copier-answers.yml").read_text())
    for key in ("project_name", "project_slug", "layout", "services", "components",
                "ci_provider", "registry", "python_version", "node_version", "image_flavor", "deploy_targets"):
        assert key in answers, key
    assert answers["project_slug"] == "acme-shop"
    assert "service_list" not in answers, "computed values must not be stored"


def test_test_compose_files_follow_the_isolation_rules(render) -> None:
    """Loopback dynamic ports, no container_name, healthchecks and tmpfs storage."""
    for name in COMBOS:
        project = render(name)
        for compose_file in [project / "deploy/test/docker-compose.yml",
                             *project.glob("services/*/deploy/test/docker-compose.yml")]:
            doc = yaml.safe_load(compose_file.read_text())
            rel = compose_file.relative_to(project)
            assert "name" not in doc, f"{rel}: the project name must come from the scripts"
            for svc_name, svc in doc["services"].items():
                where = f"{name}:{rel}:{svc_name}"
                assert "container_name" not in svc, where
                assert "healthcheck" in svc, where
                for port in svc.get("ports", []):
                    assert re.fullmatch(r"127\.0\.0\.1::\d+", str(port)), f"{where}: {port}"
                for dep_name, dep in svc.get("depends_on", {}).items():
                    # A one-shot migrate step is waited for until it exits 0; migrate
                    # steps wait for no other service's (an advisory lock orders them).
                    assert not (svc_name.endswith("-migrate") and dep_name.endswith("-migrate")), where
                    done = dep_name == f"{svc_name}-migrate"
                    condition = "service_completed_successfully" if done else "service_healthy"
                    assert dep == {"condition": condition}, where
            if "postgres" in doc["services"]:
                pg = doc["services"]["postgres"]
                assert pg["tmpfs"] == ["/var/lib/postgresql/data"]
                for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
                    assert setting in pg["command"], f"{rel}: {setting}"


def test_prod_compose_requires_secrets_and_limits(render) -> None:
    doc = yaml.safe_load((render("multi-github-pg-redis-mixed") / "deploy/prod/docker-compose.yml").read_text())
    for svc_name, svc in doc["services"].items():
        # One-shot migrate steps run once per deploy: never restarted.
        one_shot = svc_name.endswith("-migrate")
        assert svc["restart"] == ("no" if one_shot else "unless-stopped"), svc_name
        assert svc["logging"]["options"]["max-size"], svc_name
        assert svc["deploy"]["resources"]["limits"]["memory"], svc_name



@pytest.mark.parametrize("name", COMBOS)
def test_prod_secrets_are_files_mounted_where_they_are_read(render, name: str) -> None:
    """issue 15: no prod service has a password or key in its environment: each NAME_FILE
    variable names /run/secrets/<secret>, a secret of that service and of the stack (a file
    of deploy/prod/secrets), and every secret of the stack is read somewhere."""
    doc = yaml.safe_load((render(name) / "deploy/prod/docker-compose.yml").read_text())
    stack = doc.get("secrets") or {}
    assert all(s["file"] == f"./secrets/{secret}" for secret, s in stack.items()), stack
    read = set()
    for svc_name, svc in doc["services"].items():
        env = svc.get("environment") or {}
        assert not [k for k in env if k.endswith(("PASSWORD", "API_KEY"))], (svc_name, env)
        # no URL with a password in it (${VAR:-default} expressions aside)
        urls = [re.sub(r"\$\{[^}]*\}", "x", str(v)) for v in env.values()]
        assert not [url for url in urls if re.search(r"://[^/@]*:[^/@]*@", url)], (svc_name, env)
        for key, value in env.items():
            if key.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert secret in (svc.get("secrets") or []) and secret in stack, (svc_name, key, value)
                read.add(secret)
    assert read == set(stack), f"secrets nobody reads: {set(stack) - read}"


# Capabilities a prod container may add back after cap_drop: [ALL] (issue 15): the
# entrypoints of postgres and redis start as root, chown and drop to their user (gosu);
# caddy's binary carries cap_net_bind_service as a file capability.
PROD_CAPS = {
    "postgres": {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"},
    "redis": {"SETUID", "SETGID"},
    "edge": {"NET_BIND_SERVICE"},
}


@pytest.mark.parametrize("name", COMBOS)
def test_prod_services_are_hardened_and_only_the_edge_publishes(render, name: str) -> None:
    """issue 15: no prod service but the edge publishes a port; every one drops all
    capabilities (adding back only PROD_CAPS'), gains no privileges, runs read-only."""
    project = render(name)
    doc = yaml.safe_load((project / "deploy/prod/docker-compose.yml").read_text())
    http = [svc for svc in service_list(COMBOS[name]) if svc["kind"] in ("api", "frontend")]
    frontends = {svc["name"] for svc in http if svc["kind"] == "frontend"}
    publishing = sorted(svc_name for svc_name, svc in doc["services"].items() if svc.get("ports"))
    assert publishing == (["edge"] if http else []), publishing
    for svc_name, svc in doc["services"].items():
        assert svc["cap_drop"] == ["ALL"], svc_name
        assert svc["security_opt"] == ["no-new-privileges:true"], svc_name
        assert svc["read_only"] is True, svc_name
        allowed = {"NET_BIND_SERVICE"} if svc_name in frontends else PROD_CAPS.get(svc_name, set())
        assert set(svc.get("cap_add", [])) == allowed, svc_name
        assert "name" not in doc, "docker stack deploy refuses a top-level name"
        assert isinstance(svc.get("depends_on", []), list), f"{svc_name}: swarm needs a list"
    if http:
        for port in doc["services"]["edge"]["ports"]:
            assert port["mode"] == "host", port
        caddyfile = (project / "deploy/prod/Caddyfile").read_text()
        for svc in http:
            assert f"handle_path /{svc['name']}/* {{" in caddyfile, svc["name"]
        assert "import /etc/caddy/Caddyfile.local" in caddyfile


SWARM_COMBOS = [name for name, combo in COMBOS.items() if "swarm" in combo.get("deploy_targets", ())]


@pytest.mark.parametrize("name", SWARM_COMBOS)
def test_swarm_file_settings(render, name: str) -> None:
    """issue 15: every swarm service is reached by DNS round robin; migrate steps are jobs;
    stateful services stop before their replacement and are placed by a constraint."""
    project = render(name)
    services = yaml.safe_load((project / "deploy/prod/swarm.yml").read_text())["services"]
    prod = yaml.safe_load((project / "deploy/prod/docker-compose.yml").read_text())["services"]
    assert set(services) == set(prod), "swarm.yml names exactly the prod services"
    for svc_name, svc in services.items():
        deploy = svc["deploy"]
        assert deploy["endpoint_mode"] == "dnsrr", svc_name
        if svc_name.endswith("-migrate"):
            assert deploy["mode"] == "replicated-job", svc_name
            assert deploy["restart_policy"]["condition"] == "on-failure", svc_name
            continue
        assert deploy["update_config"]["failure_action"] == "rollback", svc_name
        stateful = svc_name in ("postgres", "redis", "edge")
        assert deploy["update_config"]["order"] == ("stop-first" if stateful else "start-first"), svc_name
        if stateful:
            assert deploy["placement"]["constraints"], svc_name


@pytest.mark.parametrize("name", COMBOS)
def test_base_images_are_named_once_and_overridable(render, name: str) -> None:
    """Every FROM takes a build arg; compose passes it from an overridable variable."""
    project = render(name)
    for dockerfile in project.rglob("Dockerfile"):
        froms = [line for line in dockerfile.read_text().splitlines() if line.startswith("FROM ")]
        assert froms, dockerfile
        for line in froms:
            assert re.match(r"FROM \$\{(PYTHON|NODE|CADDY|DEBIAN)_IMAGE\} AS \w+$", line), \
                f"{dockerfile}: {line}"
        assert "COPY --from=" not in dockerfile.read_text().replace("COPY --from=build ", "").replace(
            "COPY --from=deps ", "").replace("COPY --from=healthcheck ", ""
        ), f"{dockerfile}: COPY --from another image"
    for compose_file in project.rglob("docker-compose.yml"):
        doc = yaml.safe_load(compose_file.read_text())
        for svc_name, svc in doc["services"].items():
            if "image" in svc and svc_name in ("postgres", "redis"):
                assert svc["image"].startswith(f"${{{svc_name.upper()}_IMAGE:-"), svc["image"]
            for value in svc.get("build", {}).get("args", {}).values():
                assert re.fullmatch(r"\$\{(PYTHON|NODE|CADDY|DEBIAN)_IMAGE:-[a-z0-9.:-]+\}", value), value


def test_single_layout_flattens_the_service(render) -> None:
    project = render("single-github-python-api")
    assert (project / "src/app/main.py").is_file()
    assert not (project / "services").exists()
    makefile = (project / "Makefile").read_text()
    assert "test-service:" not in makefile, "the single layout has two stages"


def test_services_share_one_source(render) -> None:
    """Two python apis render the same Dockerfile but for names: one source, no copy drift."""
    project = render("multi-both-redis-node-alpine")
    web = (project / "services/web/Dockerfile").read_text().replace("web", "X")
    gateway = (project / "services/gateway/Dockerfile").read_text().replace("gateway", "X")
    assert web == gateway


def test_development_doc_names_every_service(render) -> None:
    text = (render("multi-github-pg-redis-mixed") / "docs/development.md").read_text()
    for name in ("api", "worker", "web"):
        assert f"**{name}**" in text


@pytest.mark.parametrize("name", ["multi-github-pg-redis-mixed", "single-github-python-api"])
def test_readme_is_short_and_links_the_development_doc(render, name: str) -> None:
    """README.md is the user's (created once); the tooling documentation is the template's."""
    project = render(name)
    readme = (project / "README.md").read_text()
    assert "](docs/development.md)" in readme
    assert len(readme.splitlines()) < 30, "the tooling documentation belongs in docs/development.md"
    assert "## Tests" in (project / "docs/development.md").read_text()


@pytest.mark.parametrize("name", ["multi-github-pg-redis-mixed", "single-github-python-api"])
def test_development_doc_lists_every_extension_point(render, name: str) -> None:
    """Every user-owned file the template creates outside the code is named in the doc."""
    project = render(name)
    doc = (project / "docs/development.md").read_text()
    points = ["local.mk", "README.md"] + sorted(
        p.relative_to(project).as_posix() for p in project.glob("deploy/*/docker-compose.override.yml"))
    if COMBOS[name]["layout"] == "multi":
        points.append("services/<name>/deploy/test/docker-compose.override.yml")
    missing = [p for p in points if f"| `{p}` |" not in doc]
    assert len(points) >= 5 and not missing, f"not in the extension point table: {missing}"


def test_template_path_render_in_empty_dir(tmp_path: Path) -> None:
    """The project can be rendered into a directory that already exists and is empty."""
    from support import run_copy

    target = tmp_path / "here"
    target.mkdir()
    run_copy({"layout": "single", "services": "app", "components": [], "ci_provider": "none"}, target)
    assert (target / "Dockerfile").is_file()


def test_render_helper_reraises_render_errors(copie) -> None:  # noqa: ANN001 - pytest-copie fixture
    """A failed render is an error in every test that uses the helper, not a silent pass."""
    from support import rendered

    result = copie.copy(extra_answers={**BASE_ANSWERS, "services": "Not Valid"}, vcs_ref="HEAD")
    with pytest.raises(RuntimeError, match="render failed") as caught:
        rendered(result)
    assert "services" in str(caught.value.__cause__)


def test_every_project_carries_the_template_changelog(render) -> None:  # noqa: ANN001
    """docs/template-changes.md is CHANGELOG.md byte for byte: the update pull request quotes its new lines."""
    for name in ("multi-github-pg-redis-mixed", "single-none-node-worker"):
        text = (render(name) / "docs/template-changes.md").read_bytes()
        assert text == (TEMPLATE / "CHANGELOG.md").read_bytes(), name


# How a file speaks of the template's past: only docs/template-changes.md (the changelog) and
# the update engine may (issue 24: a new project inherits no history it never had).
TEMPLATE_HISTORY = re.compile(
    r"projects? (?:made|created|rendered|generated) (?:before|with an? (?:older|earlier))"
    r"|(?:older|earlier|previous) (?:template|versions? of the template)"
    r"|before (?:the template|this template|migrations existed)"
    r"|the template (?:used to|once|formerly)", re.IGNORECASE)


@pytest.mark.parametrize("name", COMBOS)
def test_no_file_speaks_of_template_history(render, name: str) -> None:  # noqa: ANN001
    """Generated files describe the project as it is; the template's history is in template-changes.md."""
    project = render(name)
    offenders = [f"{rel}:{lineno}: {line.strip()}"
                 for rel in sorted(project_files(project)) if rel != "docs/template-changes.md"
                 for lineno, line in enumerate((project / rel).read_text().splitlines(), 1)
                 if TEMPLATE_HISTORY.search(line)]
    assert not offenders, "files that speak of the template's history:\n" + "\n".join(offenders)


@pytest.mark.parametrize(("services", "note"), [
    ("api worker:worker beat:node:scheduler",
     "Note: scheduler beat feeds node workers (BullMQ) and there is none: its jobs wait in redis."),
    ("api:node worker:node:worker beat:scheduler",
     "Note: scheduler beat feeds python workers (Celery) and there is none: its jobs wait in redis."),
    ("api:node worker:node:worker beat:node:scheduler", None),
    # a ts scheduler's jobs go to the same BullMQ queue a JavaScript worker runs
    ("api:node worker:node:worker beat:ts:scheduler", None),
])
def test_copy_warns_when_a_scheduler_has_no_worker_of_its_language(
        tmp_path: Path, services: str, note: str | None) -> None:
    """A python scheduler feeds Celery workers, a node one BullMQ workers: one line says so."""
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
         "-d", "project_name=Acme Shop", "-d", f"services={services}",
         "-d", "components=[postgres, redis]", "-d", "ci_provider=none", str(TEMPLATE), str(tmp_path / "p")],
        capture_output=True, text=True, env={**os.environ, "SKIP_LOCK": "1"}, timeout=300)
    assert result.returncode == 0, result.stderr
    notes = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("Note: scheduler")]
    assert notes == ([note] if note else []), result.stderr


def _hook_model():
    sys.path.insert(0, str(TEMPLATE / "hooks"))
    import model  # hooks/model.py

    return model


@pytest.mark.parametrize("name", COMBOS)
def test_every_stack_member_is_in_the_model(render, name: str) -> None:
    """Each compose service that is not one of the project's services is a member the
    model names (so no service can take its name), with the ports it publishes."""
    model = _hook_model()
    project = render(name)
    combo = {**BASE_ANSWERS, **COMBOS[name]}
    svcs = service_list(combo)
    names = {svc["name"] for svc in svcs}
    members = {m["name"]: m for m in model.stack_members(svcs, combo["components"])}
    for compose in sorted(project.glob("deploy/*/docker-compose.yml")):
        keys = set(yaml.safe_load(compose.read_text())["services"])
        others = keys - names
        assert others <= set(members), f"{compose.relative_to(project)}: {sorted(others - set(members))}"
        assert all(member in model.RESERVED or member.endswith(model.MIGRATE_SUFFIX) for member in others)
    dev = yaml.safe_load((project / "deploy/dev/docker-compose.yml").read_text())["services"]
    for member, spec in dev.items():
        if member in members:
            published = {int(str(p).rsplit(":", 1)[-1].split("}")[0].split("-")[-1])
                         for p in spec.get("ports", []) if "${" in str(p)}
            host = {int(m) for p in spec.get("ports", []) for m in re.findall(r":-(\d+)\}", str(p))}
            assert host <= set(members[member]["ports"]), (member, host, published)


def test_python_services_shadow_no_module_their_code_imports(render) -> None:
    """model.PYTHON_IMPORTS (the names a python service may not take) holds every module
    the rendered python code imports that is neither the standard library's nor the project's."""
    import ast

    model = _hook_model()
    unknown: dict[str, str] = {}
    for name in COMBOS:
        project = render(name)
        local = {p.name for p in project.rglob("src/*") if p.is_dir()} | {"tests", "conftest"}
        for path in project.rglob("*.py"):
            if "node_modules" in path.parts or path.relative_to(project).parts[0] == "scripts":
                continue  # scripts/ runs in the project's tooling environment (uv run), not a service's
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    tops = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    tops = [node.module.split(".")[0]]
                else:
                    continue
                for top in tops:
                    if top not in sys.stdlib_module_names and top not in model.PYTHON_IMPORTS and top not in local:
                        unknown.setdefault(top, str(path.relative_to(project)))
    assert not unknown, f"imported but not in hooks/model.py PYTHON_IMPORTS: {unknown}"
