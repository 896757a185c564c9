#!/usr/bin/env bash
# Stage 1 for one folder: its unit tests, no containers. Python folders run
# pytest through uv, node folders vitest (modules installed on first use).
# Extra test-tool options come from TEST_ARGS; reports go to
# .artifacts/<instance>/unit/<folder>/. The work is done by scripts/stack
# (python3 3.9 or newer, else uv's python).
#
# usage: scripts/unit-tests.sh DIR      (DIR: services/<name>, or . in the single layout)
set -euo pipefail

exec "$(dirname "${BASH_SOURCE[0]}")/stack/launch.sh" "$0" "$@"
