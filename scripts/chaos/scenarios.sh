# shellcheck shell=bash
# shellcheck disable=SC2034 # SCENARIO is read by replicas.sh, sourced beside this file
# The six scenarios of `make chaos`, sourced by scripts/chaos/run.sh. Each gets a fresh database and a fresh
# event stream, its load for SECONDS_PER_SCENARIO, one fault a few seconds in, and then the checker.

FAULT_AT=7
SKUS=CHAOS-1,CHAOS-2,CHAOS-3,CHAOS-4,CHAOS-5,CHAOS-6,CHAOS-7,CHAOS-8
SCARCE=CHAOS-SCARCE-1,CHAOS-SCARCE-2

restart_nats_empty() {
  [ -n "${NATS_PID:-}" ] && { kill -TERM "$NATS_PID" 2>/dev/null; wait "$NATS_PID" 2>/dev/null || true; }
  rm -rf "$WORK/nats"
  start_nats
}

# seed BASE_URL: the catalog, through the API: plenty of stock for most SKUs, a little for the scarce ones, so
# stock runs out during the load and the last units are fought over.
seed() {
  local base=$1 sku on_hand
  for sku in ${SKUS//,/ } ${SCARCE//,/ }; do
    on_hand=1000000
    [[ $sku == *SCARCE* ]] && on_hand=150
    api "$base" PUT "/v1/products/$sku" \
      '{"name_en":"Chaos oud","name_ar":"عود","prices":[{"amount_minor":1235,"currency":"KWD"}],"tax_class":"standard","active":true}'
    api "$base" PUT "/v1/stock/$sku" "{\"on_hand\":$on_hand}"
  done
}
# api BASE METHOD PATH BODY: retried for a while (a load balancer may not have seen the replicas up yet).
api() {
  local _
  for _ in $(seq 1 40); do
    curl -sf --max-time 10 -X "$2" "$1$3" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "$4" >/dev/null && return 0
    sleep 0.25
  done
  die "$2 $3 kept failing"
}

start_load() {
  local name=$1 url=$2 extra=()
  [ "${CHAOS_BREAK:-}" = new-key ] && extra=(--new-key-on-retry)
  "$CHAOS_TOOL" load --url "$url" --scenario "$name" --seconds "$SECONDS_PER_SCENARIO" --clients "$CLIENTS" \
    --skus "$SKUS" --scarce "$SCARCE" --record "$WORK/$name.record" "${extra[@]}" >>"$WORK/logs/load.log" 2>&1 &
  LOAD_PID=$!
}

check() {
  local name=$1 db=$2 ready=() i rc=0
  shift 2
  for i in "$@"; do ready+=(--ready "http://$(replica_ip "$i"):9090/readyz"); done
  "$CHAOS_TOOL" check --record "$WORK/$name.record" --database-url "$db" \
    --nats-url "nats://127.0.0.1:$NATS_PORT" --stream "$STREAM" "${ready[@]}" | tee -a "$WORK/chaos.out" || rc=$?
  # Every order's event chain and the audit log are intact (`orderly verify`), read once the replicas are gone.
  stop_replicas
  if [[ $db == sqlite:* ]]; then
    ORDERLY_SQLITE_PATH=${db#sqlite:} "$ORDERLY_BIN" verify | tail -n1 || rc=1
  else
    ORDERLY_DATABASE_URL=$db "$ORDERLY_BIN" verify | tail -n1 || rc=1
  fi
  return "$rc"
}

run_scenario() {
  local name=$1 rc=0
  SCENARIO=$name
  log "== $name"
  restart_nats_empty
  case $name in
    sqlite-kill) sqlite_scenario || rc=$? ;;
    replica-kill | leader-kill | switchover | partition | nats-kill) pg_scenario "$name" || rc=$? ;;
    *) die "unknown scenario $name" ;;
  esac
  stop_replicas
  return "$rc"
}

pg_scenario() {
  local name=$1 db=chaos_${1//-/_} i url rc=0
  psql -qX "postgres://postgres@127.0.0.1:$DB_PORT/postgres" -c "CREATE DATABASE $db" >/dev/null
  ORDERLY_DATABASE_URL="postgres://postgres@127.0.0.1:$DB_PORT/$db" "$ORDERLY_BIN" migrate >>"$WORK/logs/migrate.log" 2>&1
  for i in $(seq 1 "$REPLICAS"); do start_replica "$i" "ORDERLY_DATABASE_URL=postgres://postgres@$(gateway "$i"):$DB_PORT/$db"; done
  wait_replicas_ready 30
  wait_for "the API through HAProxy" 30 curl -sf "http://127.0.0.1:$API_PORT/openapi.json"
  seed "http://127.0.0.1:$API_PORT"
  start_load "$name" "http://127.0.0.1:$API_PORT"
  sleep "$FAULT_AT"
  "fault_${name//-/_}"
  wait "$LOAD_PID" || die "the load client failed (logs/load.log)"
  wait_healthy 120
  check "$name" "postgres://postgres@127.0.0.1:$DB_PORT/$db" $(seq 1 "$REPLICAS") || rc=$?
  return "$rc"
}

# ---- the faults ---------------------------------------------------------------------------------------------------
fault_replica_kill() {
  log "SIGKILL replica 1"
  kill_replica 1
  sleep 4
  start_replica 1 "ORDERLY_DATABASE_URL=postgres://postgres@$(gateway 1):$DB_PORT/chaos_replica_kill"
  log "replica 1 restarted"
}

# The leader stops sending WAL for a moment, then its whole node dies while its standbys are behind: with strict
# synchronous replication no commit was acknowledged that a standby lacks (commits waited instead). The old node
# is started again at once and rejoins as a standby (pg_rewind).
fault_leader_kill() {
  local old killed restarted
  old=$(leader)
  stop_walsenders "$old"
  sleep 1.5
  log "SIGKILL of the whole leader node $old (Patroni and PostgreSQL), its standbys 1.5 s behind"
  kill_node "$old"
  killed=$(date +%s.%N)
  wait_for "a new leader" 60 db_writable
  log "$(leader) leads and takes writes through HAProxy $(since "$killed") s after the kill; restarting $old"
  restarted=$(date +%s.%N)
  start_node "$old"
  wait_healthy 120
  log "$old rejoined as a streaming standby $(since "$restarted") s after it was started again"
}
db_writable() {
  psql -qtAX "postgres://postgres@127.0.0.1:$DB_PORT/postgres?connect_timeout=1" \
    -c "SELECT 1 WHERE NOT pg_is_in_recovery()" | grep -q 1
}
since() { awk -v s="$1" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }

fault_switchover() {
  local old new asked
  old=$(leader)
  new=$(sync_standby)
  log "patronictl switchover $old -> $new"
  asked=$(date +%s.%N)
  patronictl_ switchover --leader "$old" --candidate "$new" --force >>"$WORK/logs/patronictl.log" 2>&1
  wait_for "the new leader" 30 db_writable
  log "$(leader) leads $(since "$asked") s after the switchover was asked for"
}

fault_partition() {
  log "replica 1 cut off from the database for 20 s"
  partition_replica 1
  sleep 20
  heal_replica 1
  log "replica 1 reconnected"
}

fault_nats_kill() {
  log "SIGKILL NATS"
  kill -KILL "$NATS_PID"
  sleep 5
  start_nats
  log "NATS restarted on the same store"
}

# The embedded default: one `orderly serve` on a SQLite file, killed mid-load and started again on the same file.
sqlite_scenario() {
  local file=$WORK/sqlite/orderly.db url rc=0
  mkdir -p "$WORK/sqlite"
  url="http://$(replica_ip 1):8080"
  start_sqlite_replica "$file"
  wait_for "the SQLite replica" 30 replica_ready 1
  seed "$url"
  start_load sqlite-kill "$url"
  sleep "$FAULT_AT"
  log "SIGKILL of orderly serve on SQLite"
  kill_replica 1
  sleep 3
  start_sqlite_replica "$file"
  log "restarted on the same file"
  wait "$LOAD_PID" || die "the load client failed (logs/load.log)"
  check sqlite-kill "sqlite:$file" 1 || rc=$?
  return "$rc"
}
start_sqlite_replica() { start_replica 1 ORDERLY_SQLITE_PATH="$1" ORDERLY_MIGRATE_ON_START=true; }
