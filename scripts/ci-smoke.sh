#!/usr/bin/env bash
# Stage "smoke": a deployed Orderly answers through its public URL: the OpenAPI document, problem+json for an
# unauthenticated request, and (given a token) an authenticated read. Retries for up to SMOKE_TIMEOUT seconds.
#   BASE_URL=https://orders.staging.example.com SMOKE_TOKEN=... scripts/ci-smoke.sh
# Variables:
#   BASE_URL       the API's base URL (required)
#   SMOKE_TOKEN    secret, optional: a bearer token with orders:read for GET /v1/orders
#   ADMIN_URL      optional: the admin port's base URL, for /readyz (not reachable through the ingress)
#   SMOKE_TIMEOUT  seconds to keep trying (default 60)
set -euo pipefail

: "${BASE_URL:?BASE_URL is required}"
base=${BASE_URL%/}
deadline=$((SECONDS + ${SMOKE_TIMEOUT:-60}))

# expect STATUS URL [curl args...]: retries until the status matches or the deadline passes.
expect() {
  local want=$1 url=$2 got
  shift 2
  while :; do
    got=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null) || got=000
    [ "$got" = "$want" ] && { echo "ok   $want $url"; return 0; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "FAIL $url: got $got, want $want" >&2; return 1; }
    sleep 2
  done
}

[ -z "${ADMIN_URL:-}" ] || expect 200 "${ADMIN_URL%/}/readyz"
expect 200 "$base/openapi.json"
expect 401 "$base/v1/orders"
curl -sS --max-time 5 "$base/v1/orders" | grep -q '"code"' || { echo "FAIL: 401 without problem+json" >&2; exit 1; }
if [ -n "${SMOKE_TOKEN:-}" ]; then
  expect 200 "$base/v1/orders?limit=1" -H "Authorization: Bearer $SMOKE_TOKEN"
fi
echo "smoke test passed: $base"
