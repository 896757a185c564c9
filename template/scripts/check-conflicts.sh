#!/usr/bin/env bash
# Fail when a template update (or a merge) left something unresolved: conflict
# marker lines (<<<<<<< or >>>>>>> at a line start) in a file git tracks or
# would add (any file outside git), or a *.rej file anywhere in the tree,
# git-ignored or not. `make check-conflicts`, the pre-commit hook and CI run it;
# run it directly when the Makefile itself has markers (make cannot read it then).
# The scan is scripts/lib/gitutil.py's conflicts() (python3 >= 3.9), the one
# the template's update engine uses for the update's summary.
# Template-owned: `make update` merges template changes.
#
# usage: scripts/check-conflicts.sh [--list]
#   --list   print only the problems, one per line (for other scripts)
set -euo pipefail

err() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# A heading, then the lines (if any) indented below it.
problems() {
  local line
  [[ -n "$2" ]] || return 0
  err "$1"
  while IFS= read -r line; do printf '  %s\n' "$line" >&2; done <<<"$2"
}

main() {
  local found marker
  case "${1:-}" in
    --list | "") ;;
    *) err "usage: scripts/check-conflicts.sh [--list]"; exit 2 ;;
  esac
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  found=$(PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=scripts/lib python3 -c \
    'import gitutil, pathlib; print(*gitutil.conflicts(pathlib.Path.cwd()), sep="\n")')
  if [[ -z "$found" ]]; then
    [[ -n "${1:-}" ]] || err "no conflict markers, no .rej files"
    exit 0
  fi
  [[ -z "${1:-}" ]] || { printf '%s\n' "$found"; exit 1; }
  marker='^.+:[0-9]+:(<{7}|>{7})'
  problems "conflict markers (keep the lines you want, delete the markers):" \
    "$(grep -E "$marker" <<<"$found" || true)"
  problems "rejected hunks (apply them by hand, then delete the .rej files):" \
    "$(grep -v -E "$marker" <<<"$found" || true)"
  exit 1
}

main "$@"
