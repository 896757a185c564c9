"""Layer 6, issue 13: every service kind of both languages on the alpine flavour.

One project holds each kind: python api, worker and scheduler, node api,
worker and scheduler, and a frontend, with postgres and redis, on
image_flavor=alpine. Each service's stage 2 (its own stack, its tests) must
pass, and each image must be built on the alpine base its Dockerfile names.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from dockertools import docker, nothing_left

pytestmark = [pytest.mark.docker, pytest.mark.slow]

EVERY_KIND = {
    "layout": "multi",
    "services": "api worker:worker beat:scheduler napi:node:api nworker:node:worker "
                "nbeat:node:scheduler web:frontend",
    "components": ["postgres", "redis"],
    "ci_provider": "none",
    "image_flavor": "alpine",
}
# The base each service's runtime stage starts from (deploy/test's build args).
BASES = {"api": "python:3.12-alpine", "worker": "python:3.12-alpine", "beat": "python:3.12-alpine",
         "napi": "node:20-alpine", "nworker": "node:20-alpine", "nbeat": "node:20-alpine",
         "web": "caddy:2-alpine"}


def layers(image: str) -> list[str]:
    return json.loads(docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", image))


def test_every_kind_passes_its_stage_2_on_alpine(make_project) -> None:
    project = make_project(EVERY_KIND)
    result = subprocess.run(
        ["uv", "run", "--quiet", "scripts/test-runner.py", "--stage", "service", "--no-live"],
        cwd=project.root, env=project.env(), capture_output=True, text=True, timeout=2400)
    if result.returncode != 0:
        # What each failed stack looked like at the end: its ps and its containers' logs.
        artifacts = project.root / ".artifacts" / project.instance_id()
        kept = "\n".join(f"--- {p.relative_to(artifacts)}\n{p.read_text()[-3000:]}"
                         for name in BASES if f"✗ {name} failed" in result.stdout
                         for p in sorted((artifacts / f"service-{name}").glob("*.[lt][ox][gt]")))
        pytest.fail(f"stage 2 failed\n{result.stdout}\n{result.stderr}\n{kept}", pytrace=False)
    for name in BASES:
        assert f"[service] ✓ {name} passed" in result.stdout, result.stdout
    assert f"✓ all {len(BASES)} targets passed" in result.stdout, result.stdout
    # Each stage 2 built its service's image on the alpine base (its layers come first).
    for name, base in BASES.items():
        image = f"{project.prefix}-svc-{name}-{name}"
        built, under = layers(image), layers(base)
        assert built[:len(under)] == under, f"{image} is not built on {base}"
    assert not nothing_left(project.prefix)
