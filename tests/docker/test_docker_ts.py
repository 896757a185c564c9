"""Layer 6 for TypeScript services (issue 14): every ts kind beside the frontend, on containers.

`api gw:ts:api jobs:ts:worker beat:ts:scheduler web:frontend` with postgres and redis
passes the generated project's whole `make test` (one run proves what two projects'
did): the ts images (compiled by tsc in their build stage, from the lock) migrate, seed
and run BullMQ jobs into postgres in stage 2 and 3, gw calls the python api, and the
frontend's browser test runs in headless Chromium, not skipped. The images carry the
compiled modules only: no TypeScript toolchain, no .ts sources.
"""

from __future__ import annotations

import subprocess

import pytest
from dockertools import assert_passed, healthy_services, images, nothing_left
from support import COMBOS

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# Every ts kind (multi-github-pg-redis-ts-lifecycle) and the frontend (multi-none-pg-redis-frontend-ts).
TS = {**COMBOS["multi-github-pg-redis-ts-lifecycle"], "ci_provider": "none",
      "services": "api gw:ts:api jobs:ts:worker beat:ts:scheduler web:frontend"}


def test_every_ts_kind_and_the_frontend_pass_make_test_with_a_real_browser(make_project) -> None:
    """The ts worker's unit, stage-2 and stage-3 tests; the frontend's live and browser tests
    in Chromium; the compiled migrate.js step (node-pg-migrate up, then the compiled seed)
    before gw and jobs start in their stage 2, gw's job processed by jobs and read back with
    its postgres row, beat's scheduled job in postgres, gw calling the python api."""
    project = make_project(TS, name="ts")
    result = project.make("test")
    assert_passed(result)
    artifacts = project.root / ".artifacts" / project.instance_id()
    # Stage 1: vitest ran the ts worker's .ts unit tests.
    reports = {path.relative_to(artifacts).as_posix(): path.read_text()
               for path in artifacts.glob("unit/*/junit.xml")}
    assert any("worker.test.ts" in text for text in reports.values()), reports
    # Stage 2 of jobs: postgres, redis and the worker healthy; the job went through
    # BullMQ into postgres, and the migrate step (compiled seed data) seeded its table.
    assert len(healthy_services(artifacts / "service-jobs/ps.txt")) == 3
    stage2 = (artifacts / "service-jobs/junit.xml").read_text()
    assert "processes a job from the queue and stores its result in postgres" in stage2, stage2
    assert "has the seed data" in stage2, stage2
    assert "<skipped" not in stage2 and "<failure" not in stage2, stage2
    # Stage 2 of web (issue 14, the frontend): its stack holds postgres, redis and the api it
    # proxies; its live and browser tests ran in Chromium, none skipped.
    assert len(healthy_services(artifacts / "service-web/ps.txt")) == 4
    web = (artifacts / "service-web/junit.xml").read_text()
    assert "web in Chromium" in web and "proxies /api/ to api" in web, web
    assert "<skipped" not in web and "<failure" not in web, web
    assert f"{project.prefix}-web" in images(project.prefix)
    # Stage 3: the whole stack, the browser test included and not skipped.
    stage3 = (artifacts / "integration/junit.xml").read_text()
    assert "test_web_page_in_a_browser" in stage3, stage3
    assert "<skipped" not in stage3, stage3
    image = f"{project.prefix}-jobs"
    assert image in images(project.prefix), images(project.prefix)
    # The runtime image: compiled JavaScript where a JavaScript service keeps its sources,
    # production modules only (no typescript, no tsx), no .ts file.
    probe = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", image, "-c",
         "ls src; for m in typescript tsx; do test -e node_modules/$m && echo has $m; done; "
         "find . -name '*.ts' -not -path './node_modules/*'"],
        capture_output=True, text=True, timeout=120)
    out = probe.stdout + probe.stderr
    assert {"worker.js", "seed.js", "config.js", "health.js"} <= set(probe.stdout.split()), out
    assert "has " not in out, out
    assert ".ts" not in out, out
    # gw and jobs migrated and seeded in their stage 2; stage 3 ran the jobs of gw and beat.
    for name in ("gw", "jobs"):
        log = (artifacts / f"service-{name}" / f"{name}-migrate.log").read_text()
        assert f"{name}: 1 migration(s) applied" in log, f"{name} not migrated:\n{log}"
        assert f"{name}: seed: 1 row(s) inserted" in log, f"{name} not seeded:\n{log}"
    junit = (artifacts / "integration" / "junit.xml").read_text()
    for test in ("test_job_from_node_api_is_processed_by_node_worker",
                 "test_scheduled_job_is_processed_by_a_worker", "test_gw_calls_api"):
        assert f'name="{test}"' in junit, junit
    assert "<failure" not in junit and "<error" not in junit and "<skipped" not in junit, junit
    assert "processed job repeat:sample-job" in (artifacts / "integration" / "jobs.log").read_text()
    assert not nothing_left(project.prefix)
