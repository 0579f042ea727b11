# shellcheck shell=bash
# The database side of `make chaos`, sourced by scripts/chaos/run.sh: etcd, three Patroni nodes (PostgreSQL 15,
# strict synchronous replication) and HAProxy routing to the leader through Patroni's `/primary` check, all on
# loopback, the standard Patroni arrangement (docs/operations.md, "The database in production"). Also NATS.
# Patroni runs as `postgres` under setpriv (../shared/patroni-notes.md: the PID held is Patroni's own).

PATRONI_SCOPE=orderly-chaos
NODES=(pg1 pg2 pg3)
declare -A NODE_PID

node_index() { local i; for i in "${!NODES[@]}"; do [ "${NODES[$i]}" = "$1" ] && echo "$i"; done; }
node_pg_port() { echo $((PG_BASE + $(node_index "$1") + 1)); }
node_rest_port() { echo $((REST_BASE + $(node_index "$1") + 1)); }
postmaster_pid() { head -n1 "$WORK/$1/data/postmaster.pid" 2>/dev/null; }
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$@"; }
patronictl_() { as_postgres patronictl -c "$WORK/pg1/patroni.yml" "$@"; }

# The DCS settings: ttl 6 / loop_wait 1 / retry_timeout 2 bound a leader's death to about 6 s before a standby
# takes over (ttl >= loop_wait + 2 x retry_timeout, Patroni's rule; etcd is on loopback here). Strict synchronous mode: a commit is acknowledged only once
# a standby has it, even with every standby gone (then commits wait). With synchronous mode the sync standby has
# every acknowledged commit, so the lag guard for failover only matters when CHAOS_BREAK=async turns it off.
write_node_config() {
  local name=$1 sync=true strict=true
  [ "${CHAOS_BREAK:-}" = async ] && sync=false strict=false
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name/patroni.yml" <<EOF
scope: $PATRONI_SCOPE
name: $name
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$(node_rest_port "$name")
  connect_address: 127.0.0.1:$(node_rest_port "$name")
etcd3:
  hosts: 127.0.0.1:$ETCD_PORT
bootstrap:
  dcs:
    ttl: 6
    loop_wait: 1
    retry_timeout: 2
    maximum_lag_on_failover: 268435456
    primary_start_timeout: 0
    synchronous_mode: $sync
    synchronous_mode_strict: $strict
    postgresql:
      use_pg_rewind: true
      use_slots: false
      parameters:
        max_connections: 300
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 512MB
        wal_retrieve_retry_interval: 250ms
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - auth: trust
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$(node_pg_port "$name")
  connect_address: 127.0.0.1:$(node_pg_port "$name")
  data_dir: $WORK/$name/data
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: $WORK/$name/pgpass
  authentication:
    superuser: {username: postgres}
    replication: {username: replicator}
    rewind: {username: rewinder}
  parameters:
    unix_socket_directories: $WORK/$name
    shared_buffers: 128MB
    logging_collector: "off"
EOF
  chown -R postgres:postgres "$WORK/$name"
}

start_node() {
  local name=$1
  # setpriv, not the as_postgres function: the PID held must be Patroni's own (a function would fork a subshell).
  setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql \
    patroni "$WORK/$name/patroni.yml" >>"$WORK/logs/$name.log" 2>&1 &
  NODE_PID[$name]=$!
  PIDS+=("$!")
  disown "$!" # killed on purpose later: no job-control notice
}

start_etcd() {
  etcd --name chaos --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "chaos=http://127.0.0.1:$ETCD_PEER_PORT" >"$WORK/logs/etcd.log" 2>&1 &
  PIDS+=("$!")
  wait_for "etcd" 20 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
}

# HAProxy: the database entrance (the leader only; a node that stops answering /primary loses its sessions at once)
# and the API entrance (Orderly replicas that answer /readyz). It also listens on each replica namespace's gateway,
# which is how a replica reaches the database and NATS.
start_haproxy() {
  local name i
  {
    cat <<EOF
global
  maxconn 4000
defaults
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout check 1s
listen postgres
  mode tcp
  bind 127.0.0.1:$DB_PORT
EOF
    for i in $(seq 1 "$REPLICAS"); do echo "  bind $(gateway "$i"):$DB_PORT"; done
    cat <<EOF
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 300ms fall 1 rise 1 on-marked-down shutdown-sessions
EOF
    for name in "${NODES[@]}"; do
      echo "  server $name 127.0.0.1:$(node_pg_port "$name") check port $(node_rest_port "$name")"
    done
    cat <<EOF
listen api
  mode http
  bind 127.0.0.1:$API_PORT
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  retries 2
  option redispatch
  default-server inter 500ms fall 2 rise 1
EOF
    for i in $(seq 1 "$REPLICAS"); do
      echo "  server r$i $(replica_ip "$i"):8080 check port 9090"
    done
  } >"$WORK/haproxy.cfg"
  haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/logs/haproxy.log" 2>&1 &
  PIDS+=("$!")
}

start_nats() {
  mkdir -p "$WORK/nats"
  nats-server -a 0.0.0.0 -p "$NATS_PORT" -js -sd "$WORK/nats" >>"$WORK/logs/nats.log" 2>&1 &
  NATS_PID=$!
  PIDS+=("$NATS_PID")
  wait_for "NATS" 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT"
}

start_cluster() {
  local name
  start_etcd
  for name in "${NODES[@]}"; do write_node_config "$name"; done
  start_node pg1
  wait_for "the first Patroni node to lead" 60 is_leader pg1
  start_node pg2
  start_node pg3
  start_haproxy
  wait_healthy 90
  log "Patroni: $(leader) leads, $(sync_standby) is the synchronous standby (strict: $([ "${CHAOS_BREAK:-}" = async ] && echo off || echo on))"
}

# ---- the cluster's state, from Patroni's REST API -----------------------------------------------------------------
cluster_json() { curl -sf --max-time 2 "http://127.0.0.1:$(node_rest_port pg1)/cluster" ||
  curl -sf --max-time 2 "http://127.0.0.1:$(node_rest_port pg2)/cluster" ||
  curl -sf --max-time 2 "http://127.0.0.1:$(node_rest_port pg3)/cluster"; }
member_with_role() { cluster_json | python3 -c "import json,sys; print(next((m['name'] for m in json.load(sys.stdin)['members'] if m['role'] in sys.argv[1:]), ''))" "$@"; }
leader() { member_with_role leader; }
sync_standby() { member_with_role sync_standby; }
is_leader() { curl -sf --max-time 1 "http://127.0.0.1:$(node_rest_port "$1")/primary" >/dev/null; }

# Healthy: a leader that takes writes through HAProxy, and both other nodes streaming from it (checked in
# pg_stat_replication on the leader: patronictl 3.0.2 shows replicas as "running" either way).
cluster_healthy() {
  local streaming
  streaming=$(psql -qtAX "postgres://postgres@127.0.0.1:$DB_PORT/postgres?connect_timeout=2" \
    -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null) || return 1
  [ "$streaming" = 2 ] || return 1
  [ "${CHAOS_BREAK:-}" = async ] || [ -n "$(sync_standby)" ]
}
wait_healthy() { wait_for "a leader with two streaming standbys" "$1" cluster_healthy; }

# ---- faults -------------------------------------------------------------------------------------------------------
# The whole node dies at once: Patroni and PostgreSQL with every backend (SIGKILL).
kill_node() {
  local name=$1 pm
  pm=$(postmaster_pid "$name")
  kill -KILL "${NODE_PID[$name]}" 2>/dev/null || true
  if [ -n "$pm" ]; then
    pkill -KILL -P "$pm" 2>/dev/null || true
    kill -KILL "$pm" 2>/dev/null || true
  fi
}

# Stops the WAL senders of node NAME (the leader): its standbys fall behind while it goes on committing. (Stopping
# the standbys' WAL receivers instead would not do: what the sender has written waits in their sockets' buffers.)
stop_walsenders() {
  local pm
  pm=$(postmaster_pid "$1")
  if [ -n "$pm" ]; then pkill -STOP -P "$pm" -f walsender 2>/dev/null || true; fi
}

stop_cluster_processes() {
  local name pm
  for name in "${NODES[@]}"; do
    [ -n "${NODE_PID[$name]:-}" ] && kill -TERM "${NODE_PID[$name]}" 2>/dev/null
  done
  sleep 1
  for name in "${NODES[@]}"; do
    [ -n "${NODE_PID[$name]:-}" ] && kill -KILL "${NODE_PID[$name]}" 2>/dev/null
    pm=$(postmaster_pid "$name")
    if [ -n "$pm" ]; then
      pkill -KILL -P "$pm" 2>/dev/null
      kill -KILL "$pm" 2>/dev/null
    fi
  done
  return 0
}
