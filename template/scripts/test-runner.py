#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["rich>=13"]
# ///
"""Run the project's test stages with a live view of every target (--help: the options).

Stages run in order, each only when every target of the previous one passed
(multi layout: unit -> service -> integration; single: unit -> integration).
The services come from scripts/services.json, plus any services/<name>/ with a
Dockerfile it does not list (a folder scan alone when the file is missing).

  unit         scripts/unit-tests.sh services/<name>   (single: scripts/unit-tests.sh .)
  service      scripts/test-service.sh <name>
  integration  scripts/run-integration-tests.sh        (target "stack"; single: the service)
               --suite NAME: a target stack:NAME per suite, each on a stack of its own

A stage's targets run in parallel, each in a process group of its own, with its
output captured; TEST_ARGS you set reach pytest or vitest after the runner's.
Final counts come from the junit report a target's script writes under .artifacts/.
Ctrl-C or SIGTERM: the targets get SIGINT, --grace seconds to clean up, then SIGKILL.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the package scripts/test_runner/

from test_runner.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
