# Shared by scripts/run, scripts/test, scripts/build and scripts/bench: installing what is missing,
# building, and running a private PostgreSQL 15 cluster. Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin

# Debian packages chatd needs to build, test and run (see README: "Libraries").
CHATD_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpq-dev postgresql-15 postgresql-client-15
  libjwt-dev libcrypt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libnats-dev nats-server haproxy libmagic-dev libssl-dev chromium
  postgresql-15-auto-failover pg-auto-failover-cli
  util-linux procps iproute2 curl
)

# Node.js and npm for the API document linters and the browser tests (Debian's packages when
# missing; an installed Node.js of another origin is used as it is).
ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  log "installing nodejs npm"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nodejs npm >/dev/null
}

# npm ci in DIR when its node_modules is missing or older than its package-lock.json.
npm_ci() {
  local dir="$1"
  ensure_node
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    log "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$dir/node_modules"
  fi
}

# The web client in Debian's chromium (tests/web): WEB_BINARY against a new database in the
# cluster CONNINFO_BASE (host/port/user). SCREENSHOTS=<dir> also saves the main screens.
web_tests() {
  local binary="$1" pg_port="$2" db="web_$RANDOM$RANDOM"
  npm_ci "$ROOT/tests/web"
  pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"
  CHATD_BINARY="$binary" CHATD_WEB_ROOT="$ROOT/web" \
    CHATD_DATABASE_URL="host=127.0.0.1 port=$pg_port user=postgres dbname=$db" \
    node "$ROOT/tests/web/chat.test.mjs"
}

# The API documents against a live chatd (tests/api): every field chatd sends documented and
# required, nothing undocumented in live answers and frames. BINARY against a new database in the
# cluster on PG_PORT.
contract_tests() {
  local binary="$1" pg_port="$2" db="contract_$RANDOM$RANDOM"
  npm_ci "$ROOT/tools/apilint"
  pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"
  CHATD_BINARY="$binary" CHATD_DATABASE_URL="host=127.0.0.1 port=$pg_port user=postgres dbname=$db" \
    node "$ROOT/tests/api/contract.test.mjs"
}

# Lints docs/openapi.yaml (Redocly) and validates docs/asyncapi.yaml (the AsyncAPI parser), with
# the versions pinned in tools/apilint/package-lock.json.
lint_api_documents() {
  local dir="$ROOT/tools/apilint"
  npm_ci "$dir"
  (cd "$dir" && npx --no-install redocly lint ../../docs/openapi.yaml --format=stylish &&
    node validate-asyncapi.mjs ../../docs/asyncapi.yaml)
}

# promtool (Debian's prometheus package) for the /metrics exposition test, without installing
# the package itself (which would start a Prometheus server): its .deb is unpacked under
# .data/tools. Prints the path.
ensure_promtool() {
  if command -v promtool >/dev/null; then command -v promtool; return 0; fi
  local dir="$ROOT/.data/tools/prometheus"
  if [ ! -x "$dir/usr/bin/promtool" ]; then
    log "unpacking promtool from Debian's prometheus package"
    local tmp
    tmp="$(mktemp -d)"
    if ! (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); then
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      (cd "$tmp" && apt-get download prometheus >/dev/null)
    fi
    mkdir -p "$dir"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$dir"
    rm -rf "$tmp" "$dir/usr/bin/prometheus" "$dir/usr/share"  # only promtool is used
  fi
  echo "$dir/usr/bin/promtool"
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
  local missing=()
  for p in "${CHATD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # The Debian package starts a cluster of its own on 5432; chatd does not use it.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# build DIR TYPE [extra cmake args...]: configure once, then build with ninja -j2 and ccache.
# BUILD_TARGET (default: all) picks what to build.
build() {
  local dir="$1" type="$2"
  shift 2
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  fi
  cmake --build "$dir" -j "${CHATD_BUILD_JOBS:-2}" --target "${BUILD_TARGET:-all}"
}

# PostgreSQL refuses to run as root: run its tools as the postgres system user then.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_init DATADIR [fsync off?]: a new cluster with trust auth for the local user only.
pg_init() {
  local data="$1"
  mkdir -p "$data"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
  chmod 700 "$data"
  pg_as_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >/dev/null
}

# The settings scripts/run gives its private PostgreSQL (scripts/bench measures with the same):
# a quarter of the memory for shared_buffers (128 MB to 1 GB) and room for 4 GB of WAL between
# checkpoints. With PostgreSQL's defaults (128 MB, 1 GB) a database holding 10 million messages
# had p99 26-378 ms at 10,000 msgs/s, checkpoints forced by WAL volume every ~10 s and buffer
# eviction on every insert; with these, 33-39 ms (docs/BENCHMARKS.md, issue 9).
pg_serving_settings() {
  local kib mb
  kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  mb=$((kib / 4 / 1024))
  [ "$mb" -lt 128 ] && mb=128
  [ "$mb" -gt 1024 ] && mb=1024
  echo "shared_buffers=${mb}MB max_wal_size=4GB"
}

# pg_start DATADIR SOCKETDIR PORT LOGFILE [extra -c options]
pg_start() {
  local data="$1" sock="$2" port="$3" logfile="$4"
  shift 4
  mkdir -p "$sock"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$sock"
    touch "$logfile" && chown postgres:postgres "$logfile"
  fi
  local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sock"
  opts="$opts -c max_connections=200"
  for o in "$@"; do opts="$opts -c $o"; done
  pg_as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$logfile" -o "$opts" -w -t 60 start >/dev/null
}

pg_stop() {
  local data="$1"
  [ -f "$data/postmaster.pid" ] || return 0
  pg_as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# A TCP port nothing listens on right now.
free_port() {
  local p
  for _ in $(seq 200); do
    # Below the kernel's ephemeral range (32768-60999): a port a client socket holds there
    # passes the probe yet cannot be bound.
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# What the test binaries need (scripts/test, scripts/chaos): a throwaway PostgreSQL on a free
# port, torn down on exit, named by CHATD_TEST_PG (each test binary makes its own databases in
# it: tests/support/test_database.cpp); promtool; the sanitizers' options. Sets PG_PORT.
test_environment() {
  TMP="$(mktemp -d /tmp/chatd-test.XXXXXX)"
  chmod 755 "$TMP"
  PG_DATA="$TMP/pg"
  trap 'pg_stop "$PG_DATA"; rm -rf "$TMP"' EXIT
  PG_PORT="$(free_port)"
  log "throwaway PostgreSQL on 127.0.0.1:$PG_PORT"
  pg_init "$PG_DATA"
  # Durability is not under test here; speed is welcome (tests only, never scripts/run).
  pg_start "$PG_DATA" "$TMP/sock" "$PG_PORT" "$TMP/postgres.log" fsync=off synchronous_commit=off \
    full_page_writes=off
  export CHATD_TEST_PG="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
  CHATD_PROMTOOL="$(ensure_promtool)"
  export CHATD_PROMTOOL
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
}

# What scripts/run and scripts/cluster share: a JWT secret generated once under .data/ and, unless
# CHATD_DATABASE_URL is set, a private PostgreSQL under .data/postgres (CHATD_DATABASE_URL is then
# exported for chatd). serve_cleanup stops that PostgreSQL.
serve_prepare() {
  DATA="$ROOT/.data"
  mkdir -p "$DATA"
  chmod 755 "$DATA"

  # A signing secret generated once and kept, so tokens survive restarts.
  if [ -z "${CHATD_JWT_SECRET:-}" ]; then
    if [ ! -s "$DATA/jwt_secret" ]; then
      (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n=' >"$DATA/jwt_secret")
    fi
    chmod 600 "$DATA/jwt_secret"
    CHATD_JWT_SECRET="$(cat "$DATA/jwt_secret")"
    export CHATD_JWT_SECRET
  fi

  # Attachments (PROTOCOL §4) under .data/ as well, unless set.
  export CHATD_DATA_DIR="${CHATD_DATA_DIR:-$DATA/files}"

  private_pg_paths
  started_pg=0
  if [ -z "${CHATD_DATABASE_URL:-}" ]; then
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      log "creating a PostgreSQL cluster in $PG_DATA"
      pg_init "$PG_DATA"
    fi
    pg_stop "$PG_DATA"  # a cluster left running by an earlier run that was killed
    PG_PORT="${CHATD_PG_PORT:-$(free_port)}"
    private_pg_start
  fi
}

# Where scripts/run keeps its private PostgreSQL: PG_DATA, PG_SOCK, PG_LOG. It runs as the
# postgres user when we are root; where that user cannot enter the checkout (a clone under
# /root, any mode-0700 directory), its files live under /var/lib/chatd-run/<hash of the
# checkout path> instead.
private_pg_paths() {
  local pg_home="$ROOT/.data"
  mkdir -p "$pg_home"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$pg_home" 2>/dev/null; then
    pg_home="/var/lib/chatd-run/$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)"
    mkdir -p "$pg_home"
    chown postgres:postgres "$pg_home"
    chmod 700 "$pg_home"
    log "the postgres user cannot enter $ROOT: PostgreSQL's files are in $pg_home"
  fi
  PG_DATA="$pg_home/postgres"
  PG_SOCK="$pg_home/pgsocket"
  PG_LOG="$pg_home/postgres.log"
}

# Starts the private PostgreSQL on PG_PORT with its database `chatd`, and exports
# CHATD_DATABASE_URL for it (started_pg=1: serve_cleanup stops it).
private_pg_start() {
  log "starting PostgreSQL (socket in $PG_SOCK)"
  # shellcheck disable=SC2046  # the settings are words
  pg_start "$PG_DATA" "$PG_SOCK" "$PG_PORT" "$PG_LOG" $(pg_serving_settings)
  started_pg=1
  pg_as_owner "$PG_BIN/psql" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = 'chatd'" | grep -q 1 ||
    pg_as_owner "$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U postgres chatd
  export CHATD_DATABASE_URL="host=$PG_SOCK port=$PG_PORT dbname=chatd user=postgres"
}

# For the tools that work on chatd's store (scripts/backup, scripts/restore): CHATD_DATABASE_URL
# and CHATD_DATA_DIR as given, or those of scripts/run — its private PostgreSQL, used where it
# runs (scripts/run serving), else started for the while (stopped on exit).
private_database() {
  export CHATD_DATA_DIR="${CHATD_DATA_DIR:-$ROOT/.data/files}"
  [ -n "${CHATD_DATABASE_URL:-}" ] && return 0
  private_pg_paths
  [ -f "$PG_DATA/PG_VERSION" ] ||
    die "no CHATD_DATABASE_URL, and scripts/run has no database in $PG_DATA yet"
  if pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    PG_PORT="$(sed -n 4p "$PG_DATA/postmaster.pid")"
    export CHATD_DATABASE_URL="host=$PG_SOCK port=$PG_PORT dbname=chatd user=postgres"
  else
    PG_PORT="$(free_port)"
    private_pg_start
    trap serve_cleanup EXIT
  fi
}

serve_cleanup() {
  if [ "${started_pg:-0}" = 1 ]; then
    log "stopping PostgreSQL"
    pg_stop "$PG_DATA"
  fi
}
