#!/usr/bin/env bash
# Refuse to deploy the prod stack with a secret that is empty or still the
# placeholder. The secrets are the variables whose value in
# deploy/prod/.env.example is `change-me`; each is read as compose reads it
# (the environment first, then deploy/prod/.env). `make prod-up`,
# `swarm-deploy` and `prod-check` run it. Template-owned: `make update`
# merges template changes.
#
# usage: scripts/prod-check.sh [ENV_DIR]   (default: deploy/prod)
set -euo pipefail

PLACEHOLDER=change-me

err() { printf 'prod-check: %s\n' "$*" >&2; }

# value_of NAME FILE: the last NAME=value of an env file, without quotes.
value_of() {
  local line value=""
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" == "$1="* ]] && value="${line#*=}"
  done <"$2"
  value="${value%\"}" value="${value#\"}"
  value="${value%\'}" value="${value#\'}"
  printf '%s' "$value"
}

main() {
  local dir="${1:-deploy/prod}" name value failed=0
  local example="$dir/.env.example" env="$dir/.env"
  [[ -f "$example" ]] || { err "$example is missing"; exit 2; }
  [[ -f "$env" ]] || { err "$env is missing: copy $example and set its secrets"; exit 1; }
  while IFS= read -r name; do
    if [[ -n "${!name+set}" ]]; then
      value="${!name}"
    else
      value="$(value_of "$name" "$env")"
    fi
    if [[ -z "$value" ]]; then
      err "$name is empty: set it in $env"
      failed=1
    elif [[ "$value" == "$PLACEHOLDER" ]]; then
      err "$name is still the placeholder $PLACEHOLDER: set a real secret in $env"
      failed=1
    fi
  done < <(sed -n "s/^\([A-Za-z_][A-Za-z0-9_]*\)=$PLACEHOLDER\$/\1/p" "$example")
  exit "$failed"
}

main "$@"
