#!/usr/bin/env bash
# Fail when a template update (or a merge) left something unresolved: conflict
# marker lines (<<<<<<< or >>>>>>> at a line start) in a file git tracks or
# would add (any file outside git), or a *.rej file anywhere in the tree,
# git-ignored or not. `make check-conflicts`, the pre-commit hook and CI run it;
# run it directly when the Makefile itself has markers (make cannot read it then).
# It is `python3 scripts/update.py check-conflicts` (Python 3.9 or newer, no
# packages), whose scan the template's update engine uses for its summary too.
# Template-owned: `make update` merges template changes.
#
# usage: scripts/check-conflicts.sh [--list]
#   --list   print only the problems, one per line (for other scripts)
set -euo pipefail

case "${1:-}" in
  --list | "") ;;
  *) echo "${0##*/}: usage: scripts/check-conflicts.sh [--list]" >&2; exit 2 ;;
esac
exec python3 "$(dirname "${BASH_SOURCE[0]}")/update.py" check-conflicts "$@"
