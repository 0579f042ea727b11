#!/usr/bin/env bash
# Throwaway PostgreSQL for the benchmark, with a fixed configuration (see RESULTS.md "Database configuration").
#   bench/pg.sh start|stop   (port: BENCH_PG_PORT, default 55450; shared_buffers: BENCH_PG_SHARED_BUFFERS, default
#   512MB, the size every published figure used unless its run says otherwise)
# Durability: fsync=on and full_page_writes=on (crash-safe), synchronous_commit=off (a commit does not wait for
# its WAL flush: at most ~3 x wal_writer_delay of acknowledged commits can be lost on an OS crash). The same
# setting applies to pgbench and to Orderly, so the ratio compares CPU and round trips, not the disk.
set -euo pipefail
port="${BENCH_PG_PORT:-55450}"
shared_buffers="${BENCH_PG_SHARED_BUFFERS:-512MB}"
dir="/tmp/orderly-bench-pg-$port"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  start)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    # shellcheck source=scripts/lib/ports.sh
    source "$(dirname "$0")/../scripts/lib/ports.sh"
    require_free_ports "bench/pg.sh" BENCH_PG_PORT="$port" || exit 1
    rm -rf "$dir"; mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 start -o "-p $port -k /tmp \
      -c listen_addresses=127.0.0.1 -c max_connections=100 -c shared_buffers=$shared_buffers -c work_mem=8MB \
      -c fsync=on -c full_page_writes=on -c synchronous_commit=off -c wal_level=minimal -c max_wal_senders=0 \
      -c max_wal_size=8GB -c checkpoint_timeout=30min -c jit=off" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop) as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$dir" ;;
esac
