"""Issue 15, secrets as files: a project rendered before them (BEFORE_SECRETS, a real
commit of this repository) with the team's own settings, committed, then updated to the
working tree. The prod stack now gives services DATABASE_URL without its password and
DATABASE_PASSWORD_FILE (REDIS_ likewise), so the user-owned settings must read secret
files: hooks/update/steps/secret_settings.py `merge_secret_settings` merges the template's with_secrets /
withSecrets into each service's settings, the team's lines kept, and leaves a settings
file whose edits overlap the template's as it was, saying what to add (once: the
repair runs for projects made before secret files only, hooks/update/steps/).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import update_project as up

pytestmark = pytest.mark.slow

# The last commit of the template whose prod stack passed secrets as environment variables.
BEFORE_SECRETS = "5c4b6a7"
ANSWERS = {"layout": "multi", "services": "api worker:worker web:node gw:ts:api",
           "components": ["postgres", "redis"], "ci_provider": "none"}
PY_FIELD = ('    queue: str = "jobs"\n', '    queue: str = "jobs"\n    team: str = "ours"\n')
PY_FROM_ENV = ('            queue=env.get("QUEUE_NAME", "jobs"),\n',
               '            queue=env.get("QUEUE_NAME", "jobs"),\n            team=env.get("TEAM", "ours"),\n')
NODE_FIELD = ("    service: '{name}',\n", "    service: '{name}',\n    team: env.TEAM ?? 'ours',\n")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: the template's text moved: {old!r}"
    path.write_text(text.replace(old, new))


def update(project: Path, ref: str) -> str:
    """copier update in a child process (Copier keeps state per process): its stderr."""
    tests = Path(__file__).resolve().parent
    code = (f"import sys, pathlib; sys.path[:0] = {[str(tests.parent), str(tests)]!r}; "
            "import update_project as up; up.update(pathlib.Path(sys.argv[1]), sys.argv[2])")
    result = subprocess.run([sys.executable, "-c", code, str(project), ref],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"copier update failed:\n{result.stdout}\n{result.stderr}"
    return result.stderr


def python_settings(service: Path, package: str, env: dict[str, str]) -> dict[str, object]:
    code = (f"import dataclasses, json, sys; sys.path.insert(0, 'src'); from {package}.settings import Settings; "
            f"print(json.dumps(dataclasses.asdict(Settings.from_env(json.loads(sys.argv[1])))))")
    result = subprocess.run([sys.executable, "-c", code, json.dumps(env)], cwd=service, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def node_config(service: Path, env: dict[str, str]) -> dict[str, object]:
    code = ("const { loadConfig } = await import(process.argv[1]); "
            "console.log(JSON.stringify(loadConfig(JSON.parse(process.argv[2]))));")
    result = subprocess.run(["node", "--input-type=module", "-e", code, str(service / "src/config.js"),
                             json.dumps(env)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings_of_an_older_project_learn_to_read_secret_files(real_clone, tmp_path: Path) -> None:  # noqa: ANN001
    project = up.render(real_clone.path, BEFORE_SECRETS, ANSWERS, tmp_path / "project")
    api = project / "services/api/src/api/settings.py"
    edit(api, *PY_FIELD)
    edit(api, *PY_FROM_ENV)
    for name, suffix in (("web", "js"), ("gw", "ts")):
        edit(project / f"services/{name}/src/config.{suffix}", *(s.format(name=name) for s in NODE_FIELD))
    # The worker's settings overlap the template's change (the line after from_env's def).
    worker = project / "services/worker/src/worker/settings.py"
    edit(worker, "        return cls(\n", "        # the team's note\n        return cls(\n")
    worker_before = worker.read_text()
    up.commit_all(project, "project before secret files, with the team's settings")

    output = update(project, real_clone.head)

    for path in ("services/api/src/api/settings.py", "services/web/src/config.js", "services/gw/src/config.ts"):
        assert f"secrets: {path}: secret files read" in output, output
    assert "secrets: services/worker/src/worker/settings.py left as it was" in output, output
    assert "+def with_secrets(" in output, output  # what to add, as a diff
    assert worker.read_text() == worker_before
    assert "def with_secrets(" in api.read_text() and 'team=env.get("TEAM", "ours")' in api.read_text()
    ts = (project / "services/gw/src/config.ts").read_text()
    assert "export function withSecrets(" in ts and "team: env.TEAM ?? 'ours'" in ts, ts

    # The merged settings read the prod stack's secret files, and the team's settings still.
    password = tmp_path / "password"
    password.write_text("p@ss/word\n")
    prod_env = {"DATABASE_URL": "postgresql://app@postgres:5432/app", "DATABASE_PASSWORD_FILE": str(password),
                "REDIS_URL": "redis://redis:6379/0", "REDIS_PASSWORD_FILE": str(password), "TEAM": "core"}
    settings = python_settings(project / "services/api", "api", prod_env)
    assert settings["database_url"] == "postgresql://app:p%40ss%2Fword@postgres:5432/app", settings
    assert settings["redis_url"] == "redis://:p%40ss%2Fword@redis:6379/0", settings
    assert settings["team"] == "core", settings
    config = node_config(project / "services/web", prod_env)
    assert config["databaseUrl"] == "postgresql://app:p%40ss%2Fword@postgres:5432/app", config
    assert config["team"] == "core", config

    # The prod stack that needs them, and a second update that has nothing left to merge.
    prod = (project / "deploy/prod/docker-compose.yml").read_text()
    assert "DATABASE_PASSWORD_FILE: /run/secrets/postgres_password" in prod and "POSTGRES_PASSWORD: ${" not in prod
    assert "deploy/prod/secrets/" in (project / ".gitignore").read_text().splitlines()
    assert not up.leftovers(project), "\n".join(up.leftovers(project))
    up.commit_all(project, "updated")
    # A later update starts from a version with secret files: the repair is not due again
    # (the first update said what to add by hand).
    again = update(project, real_clone.head)
    assert "secrets:" not in again, again
