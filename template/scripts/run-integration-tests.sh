#!/usr/bin/env bash
# Stage 3: the whole stack (deploy/test/docker-compose.yml, merged with your
# deploy/test/docker-compose.override.yml) on real containers, then
# tests/integration against it. Logs and reports: .artifacts/<instance>/integration/.
#
# usage: scripts/run-integration-tests.sh [OPTION...]
#   (none)       --up, --test, then --down: the stack is removed whatever happens
#   --up         build and start the stack, wait until healthy, leave it running
#   --test       run the tests against the running stack
#   --down       remove the stack: containers, networks, volumes
#   --fresh      remove the stack first (then up and test, unless told otherwise)
#   --keep       up and test, then leave the stack running for debugging
#   --clean-all  remove every test container, network, volume and image of
#                this instance (stage 2 and suite stacks too), and nothing of others
#   --with-NAME  start the optional member NAME too (a scheduler: compose
#                profile NAME); --with-all: every optional member
#   --suite NAME only the suite tests/integration/NAME/, on a stack of its own
#                (project <slug>-test-<instance>-suite-NAME; logs and reports:
#                .artifacts/<instance>/integration-NAME/), so several suites run
#                at once: make test-integration SUITES="NAME ..."
# Settings (optional members started by default, JOB_EVERY_SECONDS, images):
# .env.integration, copied from deploy/test/integration.env.example on first
# use and yours from then on.
# The work is done by scripts/stack (scripts/stack/launch.sh).
set -euo pipefail

exec "$(dirname "${BASH_SOURCE[0]}")/stack/launch.sh" "$0" "$@"
