"""Settings of dbd23d3..12d2f24 read every NAME_FILE variable as a secret; after an update, SECRETS only.

Those versions' with_secrets / withSecrets (rendered by them, or merged into
older settings by an update to them) read each NAME_FILE of the environment
as a secret file: a machine with TF_CLI_CONFIG_FILE or SSL_CERT_FILE set broke
the settings and the worker's unit tests. The template reads the names in
SECRETS since; the settings are user-owned, so an update to it changed
nothing. A project rendered at EVERY_FILE_COMMIT (a real commit, the last of
that range), its worker's with_secrets changed by the team, is updated to the
working tree: `secrets_by_name` (hooks/update/steps/secret_names.py) makes the untouched
settings read by name as the template did then (cbb0ed9; later versions rewrote the
python settings whole) and names the changed one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import real_history as rh
import update_project as up
from test_update_secrets import node_config, python_settings

pytestmark = pytest.mark.slow

EVERY_FILE_COMMIT = "12d2f24"
ANSWERS = {"layout": "multi", "services": "api worker:worker web:node gw:ts:api",
           "components": ["postgres", "redis"], "ci_provider": "none"}
SETTINGS = ("services/api/src/api/settings.py", "services/web/src/config.js", "services/gw/src/config.ts")
WORKER = "services/worker/src/worker/settings.py"
EVERY_FILE_LINE = {"py": 'if key.endswith("_FILE")', "js": "if (key.endsWith('_FILE')",
                   "ts": "if (key.endsWith('_FILE')"}


def test_settings_that_read_every_file_variable_read_only_secrets(real_clone: rh.Clone, tmp_path: Path) -> None:
    project = up.render(real_clone.path, EVERY_FILE_COMMIT, ANSWERS, tmp_path / "project")
    for rel in (*SETTINGS, WORKER):
        text = (project / rel).read_text()
        assert EVERY_FILE_LINE[rel.rsplit(".", 1)[1]] in text and "SECRETS" not in text, \
            f"{EVERY_FILE_COMMIT}'s {rel} does not read every NAME_FILE: update this test"
    worker = project / WORKER
    worker.write_text(worker.read_text().replace("    out = dict(env)\n", "    out = dict(env)  # the team's\n", 1))
    worker_before = worker.read_text()
    up.commit_all(project, f"Generated from the template at {EVERY_FILE_COMMIT}, the team's note in the worker")

    output = rh.copier_update(project, real_clone.head)

    for rel in SETTINGS:
        assert f"migration: secrets: {rel}: reads only the names in SECRETS now" in output, output
        text = (project / rel).read_text()
        assert EVERY_FILE_LINE[rel.rsplit(".", 1)[1]] not in text, text
    assert 'SECRETS: tuple[str, ...] = ("DATABASE_PASSWORD", "REDIS_PASSWORD")' in (project / SETTINGS[0]).read_text()
    assert "export const SECRETS: string[] = ['DATABASE_PASSWORD', 'REDIS_PASSWORD'];" in \
        (project / SETTINGS[2]).read_text()
    assert worker.read_text() == worker_before, "the team's with_secrets changed"
    assert f"migration: secrets: {WORKER} reads every NAME_FILE variable" in output, output
    assert "`SECRETS`" in (project / "docs/deploy.md").read_text(), "docs/deploy.md names no SECRETS"
    assert not up.leftovers(project), "\n".join(up.leftovers(project))

    # A NAME_FILE of the machine is no secret of theirs; the prod stack's files still are.
    password = tmp_path / "password"
    password.write_text("p@ss/word\n")
    env = {"TF_CLI_CONFIG_FILE": str(tmp_path / "no-such-file"), "DATABASE_URL": "postgresql://app@postgres:5432/app",
           "DATABASE_PASSWORD_FILE": str(password), "REDIS_URL": "redis://redis:6379/0"}
    settings = python_settings(project / "services/api", "api", env)
    assert settings["database_url"] == "postgresql://app:p%40ss%2Fword@postgres:5432/app", settings
    config = node_config(project / "services/web", env)
    assert config["databaseUrl"] == "postgresql://app:p%40ss%2Fword@postgres:5432/app", json.dumps(config)
