#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["rich>=13"]
# ///
"""Run the project's test stages, with a live view of every target.

Usage: uv run scripts/test-runner.py [-v] [--stage STAGE] [--service NAME]
                                     [--suite NAME] [--with NAME]
                                     [--jobs N] [--no-live] [--root DIR]

Stages run in order, each only when every target of the previous one passed:

  multi layout (services/<name>/):            unit -> service -> integration
  single layout (one service at the root):    unit -> integration

The layout and the services come from scripts/services.json (plus any
services/<name>/ with a Dockerfile it does not list; a folder scan alone
when the file is missing).

  unit         scripts/unit-tests.sh services/<name>   (single: scripts/unit-tests.sh .)
  service      scripts/test-service.sh <name>
  integration  scripts/run-integration-tests.sh        (target "stack"; single: the service)
               with --suite NAME: one target per suite, stack:NAME, each
               on a stack of its own (tests/integration/NAME/)

Targets of a stage run in parallel (at most --jobs at once), each in its own
process group with its output captured. Extra arguments for pytest or vitest
reach the scripts through the TEST_ARGS environment variable; a TEST_ARGS you
set yourself is appended to the runner's. A target's final counts come from
the junit report its script writes under .artifacts/ (else from its output).

Exit codes: 0 every target passed, 1 a target failed, 2 usage error,
130 interrupted (Ctrl-C or SIGTERM: targets get SIGINT, --grace seconds to
clean up, then SIGKILL).
"""

import sys
from pathlib import Path

# The runner is the package beside this file (scripts/test_runner/); see its
# __init__.py for what each module does.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_runner.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
