#!/usr/bin/env bash
# Stage 2 for one service: the service and its direct dependencies on real
# containers (services/<name>/deploy/test/docker-compose.yml, merged with
# your docker-compose.override.yml beside it), then its tests/integration
# against them. The stack is removed on success, failure
# and Ctrl-C; logs and reports stay in .artifacts/<instance>/service-<name>/.
# The work is done by scripts/stack (scripts/stack/launch.sh).
#
# usage: scripts/test-service.sh NAME [--keep]
#   --keep   leave the stack running for debugging (remove it with
#            `make test-clean-all`)
set -euo pipefail

exec "$(dirname "${BASH_SOURCE[0]}")/stack/launch.sh" "$0" "$@"
