#!/usr/bin/env bash
# Prints this checkout's test instance id: the git branch, sanitised, plus a
# short hash of the checkout's path, so two branches, two worktrees or two
# clones never share a test stack. TEST_INSTANCE_ID overrides it (sanitised).
# The work is done by scripts/stack (python3, else uv's python).
#
# usage: scripts/get-test-instance-id.sh
set -euo pipefail

main() {
  local stack
  stack="$(dirname "${BASH_SOURCE[0]}")/stack"
  if command -v python3 >/dev/null 2>&1; then
    exec python3 "$stack" "$0" "$@"
  fi
  exec uv run --quiet --no-project python "$stack" "$0" "$@"
}

main "$@"
