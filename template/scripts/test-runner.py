#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["rich>=13"]
# ///
"""Run the project's test stages with a live view of every target (--help: the options).

Stages run in order, each only when every target of the previous one passed:

  unit         scripts/unit-tests.sh services/<name>   (single layout: scripts/unit-tests.sh .)
  service      scripts/test-service.sh <name>          (multi layout only)
  integration  scripts/run-integration-tests.sh        (target "stack", single layout: the
               service; with --suite NAME a target stack:NAME per suite, on its own stack)

The services come from scripts/services.json, and services/<name>/ folders it
does not list. A stage's targets run in parallel, each in a process group of its
own; a TEST_ARGS you set reaches pytest or vitest after the runner's arguments.
Final counts come from the junit report a target's script writes under .artifacts/.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the package scripts/test_runner/

from test_runner.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
