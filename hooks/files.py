"""Which files a project gets: conditions as data, beside the services parser.

Template paths are plain (``Dockerfile.jinja``, ``package.json.jinja``,
``src/{{ svc.package }}/main.py.jinja``): no path under ``template/`` holds an
``{% if %}``. Whether an output path exists is decided here, by the tables
below, and reaches Copier as its templated ``_exclude`` (copier.yml)::

    _exclude:
      - '{{ service_list | excluded_for(_copier_answers) | join("\\n") }}'

(:func:`excluded_for` reads the other answers it needs from the mapping, so
a condition on a new answer needs no new filter name; it gives
:func:`exclude_patterns`, which is :func:`excluded_paths` in fewer lines, one
line for a path no service has. ``exclude_patterns``, ``excluded_paths``,
``project_excluded_paths`` and ``deploy_excluded_paths`` are the names older
template versions call with their own arguments: copier.yml says why they
exist.)

Copier matches ``_exclude`` against the OUTPUT path of every file and folder
(after the names are rendered, yield folders expanded), with gitignore rules:
the patterns here are anchored (a leading ``/``), and a folder's pattern
excludes everything below it.

Where the files come from (every output path has exactly one source):

- ``template/{% yield svc from service_list %}{{ svc.path }}{% endyield %}/``:
  the files of every service, in both layouts (``services/<name>/`` in multi,
  the project root in single), filtered per service by SERVICE_FILES.
- ``template/services/{% yield svc from service_list %}{{ svc.name }}{% endyield %}/``:
  the files a service has only in its own folder of the multi layout
  (its Makefile, stage-2 compose files; in single the root files play that
  part). PROJECT_FILES drops ``services/`` in the single layout. A python
  service's ``pyproject.toml`` and integration ``conftest.py`` are here too:
  in single they sit at the root, where the root's own file renders them
  (``partials/service/``), so no output path has two sources.
- ``template/{% yield provider from forge_list %}.{{ provider }}{% endyield %}/``:
  the workflows of each forge; forge_list comes from ci_provider
  (:func:`forges`, set for every render by hooks/jinja.py's ``FilesHook``).
- everything else under ``template/``: the project root, filtered by
  PROJECT_FILES.

Adding a file:

1. Give it its plain output name in the right folder above (``.jinja`` only if
   it needs rendering).
2. If not every project or service gets it, add one line to PROJECT_FILES
   (path relative to the project root) or SERVICE_FILES (path relative to the
   service's folder; ``{package}`` and ``{kind}`` stand for the service's
   values) with the condition under which it EXISTS. A service's condition
   also sees the project's components (``svc["components"]``). A folder's line covers
   everything below it.
3. tests/render/test_files.py and tests/render/test_render.py say which combinations get it.

The tables and functions need no Jinja or Copier (the unit tests call them
directly); hooks/jinja.py exposes them to Copier.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache

# hooks/model.py: which kinds serve HTTP, own a schema, ... A sibling in hooks/jinja.py's
# package (each template version its own, see there), or by its plain name when hooks/
# is on sys.path (the layout switch, the tests).
if __package__:
    from . import model
else:
    import model

Service = Mapping[str, object]
Condition = Callable[[Service], bool]


@cache
def _model_facts(name: str, language: str, kind: str, components: tuple[str, ...]) -> Mapping[str, object]:
    return model.facts(name, language, kind, components)


def facts(svc: Service) -> Mapping[str, object]:
    """The model's facts of a service (hooks/model.py), from its name, language and
    kind and the project's components (``svc["components"]``), whatever facts the
    dict carries: the layout switch and the migrations pass dicts without them."""
    return _model_facts(str(svc["name"]), str(svc["language"]), str(svc["kind"]),
                        tuple(svc.get("components", ())))  # type: ignore[arg-type]


def python(svc: Service) -> bool:
    return facts(svc)["runtime"] == "python"


def node(svc: Service) -> bool:
    """Run by node: JavaScript (node) or TypeScript (ts) services, and frontends' builds."""
    return facts(svc)["runtime"] == "node"


def typescript(svc: Service) -> bool:
    """A ts api, worker or scheduler: the node modules as TypeScript (partials/node/), tsc."""
    return bool(facts(svc)["typescript"])


def tsc(svc: Service) -> bool:
    """tsc checks its code: a ts service, or a frontend's TSX page (tsconfig.json)."""
    return bool(facts(svc)["tsc"])


def api(svc: Service) -> bool:
    return svc["kind"] == "api"


def worker(svc: Service) -> bool:
    return svc["kind"] == "worker"


def scheduler(svc: Service) -> bool:
    return svc["kind"] == "scheduler"


def schema(svc: Service) -> bool:
    """It owns its tables (the model's owns_schema: an api or worker of a project with
    postgres): Alembic in python, node-pg-migrate in node."""
    return bool(facts(svc)["owns_schema"])


def python_schema(svc: Service) -> bool:
    return python(svc) and schema(svc)


def node_schema(svc: Service) -> bool:
    return node(svc) and schema(svc)


def llm(svc: Service) -> bool:
    """A project with the llm component (an OpenAI-compatible API, a stand-in in dev and test)."""
    return "llm" in svc.get("components", ())  # type: ignore[operator]


def llm_api(svc: Service) -> bool:
    """A python api of an llm project: the sample runs (POST /runs) and their table."""
    return python(svc) and api(svc) and llm(svc)


def llm_worker(svc: Service) -> bool:
    """A python worker of an llm project: it executes the runs through the openai client."""
    return python(svc) and worker(svc) and llm(svc)


def python_db(svc: Service) -> bool:
    """A python api on postgres, or a python (Celery) worker storing results there: db.py's pool."""
    comps = svc.get("components", ())
    return python(svc) and "postgres" in comps and (  # type: ignore[operator]
        api(svc) or (worker(svc) and "redis" in comps))  # type: ignore[operator]


def frontend(svc: Service) -> bool:
    """A Vite + React + TypeScript page (node-built, served by Caddy): none of a node
    service's modules or tests; tsc and eslint (typescript-eslint) check it."""
    return svc["kind"] == "frontend"


def node_service(svc: Service) -> bool:
    """A node (JavaScript) api, worker or scheduler: JavaScript modules, eslint, node tests."""
    return node(svc) and not typescript(svc) and not frontend(svc)


def node_api(svc: Service) -> bool:
    return node_service(svc) and api(svc)


def node_worker(svc: Service) -> bool:
    return node_service(svc) and worker(svc)


def node_scheduler(svc: Service) -> bool:
    return node_service(svc) and scheduler(svc)


def ts_api(svc: Service) -> bool:
    return typescript(svc) and api(svc)


def ts_worker(svc: Service) -> bool:
    return typescript(svc) and worker(svc)


def ts_scheduler(svc: Service) -> bool:
    return typescript(svc) and scheduler(svc)


def ts_schema(svc: Service) -> bool:
    return typescript(svc) and schema(svc)


def js_schema(svc: Service) -> bool:
    return node_service(svc) and schema(svc)


# Files of a service (relative to its folder) and when the service has them.
# Files not listed here, every service has.
SERVICE_FILES: dict[str, Condition] = {
    "pyproject.toml": python,
    "pytest.ini": python,
    "package.json": node,
    # ESLint's settings (scripts/lint.py runs eslint in each node, ts and frontend folder;
    # typescript-eslint's type-aware rules in the TypeScript ones)
    "eslint.config.js": node,
    # python: a package under src/
    "src/{package}": python,
    "src/{package}/main.py": api,
    # the api's errors as problem details, and the guards of its POST routes
    "src/{package}/errors.py": api,
    "src/{package}/guards.py": api,
    "src/{package}/worker.py": worker,
    "src/{package}/scheduler.py": scheduler,
    # node: modules in src/
    "src/config.js": node_service,
    "src/health.js": node_service,
    "src/app.js": node_api,
    "src/server.js": node_api,
    "src/worker.js": node_worker,
    "src/scheduler.js": node_scheduler,
    # ts: the same modules in TypeScript (one source: partials/node/), compiled by tsc
    # with tsconfig.build.json in the image; tsconfig.json is `make lint`'s tsc
    "src/config.ts": typescript,
    "src/health.ts": typescript,
    "src/app.ts": ts_api,
    "src/server.ts": ts_api,
    "src/worker.ts": ts_worker,
    "src/scheduler.ts": ts_scheduler,
    "tsconfig.build.json": typescript,
    # tests: pytest for python, node:test for node
    "tests/unit/test_{kind}.py": python,
    "tests/unit/test_guards.py": lambda svc: python(svc) and api(svc),
    "tests/unit/{kind}.test.js": node_service,
    "tests/unit/{kind}.test.ts": typescript,
    "tests/integration/conftest.py": python,
    "tests/integration/test_{kind}_live.py": python,
    "tests/integration/{kind}.live.test.js": node_service,
    # template-owned helpers the tests import (testkit/): a package for
    # python (multi: services/<name>/testkit; single: the root's), a module for node
    "testkit": lambda svc: not frontend(svc),
    "testkit/__init__.py": python,
    "testkit/wait-for.js": node_service,
    "testkit/wait-for.ts": typescript,
    # frontend: the page (index.html, src/*.tsx: the user's), its build and test settings
    # and its server (Caddyfile: the template's); its live tests include a real browser's
    "index.html": frontend,
    "Caddyfile": frontend,
    "vite.config.ts": frontend,
    "tsconfig.json": tsc,
    "src/main.tsx": frontend,
    "src/App.tsx": frontend,
    "src/vite-env.d.ts": frontend,
    "tests/unit/{kind}.test.tsx": frontend,
    "tests/integration/{kind}.live.test.ts": tsc,
    "tests/integration/{kind}.browser.test.ts": frontend,
    # schema migrations (Alembic): alembic.ini and migrations/env.py are the
    # template's, migrations/versions/ and the models and seed data the user's
    "alembic.ini": python_schema,
    "migrations": schema,
    "migrations/env.py": python_schema,
    "migrations/script.py.mako": python_schema,
    "migrations/step.py": python_schema,
    "migrations/versions": python_schema,
    # the connection pool of python apis and workers on postgres
    "src/{package}/db.py": python_db,
    "src/{package}/models.py": python_schema,
    "src/{package}/seed.py": python_schema,
    # node (node-pg-migrate): migrate.js (the one-shot step's runner) is the
    # template's, the revisions in migrations/ and the seed data the user's. A ts
    # service has the same JavaScript runner and revisions: its image (compiled
    # modules in src/, no TypeScript) runs them as a JavaScript service's does
    "migrate.js": node_schema,
    "migrations/1700000000000_initial.js": node_schema,
    "src/seed.js": js_schema,
    "src/seed.ts": ts_schema,
    # the llm component's sample runs: the api's routes and table (its own
    # revision file, so a project that adds llm later gets it from an update),
    # the worker's tasks and its tests against the stand-in (stage 2)
    "src/{package}/runs.py": lambda svc: llm_api(svc) or llm_worker(svc),
    "migrations/versions/llm_0001_runs.py": llm_api,
    "migrations/versions/llm_0002_leases.py": llm_api,
    "tests/integration/test_llm_client.py": llm_worker,
}


# User-owned files that work only with the rest of the sample code of the version that
# brought them (they import its settings, main and routes; llm_0002 adds a column the
# service's own models.py would lack): an update creates them in new services (and with the
# llm component's sample when it adds llm), never beside an existing service's own, older
# code (hooks/update/ownership.py new_user_files); the changelog says what a team copies to
# adopt them. Globs relative to the service's folder.
WHOLE_SAMPLE_FILES = ("src/*/errors.py", "src/*/guards.py", "src/*/db.py", "tests/unit/test_guards.py",
                      "migrations/versions/llm_0002_leases.py")


# The deploy_targets answer of projects from before the question (copier.yml's default).
DEFAULT_DEPLOY_TARGETS = ("compose",)


class Project:
    """What PROJECT_FILES' conditions read: the layout, the services, the forges,
    the components (postgres, redis, llm) and the deploy targets (compose, swarm,
    kubernetes)."""

    def __init__(self, layout: str, services: Sequence[Service], ci_provider: str = "none",
                 components: Sequence[str] = (),
                 deploy_targets: Sequence[str] = DEFAULT_DEPLOY_TARGETS) -> None:
        self.layout = layout
        self.services = services
        self.forges = forges(ci_provider)
        self.components = tuple(components)
        self.deploy_targets = tuple(deploy_targets)

    @property
    def swarm(self) -> bool:
        """The swarm deploy target was chosen: the condition of the swarm files."""
        return "swarm" in self.deploy_targets

    @property
    def kubernetes(self) -> bool:
        """The kubernetes deploy target was chosen: deploy/k8s/ and its doc."""
        return "kubernetes" in self.deploy_targets

    def has_kind(self, *kinds: str) -> bool:
        """Whether a service of one of these kinds is in the project."""
        return any(svc["kind"] in kinds for svc in self.services)

    @property
    def multi(self) -> bool:
        return self.layout == "multi"

    def has_python(self, kind: str) -> bool:
        """Whether a python service of this kind is in the project."""
        return any(python(svc) and svc["kind"] == kind for svc in self.services)

    @property
    def has_http(self) -> bool:
        """Whether a service serves HTTP (the model's http): the prod edge routes to them."""
        return any(facts(svc)["http"] for svc in self.services)

    @property
    def root_runtime(self) -> str | None:
        """What runs the service at the root (single layout: python or node), else None."""
        if self.multi or not self.services:
            return None
        return str(facts(self.services[0])["runtime"])


# Files of the project root and when the project has them.
PROJECT_FILES: dict[str, Callable[[Project], bool]] = {
    # The services' own folders (template/services/{% yield ... %}) and the
    # stages that only the multi layout has.
    "services": lambda p: p.multi,
    "scripts/test-service.sh": lambda p: p.multi,
    "tests/integration/test_stack.py": lambda p: p.multi,
    # The python test helpers of the cross-service tests (multi), or of the
    # python service at the root (single): the same package either way.
    "testkit/__init__.py": lambda p: p.multi or p.root_runtime == "python",
    # Dependency-update bots (partials/deps/): dependabot is GitHub's, Gitea
    # projects get renovate. The plain .github folder holds only dependabot.yml;
    # the workflows come from the forge yield folder.
    ".github": lambda p: "github" in p.forges,
    "renovate.json": lambda p: "gitea" in p.forges,
    # zizmor's settings for the workflows of either forge (partials/workflows/).
    "zizmor.yml": lambda p: bool(p.forges),
    # The deterministic stand-in for the llm component's API (dev and test stacks),
    # and the run scenarios INT-001..INT-004 once an api and a worker run them.
    # The prod stack's TLS edge routes to the HTTP services: none, no edge.
    "deploy/prod/Caddyfile": lambda p: p.has_http,
    "deploy/prod/Caddyfile.local": lambda p: p.has_http,
    # The swarm-only settings of the prod stack (deploy_targets: swarm).
    "deploy/prod/swarm.yml": lambda p: p.swarm,
    "deploy/llm-stub": lambda p: "llm" in p.components,
    "tests/integration/test_llm_runs.py": lambda p: (
        p.multi and "llm" in p.components and p.has_python("api") and p.has_python("worker")),
    # Kubernetes (deploy_targets): a kustomize base rendered from the services (the
    # template's), a prod overlay (the user's), the page that says how to apply them.
    # Below deploy/k8s, the conditions of its parts (the folder's line covers them).
    "deploy/k8s": lambda p: p.kubernetes,
    "deploy/k8s/base/postgres.yaml": lambda p: "postgres" in p.components,
    "deploy/k8s/base/redis.yaml": lambda p: "redis" in p.components,
    "deploy/k8s/base/migrate.yaml": lambda p: bool(migrating(p.services, p.components)),
    "deploy/k8s/base/ingress.yaml": lambda p: p.has_kind("api"),
    "docs/kubernetes.md": lambda p: p.kubernetes,
}


def _service_paths(svc: Service) -> dict[str, str]:
    """SERVICE_FILES' paths with the service's package and kind filled in."""
    return {path: path.format(package=svc["package"], kind=svc["kind"]) for path in SERVICE_FILES}


def excluded_paths(service_list: Sequence[Service], layout: str, ci_provider: str = "none",
                   components: Sequence[str] = (),
                   deploy_targets: Sequence[str] = DEFAULT_DEPLOY_TARGETS) -> list[str]:
    """The output paths this project does not get, as anchored `_exclude` patterns.

    SERVICE_FILES' conditions see each service with the project's components
    added (``svc["components"]``): whether a service uses postgres is the
    project's answer, not part of the services answer.
    """
    project = Project(layout, service_list, ci_provider, components, deploy_targets)
    excluded: list[str] = []
    for path, exists in PROJECT_FILES.items():
        # A folder's pattern covers what is below it: list only the folder.
        if not exists(project) and not path.startswith(tuple(f"{gone[1:]}/" for gone in excluded)):
            excluded.append(f"/{path}")
    for listed in service_list:
        svc = {**listed, "components": project.components}
        folder = "" if svc["path"] == "." else f"{svc['path']}/"
        gone: list[str] = []
        for template_path, path in _service_paths(svc).items():
            # A folder's pattern covers what is below it: list only the folder.
            if not SERVICE_FILES[template_path](svc) and not path.startswith(
                    tuple(f"{folder_gone}/" for folder_gone in gone)):
                gone.append(path)
        excluded += [f"/{folder}{path}" for path in gone]
    return excluded


def exclude_patterns(service_list: Sequence[Service], layout: str, ci_provider: str = "none",
                     components: Sequence[str] = (),
                     deploy_targets: Sequence[str] = DEFAULT_DEPLOY_TARGETS) -> list[str]:
    """:func:`excluded_paths` as fewer `_exclude` patterns, for Copier.

    Copier matches every output path (files, folders, each service's copy)
    against every pattern, one by one: 1,871 patterns for 50 services, a
    sixth of the render's time. A path every service of the multi layout
    goes without (listed, or below a listed folder of its own) becomes one
    line for all of them, ``/services/*/<path>``, in place of one per service.
    It matches nothing the list did not exclude: ``services/`` holds only the
    services' folders. Only exclusions, never a ``!`` re-include, so the
    lines mean the same after other patterns (Copier appends the newer
    version's to an older one's when it updates).
    """
    excluded = excluded_paths(service_list, layout, ci_provider, components, deploy_targets)
    names = [str(svc["name"]) for svc in service_list]
    if len(names) < 2 or any(svc["path"] != f"services/{svc['name']}" for svc in service_list):
        return excluded
    listed: dict[str, list[str]] = {name: [] for name in names}
    for pattern in excluded:
        _, services_folder, name, rest = (pattern.split("/", 3) + ["", "", ""])[:4]
        if services_folder == "services" and name in listed and rest:
            listed[name].append(rest)

    def gone_for_all(rest: str) -> bool:
        return all(any(rest == path or rest.startswith(f"{path}/") for path in listed[name])
                   for name in names)

    shared = {rest for rest in {rest for paths in listed.values() for rest in paths} if gone_for_all(rest)}
    patterns: list[str] = []
    for pattern in excluded:
        _, services_folder, name, rest = (pattern.split("/", 3) + ["", "", ""])[:4]
        if services_folder == "services" and name in listed and rest in shared:
            pattern = f"/services/*/{rest}"  # noqa: PLW2901
            if pattern in patterns:
                continue
        patterns.append(pattern)
    return patterns


def excluded_for(service_list: Sequence[Service], answers: Mapping[str, object]) -> list[str]:
    """:func:`exclude_patterns` for the project whose answers are given (copier.yml's
    ``_exclude`` passes Copier's ``_copier_answers``): the filter reads each answer it
    needs from the mapping, so a condition on a later question needs no new filter
    name. Answers a project from before their question lacks get the question's
    default."""
    if not isinstance(answers, Mapping) or "layout" not in answers:
        raise ValueError(f"excluded_for needs the answers as a mapping with layout, not {answers!r:.60}")
    return exclude_patterns(
        service_list, answers["layout"], answers.get("ci_provider", "none"),  # type: ignore[arg-type]
        answers.get("components", ()), answers.get("deploy_targets", DEFAULT_DEPLOY_TARGETS))  # type: ignore[arg-type]


# ci_provider answer -> the forges whose workflows the project gets.
FORGES: dict[str, tuple[str, ...]] = {
    "github": ("github",),
    "gitea": ("gitea",),
    "both": ("github", "gitea"),
    "none": (),
}


def forges(ci_provider: object) -> list[str]:
    """The forges (github, gitea) a ci_provider answer gives workflows to."""
    if not isinstance(ci_provider, str) or ci_provider not in FORGES:
        raise ValueError(f"ci_provider must be one of {', '.join(FORGES)}, not {ci_provider!r}")
    return list(FORGES[ci_provider])


def migrating(service_list: Sequence[Service], components: Sequence[str]) -> list[Service]:
    """The services that own a schema (:func:`schema`), in the list's order: the
    compose partials give each a one-shot migrate step, the Makefile runs them."""
    return [svc for svc in service_list if schema({**svc, "components": tuple(components)})]
