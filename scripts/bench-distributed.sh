#!/usr/bin/env bash
# One distributed switchboard-bench run (docs/benchmarks.md): a fresh PostgreSQL database and
# NATS prefix, the four services and the gateway on CPU 0, the bench on CPU 1; JSON on stdout.
# Usage: scripts/bench-distributed.sh RATE [VISITORS AGENTS]   (build with
# `cargo build --release -p switchboard -p switchboard-bench` first)
set -euo pipefail
RATE=${1:-200}; VISITORS=${2:-1000}; AGENTS=${3:-100}
BIN=${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/switchboard/target}/release}
ID=$(date +%s%N | tail -c 8)
DB=sbbench_$ID
psql -q postgres://postgres@127.0.0.1:5432/postgres -c "CREATE DATABASE $DB"
A=51$((RANDOM%90+10)); H=52$((RANDOM%90+10)); R=53$((RANDOM%90+10)); I=54$((RANDOM%90+10)); PORT=18$((RANDOM%900+100))
export SWITCHBOARD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB \
  SWITCHBOARD_NATS_URL=nats://127.0.0.1:4222 SWITCHBOARD_SUBJECT_PREFIX=sbb$ID \
  SWITCHBOARD_AGENTS_URL=http://127.0.0.1:$A SWITCHBOARD_HISTORY_URL=http://127.0.0.1:$H \
  SWITCHBOARD_ROUTING_URL=http://127.0.0.1:$R SWITCHBOARD_INTEGRATIONS_URL=http://127.0.0.1:$I \
  SWITCHBOARD_HTTP_ADDR=127.0.0.1:$PORT \
  SWITCHBOARD_BOOTSTRAP_EMAIL=bench@example.com SWITCHBOARD_BOOTSTRAP_PASSWORD=bench-password \
  SWITCHBOARD_WS_FRAMES_PER_SECOND=1000 SWITCHBOARD_WS_FRAMES_BURST=1000 RUST_LOG=warn
$BIN/switchboard migrate >/dev/null
pids=()
SWITCHBOARD_GRPC_ADDR=127.0.0.1:$A SWITCHBOARD_METRICS_ADDR=127.0.0.1:1$A taskset -c 0 $BIN/switchboard agents >/dev/null 2>&1 & pids+=($!)
sleep 2
SWITCHBOARD_GRPC_ADDR=127.0.0.1:$H SWITCHBOARD_METRICS_ADDR=127.0.0.1:1$H taskset -c 0 $BIN/switchboard history >/dev/null 2>&1 & pids+=($!)
SWITCHBOARD_GRPC_ADDR=127.0.0.1:$R SWITCHBOARD_METRICS_ADDR=127.0.0.1:1$R taskset -c 0 $BIN/switchboard routing >/dev/null 2>&1 & pids+=($!)
SWITCHBOARD_GRPC_ADDR=127.0.0.1:$I SWITCHBOARD_METRICS_ADDR=127.0.0.1:1$I taskset -c 0 $BIN/switchboard integrations >/dev/null 2>&1 & pids+=($!)
taskset -c 0 $BIN/switchboard gateway >/dev/null 2>&1 & pids+=($!)
trap 'kill ${pids[@]} 2>/dev/null; wait 2>/dev/null; psql -q postgres://postgres@127.0.0.1:5432/postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
for i in $(seq 1 120); do curl -fs http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.5; done
sleep 3
echo "load avg: $(cut -d' ' -f1 /proc/loadavg)" >&2
SWITCHBOARD_BENCH_ADMIN_PASSWORD=bench-password taskset -c 1 $BIN/switchboard-bench \
  --gateway http://127.0.0.1:$PORT --admin-email bench@example.com \
  --visitors $VISITORS --agents $AGENTS --rate $RATE --duration 20 --warmup 5 --json 2>/dev/null
