"""Which files a project gets: hooks/files.py, the data behind copier.yml's `_exclude`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import jinja2
import pytest
import yaml
from pathspec import PathSpec
from support import COMBOS, TEMPLATE, hook_module, template_environment

TREE = TEMPLATE / "template"
SERVICE_YIELD = "{% yield svc from service_list %}{{ svc.path }}{% endyield %}"
MULTI_YIELD = "services/{% yield svc from service_list %}{{ svc.name }}{% endyield %}"
FORGE_YIELD = "{% yield provider from forge_list %}.{{ provider }}{% endyield %}"


files = hook_module("files")
services = hook_module("services")
jinja = hook_module("jinja")


def excluded(spec: str, layout: str) -> list[str]:
    return files.excluded_paths(services.parse_services(spec, layout), layout)


# ---------------------------------------------------------------- the data

def test_multi_mixed_excludes_each_service_the_other_language() -> None:
    assert excluded("api worker:worker web:node", "multi") == [
        # ci_provider none: no bots, no workflow audit settings
        "/.github",
        "/renovate.json",
        "/zizmor.yml",
        # deploy_targets [compose] (the default): no swarm settings (issue 15)
        "/deploy/prod/swarm.yml",
        # no llm component: no stand-in, no run scenarios, no sample runs
        "/deploy/llm-stub",
        "/tests/integration/test_llm_runs.py",
        # deploy_targets [compose] (the default): no Kubernetes manifests, no page on them
        "/deploy/k8s",
        "/docs/kubernetes.md",
        "/services/api/package.json",
        "/services/api/eslint.config.js",
        "/services/api/src/api/worker.py",
        "/services/api/src/api/scheduler.py",
        "/services/api/src/config.js",
        "/services/api/src/health.js",
        "/services/api/src/app.js",
        "/services/api/src/server.js",
        "/services/api/src/worker.js",
        "/services/api/src/scheduler.js",
        # ts: the same modules in TypeScript (issue 14)
        "/services/api/src/config.ts",
        "/services/api/src/health.ts",
        "/services/api/src/app.ts",
        "/services/api/src/server.ts",
        "/services/api/src/worker.ts",
        "/services/api/src/scheduler.ts",
        "/services/api/tsconfig.build.json",
        "/services/api/tests/unit/api.test.js",
        "/services/api/tests/unit/api.test.ts",
        "/services/api/tests/integration/api.live.test.js",
        "/services/api/testkit/wait-for.js",
        "/services/api/testkit/wait-for.ts",
        # a frontend's files (issue 14)
        "/services/api/index.html",
        "/services/api/Caddyfile",
        "/services/api/vite.config.ts",
        "/services/api/tsconfig.json",
        "/services/api/src/main.tsx",
        "/services/api/src/App.tsx",
        "/services/api/src/vite-env.d.ts",
        "/services/api/tests/unit/api.test.tsx",
        "/services/api/tests/integration/api.live.test.ts",
        "/services/api/tests/integration/api.browser.test.ts",
        # no postgres among the components: no schema migrations
        "/services/api/alembic.ini",
        "/services/api/migrations",
        "/services/api/src/api/db.py",  # no postgres: no connection pool
        "/services/api/src/api/models.py",
        "/services/api/src/api/seed.py",
        "/services/api/migrate.js",
        "/services/api/src/seed.js",
        "/services/api/src/seed.ts",
        "/services/api/src/api/runs.py",
        "/services/api/tests/integration/test_llm_client.py",
        "/services/worker/package.json",
        "/services/worker/eslint.config.js",
        "/services/worker/src/worker/main.py",
        "/services/worker/src/worker/errors.py",
        "/services/worker/src/worker/guards.py",
        "/services/worker/src/worker/scheduler.py",
        "/services/worker/src/config.js",
        "/services/worker/src/health.js",
        "/services/worker/src/app.js",
        "/services/worker/src/server.js",
        "/services/worker/src/worker.js",
        "/services/worker/src/scheduler.js",
        "/services/worker/src/config.ts",
        "/services/worker/src/health.ts",
        "/services/worker/src/app.ts",
        "/services/worker/src/server.ts",
        "/services/worker/src/worker.ts",
        "/services/worker/src/scheduler.ts",
        "/services/worker/tsconfig.build.json",
        "/services/worker/tests/unit/test_guards.py",
        "/services/worker/tests/unit/worker.test.js",
        "/services/worker/tests/unit/worker.test.ts",
        "/services/worker/tests/integration/worker.live.test.js",
        "/services/worker/testkit/wait-for.js",
        "/services/worker/testkit/wait-for.ts",
        "/services/worker/index.html",
        "/services/worker/Caddyfile",
        "/services/worker/vite.config.ts",
        "/services/worker/tsconfig.json",
        "/services/worker/src/main.tsx",
        "/services/worker/src/App.tsx",
        "/services/worker/src/vite-env.d.ts",
        "/services/worker/tests/unit/worker.test.tsx",
        "/services/worker/tests/integration/worker.live.test.ts",
        "/services/worker/tests/integration/worker.browser.test.ts",
        "/services/worker/alembic.ini",
        "/services/worker/migrations",
        "/services/worker/src/worker/db.py",  # no postgres: no connection pool
        "/services/worker/src/worker/models.py",
        "/services/worker/src/worker/seed.py",
        "/services/worker/migrate.js",
        "/services/worker/src/seed.js",
        "/services/worker/src/seed.ts",
        "/services/worker/src/worker/runs.py",
        "/services/worker/tests/integration/test_llm_client.py",
        "/services/web/pyproject.toml",
        "/services/web/pytest.ini",
        # the package folder covers main.py and worker.py below it
        "/services/web/src/web",
        "/services/web/src/worker.js",
        "/services/web/src/scheduler.js",
        "/services/web/src/config.ts",
        "/services/web/src/health.ts",
        "/services/web/src/app.ts",
        "/services/web/src/server.ts",
        "/services/web/src/worker.ts",
        "/services/web/src/scheduler.ts",
        "/services/web/tsconfig.build.json",
        "/services/web/tests/unit/test_api.py",
        "/services/web/tests/unit/test_guards.py",
        "/services/web/tests/unit/api.test.ts",
        "/services/web/tests/integration/conftest.py",
        "/services/web/tests/integration/test_api_live.py",
        "/services/web/testkit/__init__.py",
        "/services/web/testkit/wait-for.ts",
        "/services/web/index.html",
        "/services/web/Caddyfile",
        "/services/web/vite.config.ts",
        "/services/web/tsconfig.json",
        "/services/web/src/main.tsx",
        "/services/web/src/App.tsx",
        "/services/web/src/vite-env.d.ts",
        "/services/web/tests/unit/api.test.tsx",
        "/services/web/tests/integration/api.live.test.ts",
        "/services/web/tests/integration/api.browser.test.ts",
        "/services/web/alembic.ini",
        "/services/web/migrations",
        "/services/web/migrate.js",
        "/services/web/src/seed.js",
        "/services/web/src/seed.ts",
        "/services/web/tests/integration/test_llm_client.py",
    ]


def test_single_node_worker_excludes_at_the_root() -> None:
    assert excluded("tasks:node:worker", "single") == [
        "/services",
        "/scripts/test-service.sh",
        "/tests/integration/test_stack.py",
        "/testkit/__init__.py",
        "/.github",
        "/renovate.json",
        "/zizmor.yml",
        # no api or frontend: no TLS edge in prod (issue 15)
        "/deploy/prod/Caddyfile",
        "/deploy/prod/Caddyfile.local",
        "/deploy/prod/swarm.yml",
        "/deploy/llm-stub",
        "/tests/integration/test_llm_runs.py",
        "/deploy/k8s",
        "/docs/kubernetes.md",
        "/pyproject.toml",
        "/pytest.ini",
        "/src/tasks",
        "/src/app.js",
        "/src/server.js",
        "/src/scheduler.js",
        "/src/config.ts",
        "/src/health.ts",
        "/src/app.ts",
        "/src/server.ts",
        "/src/worker.ts",
        "/src/scheduler.ts",
        "/tsconfig.build.json",
        "/tests/unit/test_worker.py",
        "/tests/unit/test_guards.py",
        "/tests/unit/worker.test.ts",
        "/tests/integration/conftest.py",
        "/tests/integration/test_worker_live.py",
        "/testkit/__init__.py",
        "/testkit/wait-for.ts",
        "/index.html",
        "/Caddyfile",
        "/vite.config.ts",
        "/tsconfig.json",
        "/src/main.tsx",
        "/src/App.tsx",
        "/src/vite-env.d.ts",
        "/tests/unit/worker.test.tsx",
        "/tests/integration/worker.live.test.ts",
        "/tests/integration/worker.browser.test.ts",
        "/alembic.ini",
        "/migrations",
        "/migrate.js",
        "/src/seed.js",
        "/src/seed.ts",
        "/tests/integration/test_llm_client.py",
    ]


def test_frontend_gets_the_page_and_none_of_a_node_service_modules() -> None:
    gone = excluded("api web:frontend", "multi")
    web = [path.removeprefix("/services/web/") for path in gone if path.startswith("/services/web/")]
    assert web == [
        "pyproject.toml", "pytest.ini", "src/web", "src/config.js",
        "src/health.js", "src/app.js", "src/server.js", "src/worker.js", "src/scheduler.js",
        "src/config.ts", "src/health.ts", "src/app.ts", "src/server.ts", "src/worker.ts",
        "src/scheduler.ts", "tsconfig.build.json",
        "tests/unit/test_frontend.py", "tests/unit/test_guards.py", "tests/unit/frontend.test.js",
        "tests/unit/frontend.test.ts",
        "tests/integration/conftest.py", "tests/integration/test_frontend_live.py",
        "tests/integration/frontend.live.test.js", "testkit", "alembic.ini", "migrations",
        "migrate.js", "src/seed.js", "src/seed.ts", "tests/integration/test_llm_client.py",
    ]
    # package.json, index.html, src/App.tsx ... stay; the api gets none of them.
    assert {"/services/api/index.html", "/services/api/Caddyfile"} <= set(gone)


def test_tool_settings_live_beside_the_manifests_not_in_them() -> None:
    """ruff.toml at every root (the manifests are the user's); pytest.ini where pytest runs."""
    for spec, layout in (("app", "single"), ("app:node", "single"), ("web:node", "multi")):
        assert "/ruff.toml" not in excluded(spec, layout)
    assert "/pytest.ini" not in excluded("app", "single")
    assert "/pytest.ini" in excluded("app:node", "single")
    assert "/pytest.ini" not in excluded("web:node", "multi")  # the cross-service tests
    assert "/services/web/pytest.ini" in excluded("web:node", "multi")
    assert "/services/api/pytest.ini" not in excluded("api web:node", "multi")


@pytest.mark.parametrize("layout", ["multi", "single"])
def test_schema_migrations_for_python_services_of_projects_with_postgres(layout: str) -> None:
    """alembic.ini, migrations/, models.py and seed.py: python and postgres, nothing else."""
    spec = "api web:node" if layout == "multi" else "api"
    service_list = services.parse_services(spec, layout)
    schema = {"alembic.ini", "migrations", "src/api/models.py", "src/api/seed.py"}
    folder = "services/api/" if layout == "multi" else ""
    with_pg = set(files.excluded_paths(service_list, layout, "none", ["postgres", "redis"]))
    without = set(files.excluded_paths(service_list, layout, "none", ["redis"]))
    assert not {f"/{folder}{path}" for path in schema} & with_pg
    assert {f"/{folder}{path}" for path in schema} <= without
    if layout == "multi":  # the node service gets node-pg-migrate's files instead
        assert {"/services/web/alembic.ini", "/services/web/migrations/env.py",
                "/services/web/migrations/versions"} <= with_pg
        assert "/services/api/migrate.js" in with_pg


@pytest.mark.parametrize("layout", ["multi", "single"])
def test_node_schema_migrations_for_node_apis_and_workers_of_projects_with_postgres(
        layout: str) -> None:
    """migrate.js, migrations/<first>.js and src/seed.js: node, postgres, not a scheduler."""
    spec = "web:node api tasks:node:worker beat:node:scheduler" if layout == "multi" else "web:node"
    service_list = services.parse_services(spec, layout)
    schema = {"migrate.js", "migrations", "migrations/1700000000000_initial.js", "src/seed.js"}
    with_pg = set(files.excluded_paths(service_list, layout, "none", ["postgres", "redis"]))
    without = set(files.excluded_paths(service_list, layout, "none", ["redis"]))
    folders = ["services/web/", "services/tasks/"] if layout == "multi" else [""]
    for folder in folders:
        assert not {f"/{folder}{path}" for path in schema} & with_pg
        assert {f"/{folder}{path}" for path in ("migrate.js", "migrations", "src/seed.js")} <= without
        # Alembic's files are the python services'
        assert {f"/{folder}alembic.ini", f"/{folder}migrations/env.py"} <= with_pg
    if layout == "multi":  # a scheduler only sends jobs; the python api gets no node files
        assert {"/services/beat/migrate.js", "/services/beat/migrations",
                "/services/api/migrations/1700000000000_initial.js"} <= with_pg



@pytest.mark.parametrize(("provider", "absent"), [
    ("github", ["/renovate.json"]),
    ("gitea", ["/.github"]),
    ("both", []),
    ("none", ["/.github", "/renovate.json", "/zizmor.yml"]),
])
def test_bots_and_audit_settings_come_with_the_ci_provider(provider: str, absent: list[str]) -> None:
    """dependabot (.github/) for GitHub, renovate.json for Gitea, zizmor.yml for either."""
    service_list = services.parse_services("api web:node", "multi")
    bots = {"/.github", "/renovate.json", "/zizmor.yml"}
    assert [p for p in files.excluded_paths(service_list, "multi", provider) if p in bots] == absent


@pytest.mark.parametrize(("provider", "expected"), [
    ("github", ["github"]), ("gitea", ["gitea"]), ("both", ["github", "gitea"]), ("none", []),
])
def test_forges(provider: str, expected: list[str]) -> None:
    assert files.forges(provider) == expected


@pytest.mark.parametrize("provider", ["GitHub", "gitlab", "", None, ["github"]])
def test_forges_refuses_other_answers(provider: object) -> None:
    with pytest.raises(ValueError, match="ci_provider must be one of github, gitea, both, none"):
        files.forges(provider)


def test_forge_list_is_computed_never_supplied() -> None:
    env = jinja2.Environment(extensions=[jinja.FilesHook])
    template = env.from_string("{{ forge_list | join(',') }}")
    conf = {"_copier_conf": {}}
    assert template.render(ci_provider="both", forge_list=["evil"], **conf) == "github,gitea"
    assert template.render(ci_provider="none", forge_list=["evil"], **conf) == ""


def test_the_filter_is_registered() -> None:
    env = jinja2.Environment(extensions=[jinja.FilesHook])
    template = env.from_string('{{ service_list | excluded_paths(layout) | join(" ") }}')
    rendered = template.render(service_list=services.parse_services("app", "single"),
                               layout="single", ci_provider="none", _copier_conf={})
    assert rendered.split() == excluded("app", "single")


# ------------------------------------------------- the data matches the tree

def _template_name(path: str) -> str:
    return path.replace("{package}", "{{ svc.package }}").replace("{kind}", "{{ svc.kind }}")


def _exists(folder: Path, path: str) -> bool:
    return (folder / path).exists() or (folder / f"{path}.jinja").exists()


@pytest.mark.parametrize("path", list(files.SERVICE_FILES))
def test_every_service_rule_names_a_template_file(path: str) -> None:
    name = _template_name(path)
    sources = [TREE / SERVICE_YIELD, TREE / MULTI_YIELD]
    assert any(_exists(folder, name) for folder in sources), (
        f"SERVICE_FILES[{path!r}]: no {name}(.jinja) in {[str(s) for s in sources]}")


@pytest.mark.parametrize("path", list(files.PROJECT_FILES))
def test_every_project_rule_names_a_template_file(path: str) -> None:
    assert _exists(TREE, path), f"PROJECT_FILES[{path!r}]: no template/{path}(.jinja)"


def test_no_path_holds_a_condition() -> None:
    """Only yield folders carry Jinja tags in their names; no name has an `{% if`."""
    tagged = {p.relative_to(TREE).as_posix() for p in TREE.rglob("*{%*") if "{%" in p.name}
    assert tagged == {FORGE_YIELD, MULTI_YIELD, SERVICE_YIELD}, tagged
    with_if = [p.as_posix() for p in TREE.rglob("*") if "{% if" in p.as_posix()]
    assert not with_if, with_if


def _output_paths(data: dict[str, object]) -> list[tuple[str, str]]:
    """(output path, template path) of every file a combination keeps, from the
    template tree and hooks/files.py, the way Copier expands and excludes them."""
    layout = str(data["layout"])
    service_list = services.parse_services(data["services"], layout)
    spec = PathSpec.from_lines("gitwildmatch", files.excluded_paths(service_list, layout, data["ci_provider"],
                                                                  data["components"],
                                                                  data.get("deploy_targets", ["compose"])))
    forge_list = files.forges(data["ci_provider"])
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    out = []
    for source in TREE.rglob("*"):
        if source.is_dir():
            continue
        rel = source.relative_to(TREE).as_posix()
        for prefix, key, values in [(f"{SERVICE_YIELD}/", "svc", service_list),
                                    (f"{MULTI_YIELD}/", "svc", service_list),
                                    (f"{FORGE_YIELD}/", "provider", forge_list),
                                    ("", None, [None])]:
            if key is None and "{% yield" in rel:
                continue
            if not rel.startswith(prefix):
                continue
            for value in values:
                tail = rel[len(prefix):]
                if key == "svc":
                    head = value["path"] if prefix == f"{SERVICE_YIELD}/" else f"services/{value['name']}"
                elif key == "provider":
                    head = f".{value}"
                else:
                    head = "."
                name = env.from_string(tail.removesuffix(".jinja")).render(
                    svc=value, _copier_conf={"answers_file": ".copier-answers.yml"})
                path = Path(head, name).as_posix()
                if not spec.match_file(path):
                    out.append((path, rel))
            break
    return out


@pytest.mark.parametrize("name", list(COMBOS))
def test_every_output_path_has_one_source(name: str) -> None:
    counts = Counter(path for path, _ in _output_paths(COMBOS[name]))
    twice = {path: [rel for p, rel in _output_paths(COMBOS[name]) if p == path]
             for path, count in counts.items() if count > 1}
    assert not twice, f"{name}: output paths with several sources: {twice}"


@pytest.mark.parametrize("name", list(COMBOS))
def test_the_model_above_is_what_copier_renders(render, name: str) -> None:  # noqa: ANN001
    """_output_paths is the model of Copier's expansion the test above relies on."""
    from support import project_files

    model = {path for path, _ in _output_paths(COMBOS[name])}
    actual = project_files(render(name))
    assert model == actual, (f"only in the model: {sorted(model - actual)}; "
                             f"only in the render: {sorted(actual - model)}")


def test_llm_files_come_with_the_component_only() -> None:
    """The stand-in and the runs sample with llm; the INT tests once a python api and worker run them."""
    def without_llm(spec: str, layout: str, components: list[str]) -> list[str]:
        return files.excluded_paths(services.parse_services(spec, layout), layout, "none", components)

    on = without_llm("api worker:worker beat:scheduler web:node", "multi", ["postgres", "redis", "llm"])
    llm_paths = ["/deploy/llm-stub", "/tests/integration/test_llm_runs.py",
                 "/services/api/src/api/runs.py", "/services/api/migrations",
                 "/services/worker/src/worker/runs.py",
                 "/services/worker/tests/integration/test_llm_client.py"]
    assert not [path for path in llm_paths if path in on], on
    assert "/services/beat/src/beat/runs.py" in on and "/services/api/tests/integration/test_llm_client.py" in on
    only_api = without_llm("api", "multi", ["postgres", "redis", "llm"])
    assert "/tests/integration/test_llm_runs.py" in only_api
    assert "/deploy/llm-stub" not in only_api


K8S_PARTS = ["/deploy/k8s/base/postgres.yaml", "/deploy/k8s/base/redis.yaml",
             "/deploy/k8s/base/migrate.yaml", "/deploy/k8s/base/ingress.yaml"]


def test_kubernetes_files_come_with_the_deploy_target_only() -> None:
    """deploy/k8s/ and docs/kubernetes.md with kubernetes among the deploy targets, never
    without (the default, and what projects from before the question get); swarm adds none."""
    def excluded_for(spec: str, components: list[str], targets: list[str]) -> list[str]:
        return files.excluded_paths(services.parse_services(spec, "multi"), "multi", "none", components, targets)

    for targets in (["compose"], ["compose", "swarm"]):
        off = excluded_for("api worker:worker", ["postgres", "redis"], targets)
        assert {"/deploy/k8s", "/docs/kubernetes.md"} <= set(off), off
        assert not [path for path in off if path.startswith("/deploy/k8s/")], "the folder's line covers them"
    assert files.excluded_paths(services.parse_services("api", "multi"), "multi") == excluded_for(
        "api", [], ["compose"]), "the default is [compose]"
    full = excluded_for("api worker:worker", ["postgres", "redis"], ["compose", "kubernetes"])
    assert not [path for path in full if path.startswith("/deploy/k8s") or path == "/docs/kubernetes.md"], full
    # Only what the project has: no infrastructure, migrate Jobs or Ingress without a reason.
    bare = excluded_for("jobs:worker", [], ["compose", "kubernetes"])
    assert [path for path in bare if path.startswith("/deploy/k8s")] == K8S_PARTS, bare
    redis_only = excluded_for("api", ["redis"], ["compose", "kubernetes"])
    assert [path for path in redis_only if path.startswith("/deploy/k8s")] == [
        "/deploy/k8s/base/postgres.yaml", "/deploy/k8s/base/migrate.yaml"], redis_only


def test_the_swarm_target_is_a_project_condition() -> None:
    """For the swarm files (another part of issue 15): `p.swarm` in PROJECT_FILES."""
    assert files.Project("multi", [], deploy_targets=["compose", "swarm"]).swarm
    assert not files.Project("multi", []).swarm


def test_the_deploy_filter_is_registered() -> None:
    env = jinja2.Environment(extensions=[jinja.FilesHook])
    template = env.from_string(
        '{{ service_list | deploy_excluded_paths(layout, "none", [], ["compose", "kubernetes"]) | join(" ") }}')
    rendered = template.render(service_list=services.parse_services("app", "single"),
                               layout="single", ci_provider="none", _copier_conf={})
    assert "/deploy/k8s" not in rendered.split() and "/deploy/k8s/base/postgres.yaml" in rendered.split()


def render_exclude(**context: object) -> list[str]:
    """copier.yml's `_exclude` rendered with the template's extensions, as Copier renders it."""
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    (source,) = config["_exclude"]
    return template_environment().from_string(source).render(**context).splitlines()


def test_exclude_reads_later_answers_from_the_answers_mapping() -> None:
    """`excluded_for` gets the answers as one mapping (Copier's `_copier_answers`): the
    deploy targets reach it without a filter name of their own, and a project from
    before their question gets the question's default."""
    service_list = services.parse_services("api worker:worker", "multi")
    answers = {"layout": "multi", "ci_provider": "none", "components": ["postgres", "redis"]}
    # The context's own variables say otherwise: only the mapping may decide.
    context = {"service_list": service_list, "layout": "single", "ci_provider": "both",
               "components": [], "deploy_targets": ["compose"], "_copier_conf": {}}
    with_k8s = render_exclude(**context, _copier_answers={**answers, "deploy_targets": ["compose", "kubernetes"]})
    without = render_exclude(**context, _copier_answers={**answers, "deploy_targets": ["compose"]})
    before_the_question = render_exclude(**context, _copier_answers=answers)
    assert "/deploy/k8s" not in with_k8s and "/deploy/k8s/base/redis.yaml" not in with_k8s, with_k8s
    assert "/deploy/k8s" in without and before_the_question == without
    assert with_k8s == files.exclude_patterns(service_list, "multi", "none", ["postgres", "redis"],
                                              ["compose", "kubernetes"])


def test_exclude_without_the_answers_mapping_is_one_line() -> None:
    with pytest.raises(ValueError, match=r"^excluded_for needs the answers as a mapping with layout, not \['multi'\]$"):
        files.excluded_for([], ["multi"])


def test_a_ts_service_gets_typescript_modules_and_javascript_migrations() -> None:
    """ts: the node modules and tests in TypeScript, tsc's and eslint's settings; the migration
    runner and revisions stay JavaScript (the runtime image runs them without TypeScript)."""
    gone = set(excluded("api jobs:ts:worker", "multi"))
    kept = {"src/config.ts", "src/health.ts", "src/worker.ts", "tests/unit/worker.test.ts",
            "tests/integration/worker.live.test.ts", "testkit/wait-for.ts", "tsconfig.json",
            "tsconfig.build.json", "package.json", "eslint.config.js"}
    assert not {f"/services/jobs/{path}" for path in kept} & gone
    assert {f"/services/jobs/{path}" for path in (
        "src/config.js", "src/worker.js", "src/app.ts", "src/scheduler.ts",
        "tests/unit/worker.test.js", "testkit/wait-for.js", "vite.config.ts", "index.html")} <= gone
    with_pg = set(files.excluded_paths(services.parse_services("api jobs:ts:worker", "multi"),
                                       "multi", "none", ["postgres"]))
    assert not {"/services/jobs/migrate.js", "/services/jobs/migrations/1700000000000_initial.js",
                "/services/jobs/src/seed.ts"} & with_pg
    assert "/services/jobs/src/seed.js" in with_pg


@pytest.mark.parametrize(("spec", "components"), [
    ("api worker:worker web:node", ["postgres", "redis"]),
    ("api web:node jobs:ts:worker beat:scheduler page:frontend", ["postgres", "redis", "llm"]),
    ("api worker:worker beat:node:scheduler", []),
    ("api b c d:worker e:node f:node:worker g:ts h:frontend", ["redis", "llm"]),
    ("api", ["postgres"]),
])
def test_exclude_patterns_exclude_exactly_what_the_list_does(spec: str, components: list[str]) -> None:
    """Copier gets exclude_patterns (fewer lines: /services/*/<path> for a path no service
    has); every path a service could get is excluded by them exactly when by the list."""
    service_list = services.parse_services(spec, "multi")
    args = (service_list, "multi", "both", components, ["compose", "swarm", "kubernetes"])
    listed, compact = files.excluded_paths(*args), files.exclude_patterns(*args)
    assert not [line for line in compact if line.startswith("!")], "exclusions only"
    if len(service_list) > 1:
        assert len(compact) < len(listed)
    candidates = {line.lstrip("/") for line in listed}
    for svc in service_list:
        for path in files._service_paths(svc).values():
            parts = f"services/{svc['name']}/{path}".split("/")
            candidates |= {"/".join(parts[:end]) for end in range(2, len(parts) + 1)}
            candidates.add(f"services/{svc['name']}/{path}/below")
    by_list = PathSpec.from_lines("gitwildmatch", listed)
    by_compact = PathSpec.from_lines("gitwildmatch", compact)
    differ = [path for path in sorted(candidates) if by_list.match_file(path) != by_compact.match_file(path)]
    assert not differ


def test_compiled_templates_are_shared_by_name_and_reading_options() -> None:
    """share_compiled_templates: one cache entry per template name and lexing options, whatever
    temporary clone the file sits in; a changed source is compiled again (Jinja's checksum)."""

    def env(source: str, keep: bool = True) -> jinja2.Environment:
        environment = jinja2.Environment(loader=jinja2.DictLoader({"t.jinja": source}), keep_trailing_newline=keep)
        jinja.share_compiled_templates(environment)
        return environment

    first, second, other = env("a{{ x }}\n"), env("a{{ x }}\n"), env("a{{ x }}\n", keep=False)
    key = first.bytecode_cache.get_cache_key
    assert key("t.jinja", "clone-1/t.jinja") == second.bytecode_cache.get_cache_key("t.jinja", "clone-2/t.jinja")
    assert key("t.jinja") != other.bytecode_cache.get_cache_key("t.jinja")
    assert first.get_template("t.jinja").render(x=1) == "a1\n"
    assert other.get_template("t.jinja").render(x=1) == "a1"
    assert env("b{{ x }}\n").get_template("t.jinja").render(x=2) == "b2\n"
