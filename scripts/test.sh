#!/usr/bin/env bash
# Runs every Switchboard check and test against real PostgreSQL and real NATS (JetStream).
#
# On a fresh Debian machine it installs what is missing (postgresql, nats-server, chromium,
# nodejs/npm; needs root or sudo), starts the servers when stopped, makes sure the test user can
# log in over TCP, and then runs the deployment checks (scripts/check-deploy.sh), formatting,
# lints, the whole Rust test suite of the workspace and the browser tests (playwright-core driving
# Debian's Chromium; no browser is ever downloaded).
# Nothing is skipped: a missing server or browser fails the run.
#
# Environment:
#   SWITCHBOARD_TEST_DATABASE_URL  PostgreSQL admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
#   SWITCHBOARD_TEST_NATS_URL      NATS URL (default nats://127.0.0.1:4222)
#   CARGO_TARGET_DIR               build cache (default ~/.cache/switchboard/target, outside the clone)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard/target}"
export SWITCHBOARD_TEST_NATS_URL="${SWITCHBOARD_TEST_NATS_URL:-nats://127.0.0.1:4222}"
PG_HOST=127.0.0.1 PG_PORT=5432 NATS_PORT=4222

log() { printf '==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (install it yourself or run as root)"
  fi
}

apt_updated=0
install_packages() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local host=$1 port=$2 what=$3
  for _ in $(seq 1 150); do port_open "$host" "$port" && return 0; sleep 0.2; done
  die "$what is not accepting connections on $host:$port"
}

ensure_postgres() {
  if ! command -v psql >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing postgresql"
    install_packages postgresql
  fi
  if ! port_open "$PG_HOST" "$PG_PORT"; then
    log "starting postgresql"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_port "$PG_HOST" "$PG_PORT" postgresql
  fi
  if [ -z "${SWITCHBOARD_TEST_DATABASE_URL:-}" ]; then
    export SWITCHBOARD_TEST_DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/postgres"
    if ! psql "$SWITCHBOARD_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
      # Debian's default pg_hba asks for a password over TCP: give the postgres role one.
      log "setting a password for the postgres role (TCP login for tests)"
      as_root su postgres -c "psql -qc \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
      export SWITCHBOARD_TEST_DATABASE_URL="postgres://postgres:postgres@$PG_HOST:$PG_PORT/postgres"
    fi
  fi
  psql "$SWITCHBOARD_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null \
    || die "cannot log in to PostgreSQL at $SWITCHBOARD_TEST_DATABASE_URL"
  # Databases left by earlier runs (each test creates sbtest_<uuid>).
  local stale
  stale=$(psql "$SWITCHBOARD_TEST_DATABASE_URL" -Atqc "select datname from pg_database where datname like 'sbtest\_%'")
  for db in $stale; do
    psql "$SWITCHBOARD_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || true
  done
}

ensure_nats() {
  local server
  server=$(command -v nats-server || true)
  if [ -z "$server" ]; then
    log "installing nats-server"
    install_packages nats-server
    server=$(command -v nats-server)
  fi
  if ! port_open 127.0.0.1 "$NATS_PORT"; then
    log "starting nats-server with JetStream"
    as_root mkdir -p /var/lib/nats-server
    as_root start-stop-daemon --start --oknodo --background --exec "$server" -- \
      -a 127.0.0.1 -p "$NATS_PORT" -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_port 127.0.0.1 "$NATS_PORT" nats-server
  fi
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing chromium"
    install_packages chromium
  fi
  # A CJK font, so the Chinese interface renders in screenshots instead of empty boxes.
  if ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
    log "installing a CJK font"
    install_packages fonts-wqy-microhei
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing nodejs and npm"
    install_packages nodejs npm
  fi
  # playwright-core only: it drives the system Chromium and downloads nothing.
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
}

ensure_nginx() {
  # The e2e tests run a private nginx in front of two gateways; the system one is not started.
  if [ ! -x /usr/sbin/nginx ]; then
    log "installing nginx"
    install_packages nginx-light
  fi
}

ensure_compose() {
  if ! command -v docker-compose >/dev/null; then
    log "installing docker-compose (to validate docker-compose.yml; no Docker engine needed)"
    install_packages docker-compose
  fi
}

command -v cargo >/dev/null || die "cargo is required (https://rustup.rs)"
ensure_postgres
ensure_nats
ensure_browser
ensure_compose
ensure_nginx

log "docker-compose config"
docker-compose config -q
log "deploy checks (helm lint/render, rendered manifests, promtool, Grafana dashboard)"
bash scripts/check-deploy.sh

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
log "cargo test (PostgreSQL: $SWITCHBOARD_TEST_DATABASE_URL, NATS: $SWITCHBOARD_TEST_NATS_URL)"
cargo test --workspace --all-targets
log "browser tests (Chromium: /usr/bin/chromium)"
cargo build --quiet --bin switchboard
SWITCHBOARD_BIN="$CARGO_TARGET_DIR/debug/switchboard" node --test --test-concurrency=1 tests/browser/
