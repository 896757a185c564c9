#!/usr/bin/env bash
# Stage 1 for one folder: its unit tests, no containers. Python folders run
# pytest through uv, node folders vitest (modules installed on first use).
# Extra test-tool options come from TEST_ARGS; reports go to
# .artifacts/<instance>/unit/<folder>/.
#
# usage: scripts/unit-tests.sh DIR      (DIR: services/<name>, or . in the single layout)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stack.sh"

main() {
  if (($# != 1)) || [[ ! -d "$1" ]]; then
    err "usage: scripts/unit-tests.sh DIR  (a service folder)"
    exit 2
  fi
  local dir name
  dir=$(cd "$1" && pwd)
  name=$(basename "$dir")
  run_suite "$dir" unit "$ROOT/.artifacts/$INSTANCE/unit/$name"
}

main "$@"
