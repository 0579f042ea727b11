# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings here are read by the files that source this one
# The rehearsal's settings, bookkeeping and set-up, sourced by scripts/rehearse.sh (which documents the variables).
# rehearsal/rollout.sh has the moves. A "replica" is one container on the host network in a load balancer slot N:
# API on 127.0.0.1:API_BASE+N, admin on ADMIN_BASE+N.

WORK=${REH_WORK:-target/rehearsal}
K8S_DIR=${REH_K8S_DIR:-deploy/k8s}
PG_PORT=${REH_PG_PORT:-55440}
REGISTRY="127.0.0.1:${REH_REGISTRY_PORT:-15000}"
LB_PORT=${REH_LB_PORT:-18080}
HAPROXY_ADMIN_PORT=${REH_HAPROXY_ADMIN_PORT:-18099}
PROM_PORT=${REH_PROM_PORT:-19090}
API_BASE=${REH_API_BASE:-18100}
ADMIN_BASE=${REH_ADMIN_BASE:-19100}
SLOTS=8
REPLICAS=3
STABLE_WEIGHT=30 # three stable replicas at 30 and a canary at 10: the canary gets 10% of requests
CANARY_WEIGHT=10
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT"
LB_URL="http://127.0.0.1:$LB_PORT"
PG_ADMIN="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
RUN="reh$$"

declare -A REF HASH RENDERED
declare -a SLOT_RELEASE SLOT_NAME
PIDS=()
LAST_SLOT=
STABLE=
STARTED=$(date +%s.%N)

# ---- bookkeeping --------------------------------------------------------------------------------------------------
log() { printf '[%6.1fs] %s\n' "$(bc_elapsed)" "$*"; }
bc_elapsed() { awk -v s="$STARTED" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }
event() { printf '%s\t%s\t%s\t%s\n' "$(date +%s.%N)" "$1" "$2" "${3:-}" >>"$WORK/events.tsv"; }
phase_start() { event phase_start "$1"; log "== $1"; }
phase_end() { event phase_end "$1"; }
die() {
  event problem - "$*"
  echo "REHEARSAL FAILED: $*" >&2
  exit 1
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds; dies after SECONDS.
wait_for() {
  local what=$1 deadline=$(($(date +%s) + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $what"
    sleep 0.2
  done
}

cleanup() {
  local status=$?
  set +e
  [ -z "${WRK_PID:-}" ] || kill "$WRK_PID" 2>/dev/null
  docker ps -aq --filter "label=io.orderly.rehearsal=$RUN" | xargs -r docker rm -f -v >/dev/null 2>&1
  docker image rm "${REF[@]}" >/dev/null 2>&1
  docker image ls -q orderly-rehearsal | sort -u | xargs -r docker image rm -f >/dev/null 2>&1
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  ORDERLY_TEST_PG_PORT=$PG_PORT scripts/pg-test.sh stop
  log "stopped everything the rehearsal started (exit $status, $(bc_elapsed) s in all); logs in $WORK"
  exit "$status"
}

# ---- set-up -------------------------------------------------------------------------------------------------------
preflight() {
  local tool
  for tool in docker docker-registry prometheus haproxy wrk kubectl curl psql python3; do
    command -v "$tool" >/dev/null || die "$tool not found (see docs/pipeline.md, 'Rehearsal prerequisites')"
  done
  python3 -c 'import yaml' || die "python3 has no PyYAML"
  [ -d "$K8S_DIR/overlays/production" ] || die "$K8S_DIR/overlays/production not found"
  local slot slots=()
  for slot in $(seq 1 "$SLOTS"); do
    slots+=("REH_API_BASE+$slot=$((API_BASE + slot))" "REH_ADMIN_BASE+$slot=$((ADMIN_BASE + slot))")
  done
  require_free_ports "make rehearse" REH_PG_PORT="$PG_PORT" REH_REGISTRY_PORT="${REGISTRY##*:}" \
    REH_LB_PORT="$LB_PORT" REH_HAPROXY_ADMIN_PORT="$HAPROXY_ADMIN_PORT" REH_PROM_PORT="$PROM_PORT" "${slots[@]}" ||
    exit 1
  docker image inspect orderly:dev >/dev/null 2>&1 || { log "no orderly:dev image: building it"; scripts/build-image.sh; }
  rm -rf "$WORK" && mkdir -p "$WORK/targets" "$WORK/logs"
  : >"$WORK/events.tsv"
  event phase_start "set-up"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

start_infrastructure() {
  log "registry on $REGISTRY, PostgreSQL on 127.0.0.1:$PG_PORT"
  REGISTRY_HTTP_ADDR=$REGISTRY REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$PWD/$WORK/registry" \
    docker-registry serve rehearsal/registry.yml >"$WORK/logs/registry.log" 2>&1 &
  PIDS+=($!)
  ORDERLY_TEST_PG_PORT=$PG_PORT scripts/pg-test.sh stop
  ORDERLY_TEST_PG_PORT=$PG_PORT scripts/pg-test.sh start >/dev/null
  # The application role owns the schema; orderly_v3 is v3-bad's role, whose write grants were never applied.
  # orderly_app (the role migration 0004 grants to) is created by the administrator, as in production
  # (docs/operations.md, "Database roles"): the owner migrates without CREATEROLE.
  psql -q -v ON_ERROR_STOP=1 "$PG_ADMIN" -c 'CREATE ROLE orderly LOGIN' -c 'CREATE ROLE orderly_v3 LOGIN' \
    -c 'CREATE ROLE orderly_app NOLOGIN' -c 'CREATE DATABASE orderly OWNER orderly'
  wait_for "the registry" 20 curl -fsS "http://$REGISTRY/v2/"
}

# publish_releases NAME...: build, push (ci-push.sh), render by digest (ci-deploy.sh), pull by digest.
publish_releases() {
  local release commit ref image
  commit=$(git rev-parse --short HEAD)
  for release in "$@"; do
    docker build -q -f rehearsal/release.Dockerfile --build-arg RELEASE="$release" -t "orderly-rehearsal:$release" \
      rehearsal/ >/dev/null
    ref=$(REGISTRY=$REGISTRY SOURCE_IMAGE="orderly-rehearsal:$release" IMAGE_TAG="$commit-$release" \
      IMAGE_REF_FILE="$WORK/$release.ref" scripts/ci-push.sh 2>>"$WORK/logs/push.log")
    RENDERED[$release]="$WORK/deploy-$release.yaml"
    K8S_DIR=$K8S_DIR OVERLAY=production DRY_RUN=1 IMAGE_REF=$ref RENDERED="${RENDERED[$release]}" \
      scripts/ci-deploy.sh >>"$WORK/logs/deploy.log"
    # What runs is what the rendered manifest names: the first workload's image, a digest reference.
    image=$(scripts/manifest-images.py "${RENDERED[$release]}" --repo orderly | awk '$1 !~ /^Job\// { print $3; exit }')
    [[ $image == "$REGISTRY/orderly@sha256:"* && $image == "$ref" ]] || die "$release renders as $image, not $ref"
    docker rmi "$REGISTRY/orderly:$commit-$release" >/dev/null
    docker pull -q "$image" >/dev/null
    REF[$release]=$image
    # Argo's pod-template-hash changes with anything in the pod template: here, the image and the release config.
    HASH[$release]=$(cat <(echo "$image") "rehearsal/releases/$release.env" | sha256sum | cut -c1-10)
    sed "s/\${REH_PG_PORT}/$PG_PORT/g" "rehearsal/releases/$release.env" >"$WORK/$release.env"
    event image "$release" "$image"
    log "pushed and rendered $release: $image (pod-template-hash ${HASH[$release]})"
  done
  log "registry holds: $(curl -fsS "http://$REGISTRY/v2/orderly/tags/list")"
  cp rehearsal/releases/common.env "$WORK/common.env"
  NAMESPACE=$(python3 -c 'import sys, yaml
print(next(d["metadata"].get("namespace", "default") for d in yaml.safe_load_all(open(sys.argv[1]))
           if d and d.get("kind") == "Rollout"))' "${RENDERED[v1]}")
  ORDERLY_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export ORDERLY_JWT_SECRET
  log "migrating with v1 (the migration Job before the rollout)"
  # The image runs in production, whose configuration needs a strong key and the seller (common.env) even to
  # migrate.
  docker run --rm --network host -e ORDERLY_DATABASE_URL="postgres://orderly@127.0.0.1:$PG_PORT/orderly" \
    --env-file "$WORK/common.env" -e ORDERLY_JWT_SECRET "${REF[v1]}" migrate >"$WORK/logs/migrate.log" 2>&1
  # v3-bad may read (so /readyz and every read pass) but not write: order placements fail with 500.
  # REH_BAD_GRANTS=none leaves it the migration table only, so all its data requests fail.
  local grant='GRANT SELECT ON ALL TABLES IN SCHEMA public TO orderly_v3'
  [ "${REH_BAD_GRANTS:-read}" = read ] || grant='GRANT SELECT ON _sqlx_migrations TO orderly_v3'
  psql -q -v ON_ERROR_STOP=1 "postgres://orderly@127.0.0.1:$PG_PORT/orderly" -c "$grant"
}

start_balancer_and_monitoring() {
  local n
  cp rehearsal/haproxy.cfg "$WORK/haproxy.cfg"
  for n in $(seq 1 $SLOTS); do
    echo "    server s$n 127.0.0.1:$((API_BASE + n)) port $((ADMIN_BASE + n))" >>"$WORK/haproxy.cfg"
  done
  REH_LB_PORT=$LB_PORT REH_HAPROXY_ADMIN_PORT=$HAPROXY_ADMIN_PORT \
    haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/logs/haproxy.log" 2>&1 &
  PIDS+=($!)
  cp rehearsal/prometheus.yml "$WORK/prometheus.yml"
  prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/logs/prometheus.log" 2>&1 &
  PIDS+=($!)
  wait_for "Prometheus" 30 curl -fsS "$PROMETHEUS_URL/-/ready"
  wait_for "HAProxy" 10 hap "show info"
  log "HAProxy on $LB_URL (runtime API :$HAPROXY_ADMIN_PORT), Prometheus on $PROMETHEUS_URL"
  event phase_end "set-up"
}

