#!/usr/bin/env bash
# scripts/run from a checkout only root may enter (mode 0700, like a clone under /root), as
# root: PostgreSQL (run as the postgres user) must still start, and /healthz answer.
# Called by scripts/test; skipped when not root. Uses an existing build (CHATD_BUILD_DIR), since
# what is under test is the script's handling of directories, not the compiler.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  log "scripts/run in a private directory: skipped (not root)"
  exit 0
fi
build_dir="$1"
private="$(mktemp -d /tmp/chatd-private.XXXXXX)"  # mode 0700
chmod 700 "$private"
run_pid=""
cleanup() {
  if [ -n "$run_pid" ]; then  # scripts/run stops chatd and its PostgreSQL
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  rm -rf "$private" "/var/lib/chatd-run/$(printf '%s' "$private/chatd" | sha256sum | cut -c1-16)"
}
trap cleanup EXIT

mkdir "$private/chatd"
(cd "$ROOT" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -C "$private/chatd" -xf -
port="$(free_port)"
CHATD_BUILD_DIR="$build_dir" CHATD_PORT="$port" CHATD_BCRYPT_COST=4 CHATD_DATABASE_URL= \
  setsid "$private/chatd/scripts/run" >"$private/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 300); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    grep -q "open http://localhost:$port/" "$private/run.log" ||
      die "scripts/run did not print the URL to open"
    log "scripts/run from a 0700 directory as root: /healthz answers"
    exit 0
  fi
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.2
done
cat "$private/run.log" >&2
die "scripts/run from a 0700 directory as root did not serve /healthz"
