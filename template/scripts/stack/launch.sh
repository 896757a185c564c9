#!/usr/bin/env bash
# Runs scripts/stack for an entry point (get-test-instance-id.sh, unit-tests.sh,
# test-service.sh, run-integration-tests.sh: its usage header is the help) with
# the system's python3 (3.9 or newer), else uv's python.
#
# usage: scripts/stack/launch.sh ENTRY_POINT [ARG...]
set -euo pipefail

main() {
  local stack
  stack=$(dirname "${BASH_SOURCE[0]}")
  if command -v python3 >/dev/null 2>&1; then
    exec python3 "$stack" "$@"
  fi
  exec uv run --quiet --no-project python "$stack" "$@"
}

main "$@"
