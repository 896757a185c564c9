#!/usr/bin/env bash
# Prints this checkout's test instance id: the git branch, sanitised, plus a
# short hash of the checkout's path, so two branches, two worktrees or two
# clones never share a test stack. TEST_INSTANCE_ID overrides it (sanitised).
# The work is done by scripts/stack (scripts/stack/launch.sh).
#
# usage: scripts/get-test-instance-id.sh
set -euo pipefail

exec "$(dirname "${BASH_SOURCE[0]}")/stack/launch.sh" "$0" "$@"
