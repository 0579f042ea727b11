#!/usr/bin/env bash
# `make chaos`: six failure scenarios under load, each checked against a record of every answer the clients got
# (docs/operations.md, "Failure scenarios"). Everything runs on this machine: a three-node Patroni cluster behind
# HAProxy, NATS JetStream, three Orderly replicas in network namespaces of their own, and the load client and
# checker (examples/chaos). Each scenario prints one line:
#   CHAOS scenario=<name> acknowledged=N lost=0 duplicated=0 oversold=0 unavailable_ms=N failed_definite=N
# and a CHAOS-DETAIL line; the run exits 1 if any scenario found a violation. Needs root (namespaces, Patroni as
# postgres; scripts/deps.sh installs the packages, and the release binary and the chaos tool are built when missing).
# About 4 minutes. Logs stay in $CHAOS_WORK.
# Variables: CHAOS_SCENARIOS (all six: replica-kill leader-kill switchover partition nats-kill sqlite-kill),
#   CHAOS_SECONDS (25: load per scenario), CHAOS_CLIENTS (12), CHAOS_BREAK (async: synchronous replication off;
#   new-key: clients use a new Idempotency-Key on each retry; both exist to show that the checks bite),
#   ORDERLY_BIN (the release binary), CHAOS_TOOL (the load client and checker), CHAOS_WORK (/tmp/orderly-chaos),
#   and the ports CHAOS_ETCD_PORT (12379, and the next for peers), CHAOS_PG_BASE (15500: nodes on the next three),
#   CHAOS_REST_BASE (18200: Patroni's REST API likewise), CHAOS_DB_PORT (15432), CHAOS_API_PORT (18380),
#   CHAOS_NATS_PORT (14222).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh
# shellcheck source=scripts/chaos/cluster.sh
source scripts/chaos/cluster.sh
# shellcheck source=scripts/chaos/replicas.sh
source scripts/chaos/replicas.sh
# shellcheck source=scripts/chaos/scenarios.sh
source scripts/chaos/scenarios.sh

WORK=${CHAOS_WORK:-/tmp/orderly-chaos}
ETCD_PORT=${CHAOS_ETCD_PORT:-12379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))
PG_BASE=${CHAOS_PG_BASE:-15500}
REST_BASE=${CHAOS_REST_BASE:-18200}
DB_PORT=${CHAOS_DB_PORT:-15432}
API_PORT=${CHAOS_API_PORT:-18380}
NATS_PORT=${CHAOS_NATS_PORT:-14222}
REPLICAS=3
SECONDS_PER_SCENARIO=${CHAOS_SECONDS:-25}
CLIENTS=${CHAOS_CLIENTS:-12}
SCENARIOS=${CHAOS_SCENARIOS:-replica-kill leader-kill switchover partition nats-kill sqlite-kill}
ORDERLY_BIN_GIVEN=${ORDERLY_BIN:-}
ORDERLY_BIN=$(realpath -m "${ORDERLY_BIN:-${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release/orderly}")
CHAOS_TOOL=$(realpath -m "${CHAOS_TOOL:-${CARGO_TARGET_DIR:-target}/debug/examples/chaos}")
STREAM=ORDERLY_ORDERS
# Settings every replica gets: abuse limits off (one token places every order here; the limits are tested
# elsewhere), a short readiness window and a bounded pool wait, as in production.
ORDERLY_CHAOS_ENV=(ORDERLY_RATE_LIMIT_STAFF_PER_SEC=0 ORDERLY_RATE_LIMIT_IP_PER_SEC=0 ORDERLY_LOG_LEVEL=warn
  ORDERLY_DB_ACQUIRE_TIMEOUT_MS=2000 ORDERLY_SHUTDOWN_DELAY_MS=0 ORDERLY_OUTBOX_POLL_MS=50)
PIDS=()
STARTED=$(date +%s.%N)
FAILED=()

log() { printf '[%6.1fs] %s\n' "$(awk -v s="$STARTED" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')" "$*"; }
die() { echo "CHAOS FAILED: $*" >&2; exit 1; }
wait_for() {
  local what=$1 deadline=$(($(date +%s) + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $what"
    sleep 0.2
  done
}

cleanup() {
  local status=$? pid
  set +e
  stop_replicas
  stop_cluster_processes
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  remove_namespaces
  log "stopped everything (exit $status); logs in $WORK/logs"
  exit "$status"
}

preflight() {
  local tool
  [ "$(id -u)" = 0 ] || die "run as root: the replicas live in network namespaces and Patroni runs as postgres"
  for tool in etcd patroni patronictl haproxy nats-server psql iptables ip setpriv curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found (scripts/deps.sh installs it)"
  done
  if [ -z "${ORDERLY_BIN_GIVEN:-}" ] && [ ! -x "$ORDERLY_BIN" ]; then
    log "building the release binary (as scripts/build-image.sh does)"
    RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release --locked --target x86_64-unknown-linux-gnu
  fi
  [ -x "$ORDERLY_BIN" ] || die "$ORDERLY_BIN not found"
  [ -x "$CHAOS_TOOL" ] || cargo build -q --locked --example chaos
  [ -x "$CHAOS_TOOL" ] || die "$CHAOS_TOOL not found"
  require_free_ports "make chaos" CHAOS_ETCD_PORT="$ETCD_PORT" CHAOS_ETCD_PORT+1="$ETCD_PEER_PORT" \
    CHAOS_PG_BASE+1="$((PG_BASE + 1))" CHAOS_PG_BASE+2="$((PG_BASE + 2))" CHAOS_PG_BASE+3="$((PG_BASE + 3))" \
    CHAOS_REST_BASE+1="$((REST_BASE + 1))" CHAOS_REST_BASE+2="$((REST_BASE + 2))" \
    CHAOS_REST_BASE+3="$((REST_BASE + 3))" CHAOS_DB_PORT="$DB_PORT" CHAOS_API_PORT="$API_PORT" \
    CHAOS_NATS_PORT="$NATS_PORT" || exit 1
  rm -rf "$WORK" && mkdir -p "$WORK/logs" && chmod 755 "$WORK"
  JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  TOKEN=$(ORDERLY_ENV=development ORDERLY_JWT_SECRET=$JWT_SECRET "$ORDERLY_BIN" token --sub chaos-checkout \
    --scope "orders:read orders:write catalog:write stock:write" --ttl 3600 | tail -n1)
  export CHAOS_TOKEN=$TOKEN
}

preflight
trap cleanup EXIT
trap 'exit 130' INT TERM
make_namespaces
start_nats
start_cluster
for scenario in $SCENARIOS; do
  run_scenario "$scenario" || FAILED+=("$scenario")
done
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "CHAOS FAILED: ${FAILED[*]}" >&2
  exit 1
fi
log "chaos: every scenario passed"
