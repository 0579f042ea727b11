#!/usr/bin/env bash
# Starts (or stops) PgBouncer in transaction pooling mode in front of the test PostgreSQL cluster, for the tests
# that run through it (Backend::PgBouncer), and prints the base URL (postgres://postgres@127.0.0.1:<port>).
#   scripts/pgbouncer-test.sh start <postgres port>
#   scripts/pgbouncer-test.sh stop
# Every database name is passed through (`* =`), so each test's fresh database is reachable as it is directly.
set -euo pipefail

port="${ORDERLY_TEST_PGBOUNCER_PORT:-56432}"
dir="${ORDERLY_TEST_PGBOUNCER_DIR:-/tmp/orderly-test-pgbouncer-$port}"

# PgBouncer will not run as root; use the postgres account when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    pg_port=${2:?usage: $0 start <postgres port>}
    command -v pgbouncer >/dev/null || { echo "pgbouncer not found: apt-get install pgbouncer" >&2; exit 1; }
    if [ -f "$dir/pgbouncer.pid" ] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; then
      echo "postgres://postgres@127.0.0.1:$port"; exit 0
    fi
    # shellcheck source=scripts/lib/ports.sh
    source "$(dirname "$0")/lib/ports.sh"
    require_free_ports "scripts/pgbouncer-test.sh" ORDERLY_TEST_PGBOUNCER_PORT="$port" || exit 1
    rm -rf "$dir"; mkdir -p "$dir"
    echo '"postgres" ""' >"$dir/userlist.txt"
    cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 4000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    as_owner pgbouncer -d "$dir/pgbouncer.ini"
    for _ in $(seq 1 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "postgres://postgres@127.0.0.1:$port"; exit 0; }
      sleep 0.1
    done
    echo "pgbouncer did not start; see $dir/pgbouncer.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start <postgres port> | stop" >&2; exit 2 ;;
esac
