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
# .env.integration, written on first use and yours from then on.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stack.sh"

usage() {
  sed -n '5,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

main() {
  local up=0 test=0 down=0 fresh=0 keep=0 with="" suite=""
  while (($#)); do
    case $1 in
      --with-?*) with+=" ${1#--with-}" ;;
      --suite=?*) suite=${1#--suite=} ;;
      --suite)
        (($# > 1)) || { err "--suite needs a NAME"; exit 2; }
        suite=$2
        shift
        ;;
      --up) up=1 ;;
      --test) test=1 ;;
      --down) down=1 ;;
      --fresh) fresh=1 ;;
      --keep) keep=1 ;;
      --clean-all) stack_clean_all; return ;;
      -h | --help) usage; return ;;
      *) err "unknown option: $1"; usage >&2; exit 2 ;;
    esac
    shift
  done
  if ((keep)); then
    up=1 test=1
  elif ((up + test + down == 0)); then
    up=1 test=1 down=1
  fi
  local project tests=integration artifacts=integration
  project=$(project_name)
  if [[ -n $suite ]]; then
    check_suite "$suite"
    # The trailing slash: vitest takes the path as a filter, which would match
    # tests/integration/NAME-more/ too.
    project=$(suite_project_name "$suite") tests=integration/$suite/ artifacts=integration-$suite
  fi
  stack_init "$project" "$ROOT/deploy/test/docker-compose.yml" "$artifacts"
  integration_settings
  # shellcheck disable=SC2086 # names, split on purpose
  select_members $with
  if ((fresh)); then
    stack_down
  fi
  if ((up || test)); then
    # Tear down on any exit when this run owns the stack's whole life.
    stack_guard "$((down && !keep))" "remove it with: $0 --down"
  fi
  if ((up)); then
    stack_up
  fi
  if ((test)); then
    stack_export_urls
    run_suite "$ROOT" "$tests" "$ARTIFACTS"
  fi
  if ((down && !up && !test)); then
    stack_down
  fi
}

main "$@"
