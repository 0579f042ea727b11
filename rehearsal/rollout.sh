# shellcheck shell=bash
# The rehearsal's moves, sourced by scripts/rehearse.sh after rehearsal/setup.sh: the load balancer's runtime API,
# replicas in and out of rotation, the rolling update, the canary and its verdict, the load.

# ---- the load balancer --------------------------------------------------------------------------------------------
# hap COMMAND: one command on HAProxy's runtime API.
hap() {
  local fd reply
  exec {fd}<>"/dev/tcp/127.0.0.1/$HAPROXY_ADMIN_PORT"
  printf '%s\n' "$*" >&"$fd"
  reply=$(cat <&"$fd")
  exec {fd}>&-
  printf '%s\n' "$reply"
}
# lb_status N: UP, DOWN, "DOWN 1/2", MAINT ... (field 18 of `show stat`).
lb_status() { hap "show stat" | awk -F, -v s="s$1" '$1 == "orderly" && $2 == s { print $18 }'; }
lb_up() { [ "$(lb_status "$1")" = UP ]; }
lb_out() { [[ "$(lb_status "$1")" =~ ^(DOWN|MAINT|NOLB) ]]; }
ready() { curl -fsS --max-time 1 "http://127.0.0.1:$((ADMIN_BASE + $1))/readyz"; }
# prom_has QUERY: the query returns at least one series.
prom_has() { curl -fsS "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$1" | grep -q '"result":\[{'; }

# ---- replicas -----------------------------------------------------------------------------------------------------
# start_replica RELEASE WEIGHT: a new replica in a free slot, in rotation when this returns. Sets LAST_SLOT.
start_replica() {
  local release=$1 weight=$2 slot name pod
  for slot in $(seq 1 $SLOTS); do [ -z "${SLOT_RELEASE[$slot]:-}" ] && break; done
  [ -z "${SLOT_RELEASE[$slot]:-}" ] || die "no free slot"
  name="orderly-$release-s$slot-$RUN"
  pod="orderly-${HASH[$release]}-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  docker run -d --name "$name" --label "io.orderly.rehearsal=$RUN" --network host \
    --read-only --cap-drop ALL --security-opt no-new-privileges --stop-timeout 20 \
    --env-file "$WORK/common.env" --env-file "$WORK/$release.env" -e ORDERLY_JWT_SECRET \
    -e "ORDERLY_LISTEN=127.0.0.1:$((API_BASE + slot))" -e "ORDERLY_ADMIN_LISTEN=127.0.0.1:$((ADMIN_BASE + slot))" \
    ${REH_SHUTDOWN_DELAY_MS:+-e "ORDERLY_SHUTDOWN_DELAY_MS=$REH_SHUTDOWN_DELAY_MS"} "${REF[$release]}" >/dev/null
  [ "$(docker inspect -f '{{.Config.Image}}' "$name")" = "${REF[$release]}" ] || die "$name does not run by digest"
  wait_for "$name to be ready" 30 ready "$slot"
  # Labelled as the Prometheus Operator labels a pod; the AnalysisTemplate selects on these.
  printf '[{"targets":["127.0.0.1:%s"],"labels":{"namespace":"%s","pod":"%s","container":"orderly","service":"orderly","endpoint":"admin","rollouts_pod_template_hash":"%s","pod_template_hash":"%s","release":"%s"}}]\n' \
    "$((ADMIN_BASE + slot))" "$NAMESPACE" "$pod" "${HASH[$release]}" "${HASH[$release]}" "$release" \
    >"$WORK/targets/.s$slot.json"
  mv "$WORK/targets/.s$slot.json" "$WORK/targets/s$slot.json"
  hap "set weight orderly/s$slot $weight" >/dev/null
  hap "set server orderly/s$slot state ready" >/dev/null
  wait_for "$name to be in rotation" 15 lb_up "$slot"
  SLOT_RELEASE[slot]=$release SLOT_NAME[slot]=$name LAST_SLOT=$slot
  event replica_ready "$name"
  log "$name ready and in rotation (slot s$slot, weight $weight)"
}

# stop_replica N: SIGTERM by `docker stop`; records when the balancer took it out and when it exited.
stop_replica() {
  local slot=$1 name=${SLOT_NAME[$1]} code
  event replica_sigterm "$name"
  docker stop -t 20 "$name" >/dev/null &
  local stopper=$!
  wait_for "s$slot to leave rotation" 15 lb_out "$slot"
  event replica_out "$name"
  wait "$stopper"
  code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
  event replica_exit "$name" "$code"
  hap "set server orderly/s$slot state maint" >/dev/null
  rm -f "$WORK/targets/s$slot.json"
  docker logs "$name" >"$WORK/logs/$name.log" 2>&1
  docker rm -v "$name" >/dev/null
  SLOT_RELEASE[slot]="" SLOT_NAME[slot]=""
  [ "$code" = 0 ] || die "$name exited $code after SIGTERM"
  log "$name drained and exited 0"
}

slots_of() { local s; for s in $(seq 1 $SLOTS); do [ "${SLOT_RELEASE[$s]:-}" != "$1" ] || echo "$s"; done; }
slots_not_of() {
  local s
  for s in $(seq 1 $SLOTS); do [ -z "${SLOT_RELEASE[$s]:-}" ] || [ "${SLOT_RELEASE[$s]}" = "$1" ] || echo "$s"; done
}

# rolling_update RELEASE: maxSurge 1, maxUnavailable 0: a new replica in rotation, then one old one stopped.
rolling_update() {
  local release=$1 old s
  for s in $(slots_of "$release"); do hap "set weight orderly/s$s $STABLE_WEIGHT" >/dev/null; done
  for old in $(slots_not_of "$release"); do
    [ "$(slots_of "$release" | wc -l)" -ge $REPLICAS ] || start_replica "$release" "$STABLE_WEIGHT"
    stop_replica "$old"
  done
  while [ "$(slots_of "$release" | wc -l)" -lt $REPLICAS ]; do start_replica "$release" "$STABLE_WEIGHT"; done
  STABLE=$release
}

# ---- the canary ---------------------------------------------------------------------------------------------------
# canary RELEASE: 10% of traffic, then ci-canary-analysis.sh decides: exit 0 promote; 1 abort (rolled_back);
# 2, inconclusive, also aborts (never promote what was not shown good) but is recorded as `inconclusive`.
canary() {
  local release=$1 slot rc=0
  phase_start "canary $release (10%, analysis)"
  event window_start "$release"
  start_replica "$release" "$CANARY_WEIGHT"
  slot=$LAST_SLOT
  # Argo would start measuring at once and count the empty answers as inconclusive (inconclusiveLimit allows for
  # it); here the first measurement waits until Prometheus holds three samples of the canary's request counters.
  wait_for "Prometheus to scrape $release" 30 prom_has \
    "max(count_over_time(http_server_request_duration_seconds_count{rollouts_pod_template_hash=\"${HASH[$release]}\"}[1m])) >= 3"
  RENDERED=${RENDERED[$release]} PROMETHEUS_URL=$PROMETHEUS_URL CANARY_HASH=${HASH[$release]} \
    STABLE_HASH=${HASH[$STABLE]} NAMESPACE=$NAMESPACE ANALYSIS_INITIAL_DELAY=0s \
    ANALYSIS_INTERVAL=${REH_ANALYSIS_INTERVAL:-5s} ANALYSIS_COUNT=${REH_ANALYSIS_COUNT:-4} \
    scripts/ci-canary-analysis.sh 2>&1 | tee -a "$WORK/logs/analysis.log" || rc=$?
  event analysis "$release" "$rc"
  phase_end "canary $release (10%, analysis)"
  if [ "$rc" = 0 ]; then
    phase_start "promote $release"
    DRY_RUN=1 NAMESPACE=$NAMESPACE scripts/ci-promote.sh >>"$WORK/logs/promote-rollback.log" # what the cluster gets
    event window_end "$release"
    rolling_update "$release"
    event canary "$release" promoted
    phase_end "promote $release"
    log "analysis passed: $release promoted"
  else
    phase_start "roll back $release"
    DRY_RUN=1 NAMESPACE=$NAMESPACE scripts/ci-rollback.sh >>"$WORK/logs/promote-rollback.log" # what the cluster gets
    # Argo's abort: traffic back to the stable pods at once, then the canary is scaled down.
    hap "set weight orderly/s$slot 0" >/dev/null
    stop_replica "$slot"
    event window_end "$release"
    event canary "$release" "$([ "$rc" = 1 ] && echo rolled_back || echo inconclusive)"
    phase_end "roll back $release"
    log "analysis exit $rc: $release rolled back"
  fi
}

# ---- data and load ------------------------------------------------------------------------------------------------
seed_data() {
  local sku i body
  # `orderly token` is a development tool; the image runs in production unless told otherwise.
  TOKEN=$(docker run --rm -e ORDERLY_ENV=development -e ORDERLY_JWT_SECRET "${REF[v1]}" token --sub rehearsal \
    --scope "orders:read orders:write catalog:write stock:write" --ttl 3600 | tail -n1)
  SKUS="REH-1,REH-2,REH-3,REH-4"
  ORDER_IDS=
  for sku in ${SKUS//,/ }; do
    api PUT "/v1/products/$sku" '{"name_en":"Rehearsal oud","name_ar":"عود","prices":[{"amount_minor":1235,"currency":"KWD"}],"tax_class":"standard","active":true}' >/dev/null
    api PUT "/v1/stock/$sku" '{"on_hand":100000000}' >/dev/null
  done
  for i in $(seq 1 20); do
    body='{"currency":"KWD","ship_to":{"name":"Rehearsal","line1":"Block 1","city":"Salmiya","country":"KW","phone":"+96550000000"},"lines":[{"sku":"REH-1","quantity":1}],"payment_method":"cod"}'
    ORDER_IDS+="${ORDER_IDS:+,}$(api POST /v1/orders "$body" -H "Idempotency-Key: seed-$i" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
  done
  log "seeded 4 products and 20 orders through the load balancer"
}
api() {
  local method=$1 path=$2 body=$3
  shift 3
  curl -sS --fail-with-body --max-time 10 -X "$method" "$LB_URL$path" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$body" "$@"
}

start_load() {
  REH_TOKEN=$TOKEN REH_ORDER_IDS=$ORDER_IDS REH_SKUS=$SKUS REH_DELAY_MS=${REH_DELAY_MS:-25} \
    wrk -t2 -c"${REH_CONNECTIONS:-6}" -d15m --timeout 5s -s rehearsal/load.lua "$LB_URL" >"$WORK/wrk.out" 2>&1 &
  WRK_PID=$!
  log "wrk started: ${REH_CONNECTIONS:-6} connections, ${REH_DELAY_MS:-25} ms between a connection's requests"
}

stop_load() {
  kill -INT "$WRK_PID"
  wait "$WRK_PID" || die "wrk failed: $(tail -n3 "$WORK/wrk.out")"
  WRK_PID=
  log "wrk stopped"
}
