#!/usr/bin/env bash
# The prod stack's secrets and settings, checked before every deploy (prod-up, swarm-deploy). Secrets:
# files deploy/prod/secrets/<name> of the prod compose file's `secrets:`; refused missing, empty,
# change-me, or (redis) unfit for requirepass. Settings: .env.example's change-me variables, read as
# compose does (environment, then .env). --write-secrets (make prod-secrets) writes missing secrets: the
# old variable's value (POSTGRES_PASSWORD ...) or a random one for our own secrets (passwords, the
# api_key clients send), never a provider's API key (llm_api_key). Template-owned.
# usage: scripts/prod-check.sh [--write-secrets] [ENV_DIR]   (default: deploy/prod)
set -euo pipefail
P=change-me
err() { printf 'prod-check: %s\n' "$*" >&2 && return 1; }  # status 1: `err ... || failed=1`
setting() {  # NAME ENV_FILE: NAME from the environment, else its last value in the file, unquoted
  local line v="" && if [[ -n "${!1+set}" ]]; then printf '%s' "${!1}"; return; elif [[ ! -f "$2" ]]; then return; fi
  while IFS= read -r line || [[ -n "$line" ]]; do [[ "$line" == "$1="* ]] && v="${line#*=}"; done <"$2"
  v="${v%\"}" v="${v#\"}" v="${v%\'}" && printf '%s' "${v#\'}"
}
ours() { [[ "$1" == *_password || "$1" == api_key ]]; }  # NAME: a secret prod-secrets makes up
secret_names() { sed -n 's|^    file: \./secrets/\([A-Za-z0-9_.-]*\)$|\1|p' "$1/docker-compose.yml"; }
check_secret() {  # NAME FILE: one line and status 1 when the secret is unusable
  local v fix="write the secret into it"
  ! ours "$1" || fix="run make prod-secrets"
  [[ -f "$2" ]] || err "$2 is missing: $fix" || return 1
  v="$(<"$2")"
  if [[ -z "$v" ]]; then err "$2 is empty: write the secret into it (make prod-secrets makes passwords)"
  elif [[ "$v" == "$P" ]]; then err "$2 is still the placeholder $P: write a real secret into it"
  elif [[ "$1" == redis_password && "$v" =~ [[:space:]\"\\] ]]; then
    err "$2 has a space, quote or backslash, which redis's requirepass line cannot take"
  fi
}
write_secrets() {  # DIR
  local name file v old written=0 failed=0 && mkdir -p "$1/secrets" && chmod 700 "$1/secrets"
  while IFS= read -r name; do
    file="$1/secrets/$name" old="$(printf %s "$name" | tr '[:lower:]' '[:upper:]')"
    [[ ! -e "$file" ]] || continue
    v="$(setting "$old" "$1/.env")"
    if [[ -n "$v" && "$v" != "$P" ]]; then printf 'prod-secrets: %s: %s from %s/.env (kept)\n' "$file" "$old" "$1"
    elif ours "$name"; then
      v="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" && printf 'prod-secrets: %s: a random value\n' "$file"
    else err "$file: not written (only our own secrets are made up): write the secret into it" || failed=1; continue; fi
    # Readable by the containers' users (compose mounts the file as it is); the 700 folder keeps others out.
    (umask 022 && printf '%s\n' "$v" >"$file")
    written=$((written + 1))
  done < <(secret_names "$1")
  ((written + failed)) || printf 'prod-secrets: every secret of %s/secrets is there\n' "$1"
  return "$failed"
}
main() {
  local dir name v failed=0
  if [[ "${1:-}" == --write-secrets ]]; then dir="${2:-deploy/prod}"; else dir="${1:-deploy/prod}"; fi
  for name in .env.example docker-compose.yml; do [[ -f "$dir/$name" ]] || err "$dir/$name is missing" || exit 2; done
  if [[ "${1:-}" == --write-secrets ]]; then write_secrets "$dir"; exit; fi
  [[ -f "$dir/.env" ]] || err "$dir/.env is missing: copy $dir/.env.example and set its values" || exit 1
  while IFS= read -r name; do check_secret "$name" "$dir/secrets/$name" || failed=1; done < <(secret_names "$dir")
  while IFS= read -r name; do
    v="$(setting "$name" "$dir/.env")"
    [[ -n "$v" && "$v" != "$P" ]] || err "$name is ${v:+still the placeholder }${v:-empty}: set it in $dir/.env" || failed=1
  done < <(sed -n "s/^\([A-Za-z_][A-Za-z0-9_]*\)=$P\$/\1/p" "$dir/.env.example")
  exit "$failed"
}

main "$@"
