#!/usr/bin/env bash
# Schemathesis (4.32, deploy/requirements-schemathesis.txt) against the running server and its own OpenAPI
# document: SQLite and PostgreSQL, each with a staff token and with a customer token, so four runs. Each run gets
# a fresh server on free loopback ports and a fresh database, seeded with products and stock through the API.
#
#   ORDERLY_BIN                binary to test (default: the release static binary scripts/build-image.sh builds)
#   ORDERLY_TEST_DATABASE_URL  admin URL of a PostgreSQL cluster (scripts/pg-test.sh start); required
#   ST_OUT_DIR                 where each run's full output, server log and JUnit report go (default: a temp dir)
#   ST_MAX_EXAMPLES            examples per operation and phase (default 100, the minimum we accept)
#   ST_SEED                    Hypothesis seed (default 20261201), for reproducible runs
#   ST_WORKERS                 schemathesis workers (default 1: on Python 3.11 two workers race in ast.parse inside
#                              Hypothesis and abort operations with "AST constructor recursion depth mismatch")
#   ST_RUN_TIMEOUT             seconds after which a run is interrupted (SIGINT: it still prints its report); 300
#   ST_ONLY                    run only the combinations matching this regex, e.g. 'sqlite-staff'
#   ST_ARGS                    more `schemathesis run` options, word-split, e.g. '--include-path /v1/orders'
# Exits non-zero if any run reports a failure or an error.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

bin="${ORDERLY_BIN:-${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release/orderly}"
[ -x "$bin" ] || { echo "schemathesis: $bin is not an executable (set ORDERLY_BIN)" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
admin_url="${ORDERLY_TEST_DATABASE_URL:?set ORDERLY_TEST_DATABASE_URL (scripts/pg-test.sh start)}"
max_examples="${ST_MAX_EXAMPLES:-100}"
seed="${ST_SEED:-20261201}"
workers="${ST_WORKERS:-1}"
run_timeout="${ST_RUN_TIMEOUT:-300}"
only="${ST_ONLY:-.}"
read -r -a extra_args <<<"${ST_ARGS:-}"
schemathesis=$(command -v schemathesis || true)
[ -n "$schemathesis" ] || { echo "schemathesis: not installed (pip install -r deploy/requirements-schemathesis.txt)" >&2; exit 2; }
"$schemathesis" --version | grep -q 'version 4\.32\.5$' \
  || echo "schemathesis: warning: $("$schemathesis" --version), expected 4.32.5" >&2

work=$(mktemp -d /tmp/orderly-schemathesis.XXXXXX)
out="${ST_OUT_DIR:-$(mktemp -d /tmp/orderly-schemathesis-out.XXXXXX)}"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# A fixed HS256 secret (32+ bytes), known to both the server and `orderly token`.
# Test data: generated orders name the seeded catalog (see the file).
export SCHEMATHESIS_HOOKS="$repo/scripts/schemathesis_hooks.py"
export ORDERLY_JWT_SECRET="schemathesis-hs256-secret-0123456789abcdef"
export ORDERLY_ENV=development ORDERLY_LOG_LEVEL=warn
# Stopped at the end of each run: no load balancer to wait for.
export ORDERLY_SHUTDOWN_DELAY_MS=0 ORDERLY_DRAIN_TIMEOUT_MS=2000
# The fuzzer sends thousands of requests from one token and places orders without paying: no limits or cap.
export ORDERLY_RATE_LIMIT_CUSTOMER_PER_SEC=0 ORDERLY_RATE_LIMIT_STAFF_PER_SEC=0 ORDERLY_RATE_LIMIT_IP_PER_SEC=0
export ORDERLY_MAX_OPEN_UNPAID_ORDERS_PER_CUSTOMER=0
unset ORDERLY_DATABASE_URL ORDERLY_NATS_URL ORDERLY_CONFIG_FILE

server_pid=""
database=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
  if [ -n "$database" ]; then
    psql -q -X "$admin_url" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
    database=""
  fi
}
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server BACKEND NAME: a fresh server with a fresh database; sets server_pid, port.
start_server() {
  local backend=$1 name=$2 admin_port dir="$work/$2"
  mkdir -p "$dir"
  port=$(free_port)
  admin_port=$(free_port)
  while [ "$admin_port" = "$port" ]; do admin_port=$(free_port); done
  if [ "$backend" = postgres ]; then
    database="orderly_st_${name//-/_}_$$"
    psql -q -X -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE \"$database\"" >/dev/null
    export ORDERLY_DATABASE_URL="${admin_url%/*}/$database"
  else
    unset ORDERLY_DATABASE_URL
    export ORDERLY_SQLITE_PATH="$dir/orderly.db"
  fi
  # Started from its own directory: nothing it might write lands in the repository.
  (cd "$dir" && ORDERLY_LISTEN="127.0.0.1:$port" ORDERLY_ADMIN_LISTEN="127.0.0.1:$admin_port" \
    exec "$bin" serve) >"$out/$name.server.log" 2>&1 &
  server_pid=$!
  local _
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$admin_port/readyz" 2>/dev/null; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "schemathesis: $name: the server did not become ready (log: $out/$name.server.log)" >&2
  tail -n 20 "$out/$name.server.log" >&2
  return 1
}

token() { "$bin" token --sub "$1" --scope "$2" | tail -n 1; }

# Products in every currency orders may use, with plenty of stock, so that generated orders can succeed.
seed_catalog() {
  local staff=$1 sku code
  for sku in OUD-ROYAL-12ML MUSK-TAHARA-6ML BAKHOOR-50G; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$port/v1/products/$sku" \
      -H "Authorization: Bearer $staff" -H 'Content-Type: application/json' \
      -d '{"name_en":"Test '"$sku"'","name_ar":"منتج '"$sku"'","tax_class":"standard","active":true,"prices":[
            {"amount_minor":1235,"currency":"KWD"},{"amount_minor":1500,"currency":"BHD"},
            {"amount_minor":1500,"currency":"OMR"},{"amount_minor":15000,"currency":"AED"},
            {"amount_minor":15000,"currency":"SAR"},{"amount_minor":15000,"currency":"QAR"}]}')
    case "$code" in 200|201) ;; *) echo "schemathesis: seeding product $sku: HTTP $code" >&2; return 1 ;; esac
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$port/v1/stock/$sku" \
      -H "Authorization: Bearer $staff" -H 'Content-Type: application/json' -d '{"on_hand":1000000}')
    [ "$code" = 200 ] || { echo "schemathesis: seeding stock $sku: HTTP $code" >&2; return 1; }
  done
}

staff_scopes="orders:read orders:write catalog:write stock:write audit:read"
customer_scopes="orders:read:own orders:write:own"
phases=examples,coverage,fuzzing,stateful
status=0
summaries=()
total_start=$SECONDS

for backend in sqlite postgres; do
  for who in staff customer; do
    name="$backend-$who"
    [[ "$name" =~ $only ]] || continue
    start_server "$backend" "$name"
    staff_token=$(token schemathesis-staff "$staff_scopes")
    seed_catalog "$staff_token"
    if [ "$who" = staff ]; then tok=$staff_token; else tok=$(token cust-42 "$customer_scopes"); fi

    args=(--config-file "$repo/schemathesis.toml" --no-color run "http://127.0.0.1:$port/openapi.json"
      --checks all --phases "$phases" --max-examples "$max_examples"
      --seed "$seed" --workers "$workers" --request-timeout 10 --continue-on-failure
      --report junit --report-junit-path "$out/$name.junit.xml" "${extra_args[@]}")
    echo "== schemathesis $name: schemathesis ${args[*]} -H 'Authorization: Bearer <$who token>'"
    start=$SECONDS
    # SIGINT first: schemathesis then stops and prints its report, including what it found so far.
    set +e
    timeout --signal=INT --kill-after=30 "$run_timeout" \
      "$schemathesis" "${args[@]}" -H "Authorization: Bearer $tok" 2>&1 | tee "$out/$name.txt"
    rc=${PIPESTATUS[0]}
    set -e
    elapsed=$((SECONDS - start))
    stop_server

    # The closing line, e.g. "==== 12 failures, 2 errors, 20 passed in 95.31s ====".
    last=$(grep -E '^=+ .* in [0-9.]+s =+$' "$out/$name.txt" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//' || true)
    case "$rc" in
      0) verdict=ok ;;
      124) verdict="TIMED OUT after ${run_timeout}s"; status=1 ;;
      *) verdict="FAILED (exit $rc)"; status=1 ;;
    esac
    summaries+=("schemathesis $name: $verdict: ${last:-no summary line} [${elapsed}s] ($out/$name.txt)")
    echo "${summaries[-1]}"
  done
done

echo "== schemathesis summary (${#summaries[@]} runs, $((SECONDS - total_start))s)"
printf '%s\n' "${summaries[@]}"
exit "$status"
