#!/usr/bin/env bash
# Prints this checkout's test instance id: the git branch, sanitised, plus a
# short hash of the checkout's path, so two branches, two worktrees or two
# clones never share a test stack. TEST_INSTANCE_ID overrides it (sanitised).
#
# usage: scripts/get-test-instance-id.sh
set -euo pipefail

readonly MAX_BRANCH=20

err() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# Lowercase; anything but a-z0-9 becomes '-'; no leading, trailing or double '-'.
sanitise() {
  local s
  s=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9' '-' | tr -s '-')
  s=${s#-}
  s=${s:0:$2}
  s=${s%-}
  printf '%s' "${s:-none}"
}

main() {
  if (($# > 0)); then
    err "takes no arguments"
    exit 2
  fi
  if [[ -n "${TEST_INSTANCE_ID:-}" ]]; then
    sanitise "$TEST_INSTANCE_ID" 40
    echo
    return
  fi
  local here top branch hash
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if top=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null); then
    branch=$(git -C "$here" symbolic-ref --short -q HEAD) ||
      branch="detached-$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo none)"
  else
    top=$here
    branch=nogit
  fi
  # cksum is POSIX, so this works on Linux and macOS alike.
  hash=$(printf '%s' "$top" | cksum | awk '{ printf "%06d", $1 % 1000000 }')
  printf '%s-%s\n' "$(sanitise "$branch" "$MAX_BRANCH")" "$hash"
}

main "$@"
