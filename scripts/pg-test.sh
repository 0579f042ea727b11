#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster on loopback for the test suite, and prints its admin URL.
#   scripts/pg-test.sh start   -> prints postgres://postgres@127.0.0.1:<port>/postgres
#   scripts/pg-test.sh stop
# fsync is off: this cluster holds test data only and is deleted afterwards.
set -euo pipefail

port="${ORDERLY_TEST_PG_PORT:-55432}"
dir="${ORDERLY_TEST_PG_DIR:-/tmp/orderly-test-pg-$port}"

bindir() {
  local pg_config
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
  pg_config=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$pg_config" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }
  echo "$pg_config"
}

# PostgreSQL refuses to run as root; use the postgres account when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    bin=$(bindir)
    if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$port/postgres"; exit 0
    fi
    # shellcheck source=scripts/lib/ports.sh
    source "$(dirname "$0")/lib/ports.sh"
    require_free_ports "scripts/pg-test.sh" ORDERLY_TEST_PG_PORT="$port" >&2 || exit 1
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 start \
      -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
