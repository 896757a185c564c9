#!/usr/bin/env bash
# Fail when a template update (or a merge) left something unresolved:
# conflict marker lines (<<<<<<< or >>>>>>> at a line start) in a file git
# tracks or would add, or a *.rej file anywhere in the tree, git-ignored or
# not. `make check-conflicts`, the pre-commit hook and CI run it; run it
# directly when the Makefile itself has markers (make cannot read it then).
# Template-owned: `make update` merges template changes.
#
# usage: scripts/check-conflicts.sh [--list]
#   --list   print only the problems, one per line (for other scripts)
set -euo pipefail

# Seven '<' or '>' then a space or the line end; '=======' alone is left
# alone, it is also a Markdown heading underline.
MARKERS='^(<{7}|>{7})( |$)'

err() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

indent() {
  local line
  while IFS= read -r line; do printf '  %s\n' "$line"; done
}

# file:line: text for every marker line.
find_markers() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and untracked files, not ignored ones; -I skips binaries.
    git grep --untracked -n -I -E "$MARKERS" -- . ':(exclude)*.rej' || [[ $? == 1 ]]
  else
    grep -rnI -E "$MARKERS" --exclude='*.rej' --exclude-dir=.git \
      --exclude-dir=node_modules --exclude-dir=.venv . | sed 's|^\./||' || [[ $? == 1 ]]
  fi
}

# Every *.rej file, ignored ones too (.gitignore lists *.rej).
find_rejects() {
  find . \( -name .git -o -name node_modules -o -name .venv \) -prune -o \
    -name '*.rej' -type f -print | sed 's|^\./||'
}

main() {
  local list=0
  case "${1:-}" in
    --list) list=1 ;;
    "") ;;
    *) err "usage: scripts/check-conflicts.sh [--list]"; exit 2 ;;
  esac
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  local markers rejects
  markers=$(find_markers)
  rejects=$(find_rejects)
  if [[ -z "$markers" && -z "$rejects" ]]; then
    ((list)) || err "no conflict markers, no .rej files"
    return 0
  fi
  if ((list)); then
    [[ -z "$markers" ]] || printf '%s\n' "$markers"
    [[ -z "$rejects" ]] || printf '%s\n' "$rejects"
    exit 1
  fi
  if [[ -n "$markers" ]]; then
    err "conflict markers (keep the lines you want, delete the markers):"
    indent <<<"$markers" >&2
  fi
  if [[ -n "$rejects" ]]; then
    err "rejected hunks (apply them by hand, then delete the .rej files):"
    indent <<<"$rejects" >&2
  fi
  exit 1
}

main "$@"
