# shellcheck shell=bash
# Orderly replicas for `make chaos`, sourced by scripts/chaos/run.sh. Replica i runs the release binary in a network
# namespace of its own (orderly-chaos-i), joined to the host by a veth pair: the replica is 10.77.i.2 and reaches the
# database (HAProxy) and NATS at its gateway 10.77.i.1. Cutting one replica off the database is then a firewall rule
# inside its namespace, and nothing else on the machine is touched.

gateway() { echo "10.77.$1.1"; }
replica_ip() { echo "10.77.$1.2"; }
netns() { echo "orderly-chaos-$1"; }
declare -A REPLICA_PID

make_namespaces() {
  local i ns
  for i in $(seq 1 "$REPLICAS"); do
    ns=$(netns "$i")
    ip netns del "$ns" 2>/dev/null || true
    ip link del "och$i" 2>/dev/null || true
    ip netns add "$ns"
    ip link add "och$i" type veth peer name "ocn$i"
    ip link set "ocn$i" netns "$ns"
    ip addr add "$(gateway "$i")/24" dev "och$i"
    ip link set "och$i" up
    ip netns exec "$ns" ip addr add "$(replica_ip "$i")/24" dev "ocn$i"
    ip netns exec "$ns" ip link set "ocn$i" up
    ip netns exec "$ns" ip link set lo up
  done
}

remove_namespaces() {
  local i
  for i in $(seq 1 "$REPLICAS"); do
    ip netns del "$(netns "$i")" 2>/dev/null
    ip link del "och$i" 2>/dev/null
  done
  return 0
}

# start_replica I [VAR=VALUE...]: Orderly in namespace I with these settings besides the common ones (the database:
# ORDERLY_DATABASE_URL or ORDERLY_SQLITE_PATH), its log in logs/SCENARIO-replica-I.log.
start_replica() {
  local i=$1
  shift
  ip netns exec "$(netns "$i")" env -i PATH=/usr/bin:/bin HOME=/tmp \
    ORDERLY_ENV=development ORDERLY_JWT_SECRET="$JWT_SECRET" ORDERLY_DEV_KEY_FILE="$WORK/dev.key" \
    ORDERLY_LISTEN="$(replica_ip "$i"):8080" ORDERLY_ADMIN_LISTEN="$(replica_ip "$i"):9090" \
    ORDERLY_MIGRATE_ON_START=false ORDERLY_NATS_URL="nats://$(gateway "$i"):$NATS_PORT" ORDERLY_NATS_STREAM="$STREAM" \
    "${ORDERLY_CHAOS_ENV[@]}" "$@" "$ORDERLY_BIN" serve >>"$WORK/logs/$SCENARIO-replica-$i.log" 2>&1 &
  REPLICA_PID[$i]=$!
  PIDS+=("$!")
}

replica_ready() { curl -sf --max-time 1 "http://$(replica_ip "$1"):9090/readyz" >/dev/null; }
wait_replicas_ready() {
  local i
  for i in $(seq 1 "$REPLICAS"); do wait_for "replica $i to be ready" "$1" replica_ready "$i"; done
}

kill_replica() { kill -KILL "${REPLICA_PID[$1]}" 2>/dev/null || true; wait "${REPLICA_PID[$1]}" 2>/dev/null || true; }
stop_replicas() {
  local i
  for i in "${!REPLICA_PID[@]}"; do kill -TERM "${REPLICA_PID[$i]}" 2>/dev/null || true; done
  for i in "${!REPLICA_PID[@]}"; do wait "${REPLICA_PID[$i]}" 2>/dev/null || true; done
  REPLICA_PID=()
}

# Every packet between replica I and its gateway's database port is dropped, both ways: established connections
# hang (as in a real partition) rather than fail fast.
partition_replica() {
  local ns
  ns=$(netns "$1")
  ip netns exec "$ns" iptables -A OUTPUT -p tcp -d "$(gateway "$1")" --dport "$DB_PORT" -j DROP
  ip netns exec "$ns" iptables -A INPUT -p tcp -s "$(gateway "$1")" --sport "$DB_PORT" -j DROP
}
heal_replica() { ip netns exec "$(netns "$1")" iptables -F; }
