#!/usr/bin/env bash
# What the benchmark runs besides Orderly: a PostgreSQL server with pgbench, wrk, taskset, ss (and PgBouncer with
# BENCH_PGBOUNCER=1). Installs what is missing
# from Debian's packages when run as root (make bench / make bench-quick call it first); otherwise names it.
set -euo pipefail
missing=()
# pgbench ships with the server (/usr/bin/pgbench is only a wrapper that may point at nothing).
ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || missing+=(postgresql)
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
command -v psql >/dev/null || missing+=(postgresql-client)
# pg_trgm (search, migration 0006) and auto_explain (bench/scale.py's plans).
ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1 || missing+=(postgresql-contrib)
command -v ss >/dev/null || missing+=(iproute2)
if [ -n "${BENCH_PGBOUNCER:-}" ] && [ "${BENCH_PGBOUNCER}" != 0 ]; then
  command -v pgbouncer >/dev/null || missing+=(pgbouncer)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "the benchmark needs: ${missing[*]} (Debian packages)" >&2
  exit 1
fi
