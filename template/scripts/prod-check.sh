#!/usr/bin/env bash
# The prod stack's secrets and settings, checked before every deploy.
#
# Secrets are files in deploy/prod/secrets/, one per name in the prod compose
# file's `secrets:` (mounted as /run/secrets/<name>, never an environment
# variable). Refused: a missing, empty or placeholder (change-me) secret, and a
# redis password that redis's config line cannot take. Settings: the
# variables whose value in deploy/prod/.env.example is change-me, read as
# compose reads them (the environment first, then deploy/prod/.env).
# `make prod-up`, `swarm-deploy` and `prod-check` run it; `make prod-secrets`
# runs it with --write-secrets. Template-owned: `make update` merges
# template changes.
#
# usage: scripts/prod-check.sh [--write-secrets] [ENV_DIR]   (default: deploy/prod)
#   --write-secrets  write each missing secret file: the value of its old
#                    variable (POSTGRES_PASSWORD for postgres_password ...) when
#                    deploy/prod/.env still sets it, so an existing database
#                    keeps its password; else a random password. Other secrets
#                    (an API key) cannot be made up: it says which to write.
set -euo pipefail

PLACEHOLDER=change-me

err() { printf 'prod-check: %s\n' "$*" >&2; }

# value_of NAME FILE: the last NAME=value of an env file, without quotes.
value_of() {
  local line value=""
  [[ -f "$2" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" == "$1="* ]] && value="${line#*=}"
  done <"$2"
  value="${value%\"}" value="${value#\"}"
  value="${value%\'}" value="${value#\'}"
  printf '%s' "$value"
}

# setting NAME ENV_FILE: NAME from the environment, else from the env file.
setting() {
  if [[ -n "${!1+set}" ]]; then printf '%s' "${!1}"; else value_of "$1" "$2"; fi
}

# The secret names of the prod compose file (`file: ./secrets/<name>`).
secret_names() {
  sed -n 's|^    file: \./secrets/\([A-Za-z0-9_.-]*\)$|\1|p' "$1/docker-compose.yml"
}

# check_secret NAME FILE: one line per problem; 1 when there is one.
check_secret() {
  local name="$1" file="$2" value
  if [[ ! -f "$file" && "$name" == *_password ]]; then
    err "$file is missing: run make prod-secrets"
    return 1
  elif [[ ! -f "$file" ]]; then
    err "$file is missing: write the secret into it"
    return 1
  fi
  value="$(<"$file")"
  if [[ -z "$value" ]]; then
    err "$file is empty: write the secret into it (make prod-secrets makes passwords)"
    return 1
  elif [[ "$value" == "$PLACEHOLDER" ]]; then
    err "$file is still the placeholder $PLACEHOLDER: write a real secret into it"
    return 1
  elif [[ "$name" == redis_password && "$value" =~ [[:space:]\"\\] ]]; then
    err "$file has a space, quote or backslash, which redis's requirepass line cannot take"
    return 1
  fi
}

# write_secrets DIR: each missing secret file, from the old .env or random.
write_secrets() {
  local dir="$1" name file value old written=0 failed=0
  mkdir -p "$dir/secrets"
  chmod 700 "$dir/secrets"
  while IFS= read -r name; do
    file="$dir/secrets/$name"
    [[ -e "$file" ]] && continue
    old="$(printf %s "$name" | tr "[:lower:]" "[:upper:]")"
    value="$(setting "$old" "$dir/.env")"
    if [[ -n "$value" && "$value" != "$PLACEHOLDER" ]]; then
      printf 'prod-secrets: %s: %s from %s/.env (kept)\n' "$file" "$old" "$dir"
    elif [[ "$name" == *_password ]]; then
      value="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
      printf 'prod-secrets: %s: a random password\n' "$file"
    else
      err "$file: not written (only passwords are made up): write the secret into it"
      failed=1
      continue
    fi
    # Readable inside the containers (compose mounts the file as it is, and the
    # services run as their own users); the folder (700) keeps it from others here.
    (umask 022 && printf '%s\n' "$value" >"$file")
    written=$((written + 1))
  done < <(secret_names "$dir")
  [[ "$written" -gt 0 || "$failed" -gt 0 ]] || printf 'prod-secrets: every secret of %s/secrets is there\n' "$dir"
  return "$failed"
}

main() {
  local write=0
  if [[ "${1:-}" == --write-secrets ]]; then write=1; shift; fi
  local dir="${1:-deploy/prod}" name value failed=0
  local example="$dir/.env.example" env="$dir/.env"
  [[ -f "$example" ]] || { err "$example is missing"; exit 2; }
  [[ -f "$dir/docker-compose.yml" ]] || { err "$dir/docker-compose.yml is missing"; exit 2; }
  if [[ "$write" == 1 ]]; then
    write_secrets "$dir"
    exit
  fi
  [[ -f "$env" ]] || { err "$env is missing: copy $example and set its values"; exit 1; }
  while IFS= read -r name; do
    check_secret "$name" "$dir/secrets/$name" || failed=1
  done < <(secret_names "$dir")
  while IFS= read -r name; do
    value="$(setting "$name" "$env")"
    if [[ -z "$value" ]]; then
      err "$name is empty: set it in $env"
      failed=1
    elif [[ "$value" == "$PLACEHOLDER" ]]; then
      err "$name is still the placeholder $PLACEHOLDER: set it in $env"
      failed=1
    fi
  done < <(sed -n "s/^\([A-Za-z_][A-Za-z0-9_]*\)=$PLACEHOLDER\$/\1/p" "$example")
  exit "$failed"
}

main "$@"
