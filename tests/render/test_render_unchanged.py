"""Layer 2: the working tree renders every named combination exactly as BEFORE did.

Issue 9 moved which files a service, layout and forge gets out of the file
names into data (hooks/files.py feeding `_exclude`). That is a refactoring:
the generated projects must not change. Each combination is rendered twice
with the same Copier, once at BEFORE (Copier's vcs_ref checks out that past
commit of this repository; a clone has the full history) and once from the
working tree (uncommitted changes included), and the two trees must hold the
same files with the same bytes and executable bits.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support import COMBOS, TEMPLATE, project_files, run_copy

# The last commit before issue 9 ("one source for every decision").
BEFORE = "6b6658e"

RUNNER = "the test runner became a package (issue 9)"
REGISTRY = "scripts read the service registry, not the services answer (issue 9)"
LINT = "the project lints itself: make lint, CI's lint job, pre-commit (issue 10)"
QUEUE = "a real task queue: Celery (issue 11)"
MIGRATIONS = "schema migrations, migrate step and seed data (issue 11)"
PROFILES = "optional stack members: --with-NAME, .env.integration (issue 11)"
TESTKIT = "tests import the template-owned testkit instead of a copied wait_for (issue 9)"
WORKFLOWS = (
    "zizmor findings fixed or justified; the release tests the images it pushes (issue 10); " + LINT
)
SUITES = "parallel isolated integration suites; memory and CPU limits of test stacks (issue 13)"
LOCKS = ("lock files from the first commit; user-owned manifests, tool settings in ruff.toml "
         "and pytest.ini (issue 10)")
DEVLOOP = ("the dev loop: scripts/dev.py, make dev-refresh/-restart/-status/-logs, dev-watch "
           "(compose develop.watch), test-watch (issue 13)")
FRESH = "FRESH=1 builds test images without the layer cache; the release's tests use it (issue 13)"
EDGE = "prod: a TLS edge alone publishes ports, hardened containers, a swarm path (issue 15)"
SECRETS = ("prod secrets are files (deploy/prod/secrets, make prod-secrets); the services' "
           "settings read NAME_FILE (issue 15)")
JOBS = "a python api answers 404 for a job id it never sent"
SUMMARY = "make update ends with a summary; make template-diff"
CONFLICT_SCAN = "one conflict scan (gitutil.conflicts) for the update engine and check-conflicts (issue 24)"
STACK = "one package, scripts/stack, owns the stacks; the test scripts exec it (issue 24)"
RELIABLE = ("no stuck or lost jobs: pooled connections (db.py, psycopg-pool), task time limits, "
            "a health check that sees a task past its limit, an hourly sample job in prod (issue 26)")
GUARDS = ("python apis: an API key and a rate limit on POST routes, bounded inputs, errors as "
          "problem+json; settings (pydantic-settings) refuse placeholders in production; mypy "
          "--strict in make lint (issue 26)")
NODE_API = ("node apis answer problem+json, bound their inputs, guard the routes that change data "
            "with an api key and rate-limit; node settings refuse placeholders in production; "
            "BullMQ lock settings and a heartbeat that follows progress; typescript-eslint in ts "
            "services and frontends (issue 26)")
# Intended differences from BEFORE, in every combination that has such a path:
# {glob of the output path: why}. A change to the output on purpose names each
# path it touches here, with the reason.
INTENDED: dict[str, str] = {
    "scripts/test-runner.py": RUNNER + "; " + SUITES,
    "scripts/run-integration-tests.sh": PROFILES + "; " + SUITES + "; " + STACK,
    "scripts/get-test-instance-id.sh": STACK,
    "scripts/unit-tests.sh": STACK,
    "scripts/test-service.sh": STACK,
    "scripts/stack/*": STACK,
    "scripts/test_runner/*.py": RUNNER + "; " + SUITES,
    "scripts/services.json": REGISTRY,
    "scripts/lib/services.py": REGISTRY + "; " + STACK,
    "scripts/lib/stack.sh": STACK + ": removed",
    "deploy/test/integration.env.example": STACK + "; the settings file copied on first use",
    "scripts/dev.py": DEVLOOP,
    "scripts/update.py": REGISTRY + "; one git helper; " + SUMMARY,
    "scripts/lib/gitutil.py": "one git helper for hooks and scripts (issue 9); " + CONFLICT_SCAN,
    "scripts/check-conflicts.sh": CONFLICT_SCAN,
    "docs/development.md": REGISTRY + ": the doc names scripts/services.json; how a release works; "
    + LINT + "; " + DEVLOOP + "; " + EDGE + "; " + SUITES + "; " + SUMMARY + "; " + RELIABLE,
    "docs/template-changes.md": "the template's changelog in every project, for the update pull request",
    "testkit/*": TESTKIT,
    "services/*/testkit/*": TESTKIT,
    "pyproject.toml": TESTKIT + ": pytest's pythonpath finds it; " + LOCKS,
    "services/*/pyproject.toml": TESTKIT + ": pytest's pythonpath finds it; " + LOCKS
    + "; " + RELIABLE,
    "src/*/db.py": RELIABLE,
    "services/*/src/*/db.py": RELIABLE,
    "src/*/health.py": RELIABLE + "; " + GUARDS + ": mypy's strict types",
    "services/*/src/*/health.py": RELIABLE + "; " + GUARDS + ": mypy's strict types",
    "tests/integration/*": TESTKIT + "; node live tests pass eslint (issue 10); " + JOBS,
    "services/*/tests/integration/*": TESTKIT + "; node live tests pass eslint (issue 10)",
    # issue 10: zizmor audits the workflows; each finding fixed or justified there.
    ".github/workflows/*.yml": WORKFLOWS + "; " + FRESH,
    ".gitea/workflows/*.yml": WORKFLOWS + "; " + FRESH,
    "zizmor.yml": "zizmor's settings: actions pinned by tag, not SHA (issue 10)",
    ".github/dependabot.yml": "dependency-update bot for GitHub (issue 10)",
    "renovate.json": "dependency-update bot for Gitea (issue 10)",
    # issue 10: the project lints itself (make lint, CI's lint job, pre-commit).
    "scripts/lint.py": LINT + "; " + GUARDS + "; " + NODE_API,
    ".pre-commit-config.yaml": LINT + "; " + GUARDS,
    "eslint.config.js": LINT + "; " + NODE_API,
    "services/*/eslint.config.js": LINT + "; " + NODE_API,
    "package.json": LINT + ": eslint in devDependencies; " + LOCKS + "; " + NODE_API,
    "services/*/package.json": LINT + ": eslint in devDependencies; " + LOCKS + "; " + NODE_API,
    # issue 10: lock files; user-owned manifests, tool settings in their own files
    "ruff.toml": LOCKS,
    "pytest.ini": LOCKS,
    "services/*/pytest.ini": LOCKS,
    "scripts/lock.py": LOCKS,
    "Makefile": LINT + "; " + LOCKS + ": make lock, make lock-check; " + MIGRATIONS + "; " + DEVLOOP
    + "; " + FRESH + "; " + EDGE + "; " + SUITES + "; " + SUMMARY,
    "Dockerfile": LOCKS + ": the image installs the lock; " + MIGRATIONS,
    "services/*/Dockerfile": LOCKS + ": the image installs the lock; " + MIGRATIONS,
    # issue 11: python services of projects with postgres own their schema (Alembic),
    # a one-shot migrate step runs first in every stack, seed data in test and dev.
    "services/*/Makefile": MIGRATIONS,
    "deploy/*/docker-compose.yml": MIGRATIONS + "; " + DEVLOOP + "; " + EDGE + "; " + SUITES
    + "; " + RELIABLE + "; " + GUARDS + ": APP_ENV, API_KEY_FILE, LLM_MODELS",
    "deploy/prod/.env.example": EDGE + "; " + SECRETS,
    "deploy/prod/Caddyfile": EDGE,
    "deploy/prod/Caddyfile.local": EDGE,
    "deploy/prod/start-order.yml": EDGE,
    "scripts/prod-check.sh": EDGE + "; " + SECRETS + "; " + GUARDS + ": prod-secrets makes the api_key",
    "docs/deploy.md": EDGE + "; " + SECRETS + "; " + GUARDS + ": the api_key secret",
    ".gitignore": SECRETS + ": git ignores deploy/prod/secrets/" + "; and .mypy_cache/ (issue 26)",
    "src/*/settings.py": SECRETS + "; " + GUARDS,
    "services/*/src/*/settings.py": SECRETS + "; " + GUARDS,
    "tests/unit/test_api.py": SECRETS + ": a unit test of with_secrets",
    "services/*/tests/unit/test_api.py": SECRETS + ": a unit test of with_secrets",
    "services/*/deploy/test/docker-compose.yml": MIGRATIONS + "; " + SUITES,
    "alembic.ini": MIGRATIONS,
    "services/*/alembic.ini": MIGRATIONS,
    "migrations/*": MIGRATIONS,
    "services/*/migrations/*": MIGRATIONS,
    "src/*/models.py": MIGRATIONS,
    "src/*/seed.py": MIGRATIONS,
    "services/*/src/*/models.py": MIGRATIONS,
    "services/*/src/*/seed.py": MIGRATIONS,
    "src/*/main.py": MIGRATIONS + ": no CREATE TABLE in requests; " + JOBS + "; " + RELIABLE
    + "; " + GUARDS,
    "services/*/src/*/main.py": MIGRATIONS + ": no CREATE TABLE in requests; " + JOBS + "; "
    + RELIABLE + "; " + GUARDS,
    "services/*/tests/integration/test_api_live.py": MIGRATIONS + ": the seeded row",
    "tests/integration/test_api_live.py": MIGRATIONS + ": the seeded row",
    # issue 11: python workers are Celery workers on redis; the api sends jobs with Celery.
    "src/*/worker.py": QUEUE + "; " + RELIABLE + "; " + GUARDS + ": mypy's strict types",
    "services/*/src/*/worker.py": QUEUE + "; " + RELIABLE + "; " + GUARDS + ": mypy's strict types",
    "tests/unit/test_worker.py": QUEUE + ": retries with backoff; " + RELIABLE,
    "services/*/tests/unit/test_worker.py": QUEUE + ": retries with backoff; " + RELIABLE,
    # issue 11, node side: node-pg-migrate (migrate.js, migrations/, src/seed.js), the
    # api on pg and BullMQ, BullMQ workers; their unit tests.
    "migrate.js": MIGRATIONS,
    "services/*/migrate.js": MIGRATIONS,
    "src/*.js": MIGRATIONS + "; " + QUEUE + "; " + SECRETS + "; " + NODE_API,
    "services/*/src/*.js": MIGRATIONS + "; " + QUEUE + "; " + SECRETS + "; " + NODE_API,
    "tests/unit/*.test.js": MIGRATIONS + "; " + QUEUE + "; " + SECRETS + "; " + NODE_API,
    "services/*/tests/unit/*.test.js": MIGRATIONS + "; " + QUEUE + "; " + SECRETS + "; " + NODE_API,
    # issue 26: guards, problem details, production settings and mypy of the python services.
    "src/*/errors.py": GUARDS,
    "src/*/guards.py": GUARDS,
    "services/*/src/*/errors.py": GUARDS,
    "services/*/src/*/guards.py": GUARDS,
    "tests/unit/test_guards.py": GUARDS,
    "services/*/tests/unit/test_guards.py": GUARDS,
    # issue 15: the deploy_targets answer (its default, compose, adds no file).
    ".copier-answers.yml": "records the deploy_targets answer (issue 15)",
}


def intended(path: str) -> str | None:
    return next((why for glob, why in INTENDED.items() if fnmatch.fnmatchcase(path, glob)), None)


# Differs by nature: it records the template commit each project came from.
ANSWERS_FILE = ".copier-answers.yml"


def _commit_exists(ref: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(TEMPLATE), "cat-file", "-e", f"{ref}^{{commit}}"],
        capture_output=True,
    )
    return result.returncode == 0


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, Path]]:
    """renders(name) -> (render at BEFORE, render of the working tree), once per run
    and only for the combinations this worker's tests ask for (pytest-xdist)."""
    if not _commit_exists(BEFORE):
        pytest.fail(f"commit {BEFORE} is missing: clone the template with its full history "
                    "(git fetch --unshallow)", pytrace=False)
    root = tmp_path_factory.mktemp("unchanged")
    cache: dict[str, tuple[Path, Path]] = {}

    def _renders(name: str) -> tuple[Path, Path]:
        if name not in cache:
            data = COMBOS[name]
            cache[name] = (run_copy(data, root / "before" / name, vcs_ref=BEFORE),
                           run_copy(data, root / "after" / name))
        return cache[name]

    return _renders


def _without_commit(text: bytes) -> bytes:
    return b"\n".join(line for line in text.split(b"\n") if not line.startswith(b"_commit:"))


def tree_differences(before: Path, after: Path) -> dict[str, str]:
    """{path: what differs} between two rendered projects; empty when identical."""
    old, new = project_files(before), project_files(after)
    diffs = {path: "only at BEFORE" for path in old - new}
    diffs |= {path: "only in the working tree" for path in new - old}
    for path in sorted(old & new):
        a, b = (before / path).read_bytes(), (after / path).read_bytes()
        if path == ANSWERS_FILE:
            a, b = _without_commit(a), _without_commit(b)
        if a != b:
            diffs[path] = "content differs"
        elif os.access(before / path, os.X_OK) != os.access(after / path, os.X_OK):
            diffs[path] = "executable bit differs"
    return diffs


def _content_diff(before: Path, after: Path, path: str) -> str:
    result = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "--", str(before / path), str(after / path)],
        capture_output=True, text=True,
    )
    return result.stdout[:3000]


# Combinations BEFORE can render (it had no scheduler, no frontend kind, no ts language,
# no llm component, no deploy_targets question).
OLD_COMBOS = [name for name, combo in COMBOS.items()
              if not any(kind in str(combo["services"]) for kind in (":scheduler", ":frontend", ":ts"))
              and "llm" not in combo["components"] and "deploy_targets" not in combo]


@pytest.mark.slow  # renders every old combination fresh at BEFORE (the session renders are HEAD's)
@pytest.mark.parametrize("name", OLD_COMBOS)
def test_render_matches_before(renders: Callable[[str], tuple[Path, Path]], name: str) -> None:
    before, after = renders(name)
    diffs = {path: why for path, why in tree_differences(before, after).items()
             if intended(path) is None}
    if diffs:
        details = "\n".join(
            f"{path}: {why}\n{_content_diff(before, after, path)}"
            if why == "content differs" else f"{path}: {why}"
            for path, why in sorted(diffs.items())
        )
        pytest.fail(f"{name} renders differently from {BEFORE} (not in INTENDED):\n{details}",
                    pytrace=False)


@pytest.mark.slow  # renders every old combination at BEFORE and from the working tree
def test_intended_differences_still_differ(renders: Callable[[str], tuple[Path, Path]]) -> None:
    """An INTENDED glob that matches no differing path in any combination is stale: remove it."""
    differing = {path for name in OLD_COMBOS for path in tree_differences(*renders(name))}
    stale = [glob for glob in INTENDED if not any(fnmatch.fnmatchcase(path, glob) for path in differing)]
    assert not stale, f"INTENDED lists globs that match no difference now: {stale}"


# Issue 14 (the frontend kind): a frontend changes no other service. Projects rendered
# before the kind existed update to it with no change to their services:
# tests/update/test_update_frontend.py proves that between the two real commits.
@pytest.mark.parametrize("name", ["multi-github-pg-redis-mixed", "multi-none-pg-redis-llm-scheduler"])
def test_a_frontend_changes_no_other_service(render: Callable[[str], Path], tmp_path: Path, name: str) -> None:
    combo = COMBOS[name]
    without = render(name)  # the session's render of the combination: the same answers
    with_frontend = run_copy({**combo, "services": f"{combo['services']} ui:frontend"},
                             tmp_path / "with")
    for folder in sorted(path for path in (without / "services").iterdir() if path.is_dir()):
        diffs = tree_differences(folder, with_frontend / "services" / folder.name)
        assert not diffs, f"{name}: a frontend changed services/{folder.name}: {diffs}"


# Issue 14 (TypeScript services): the node modules and tests became one source for
# JavaScript and TypeScript (partials/node/). A node project renders byte for byte as it
# did at the last commit before that, but for the project tooling that learnt the `ts`
# language (listed here); its services not at all.
BEFORE_TS = "65c69c1"  # main just before the TypeScript merge (the branch began at 89c1add)
TS_TOOLING = {"Makefile", "scripts/lint.py", "scripts/lock.py", "scripts/update.py",
              # not the language's: the changelog grows; the runner got a line-length fix after
              "docs/template-changes.md", "scripts/test_runner/planning.py"}
# Changed on purpose since (globs): secrets as files (issue 15), the python api's job 404,
# the update's summary and make template-diff (issue 23: docs/development.md).
SINCE_TS = ("deploy/prod/*", "scripts/prod-check.sh", "docs/deploy.md", "docs/kubernetes.md", ".gitignore",
            "docs/development.md",
            "deploy/k8s/base/*", "*src/config.js", "*tests/unit/*.test.js", "*src/*/settings.py",
            "*tests/unit/test_api.py", "*src/*/main.py", "*tests/integration/test_stack.py",
            # issue 24: one stack package, a smaller runner and tools, one conflict scan
            "scripts/*", "deploy/test/integration.env.example", "*/workflows/release.yml",
            # issue 24: no generated file speaks of template history
            "*migrations/versions/0001_initial.py",
            # issue 24: a python manifest's header no longer names scripts/dependencies.json
            "pyproject.toml", "services/*/pyproject.toml",
            # issue 26: python apis' guards and problem details, production settings, mypy
            ".pre-commit-config.yaml", "*src/*/errors.py", "*src/*/guards.py", "*src/*/health.py",
            "*src/*/scheduler.py", "*src/*/worker.py", "*src/*/runs.py", "*tests/unit/test_guards.py",
            "deploy/*/docker-compose.yml",
            # issue 26: no stuck or lost jobs: the python services' pool, worker time limits (RELIABLE)
            "*src/*/db.py", "*tests/unit/test_worker.py",
            # issue 26: the node services' code, tests and dependencies (NODE_API)
            "package.json", "services/*/package.json", "*src/*.js", "services/*/eslint.config.js",
            "services/*/tests/unit/*.test.tsx")


@pytest.mark.slow  # renders at BEFORE_TS, fresh
@pytest.mark.parametrize("name", ["multi-none-pg-redis-node-lifecycle", "single-gitea-node-api",
                                  "multi-both-pg-redis-frontend"])
def test_node_projects_render_as_before_typescript(tmp_path: Path, name: str) -> None:
    if not _commit_exists(BEFORE_TS):
        pytest.fail(f"commit {BEFORE_TS} is missing: clone the template with its full history",
                    pytrace=False)
    combo = COMBOS[name]
    before = run_copy(combo, tmp_path / "before", vcs_ref=BEFORE_TS)
    after = run_copy(combo, tmp_path / "after")
    diffs = {path: why for path, why in tree_differences(before, after).items()
             if path not in TS_TOOLING and not any(fnmatch.fnmatchcase(path, glob) for glob in SINCE_TS)}
    assert not diffs, "\n".join(f"{path}: {why}\n{_content_diff(before, after, path)}"
                                for path, why in sorted(diffs.items()))
