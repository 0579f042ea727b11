#!/usr/bin/env bash
# The rollout rehearsal (`make rehearse`), on this machine's Docker engine, everything on loopback, about 2 minutes:
#   1. four releases (v1, v2, v3-good, v3-bad: orderly:dev with a release label) pushed with ci-push.sh to a local
#      registry, rendered with `DRY_RUN=1 ci-deploy.sh` (production overlay, image by digest), pulled by digest;
#   2. PostgreSQL, Prometheus scraping every replica, HAProxy checking /readyz (the Kubernetes Service's stand-in);
#   3. v1 x 3 under steady wrk load (every status checked by the client); a rolling update to v2, one replica at a
#      time, each new replica in rotation before an old one gets SIGTERM;
#   4. two canaries run the same way: 10% of traffic, ci-canary-analysis.sh evaluates the AnalysisTemplate's
#      queries for the canary's pod-template-hash, and its exit code alone decides promote or roll back;
#   5. rehearsal/summary.py prints the tables and the REHEARSAL line, and fails on any lost request outside the
#      rolled-back canary's window, a replica that did not exit 0, or a canary decided the wrong way.
# Everything it starts is stopped on exit; logs stay in $REH_WORK.
# Variables (all optional): REH_WORK (target/rehearsal), REH_K8S_DIR (deploy/k8s), REH_PG_PORT (55440),
#   REH_REGISTRY_PORT (15000), REH_LB_PORT (18080), REH_HAPROXY_ADMIN_PORT (18099), REH_PROM_PORT (19090),
#   REH_API_BASE / REH_ADMIN_BASE (18100 / 19100: slot N listens on BASE+N), REH_CONNECTIONS (6),
#   REH_DELAY_MS (25: pause between one connection's requests), REH_ANALYSIS_INTERVAL (5s), REH_ANALYSIS_COUNT (4),
#   REH_BAD_GRANTS (read: v3-bad may read but not write; none: it may read nothing, so all its requests fail).
#   REH_SHUTDOWN_DELAY_MS (unset: releases/common.env's 3000; 0 shows what the delay is for: lost requests).
# Needs: docker (image orderly:dev, built by scripts/build-image.sh when missing), docker-registry, postgresql,
#   prometheus, haproxy, wrk, kubectl, curl, python3 with PyYAML.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh
# shellcheck source=rehearsal/setup.sh
source rehearsal/setup.sh
# shellcheck source=rehearsal/rollout.sh
source rehearsal/rollout.sh

preflight
start_infrastructure
publish_releases v1 v2 v3-good v3-bad
start_balancer_and_monitoring

for _ in 1 2 3; do start_replica v1 "$STABLE_WEIGHT"; done
STABLE=v1
seed_data
# The pipeline's smoke stage, through the load balancer as through the ingress.
BASE_URL=$LB_URL SMOKE_TOKEN=$TOKEN SMOKE_TIMEOUT=10 scripts/ci-smoke.sh >>"$WORK/logs/smoke.log"
phase_start "v1 x3 under load"
start_load
sleep 10
phase_end "v1 x3 under load"

phase_start "rolling update v1 -> v2"
rolling_update v2
phase_end "rolling update v1 -> v2"

# The same steps for both: which one is bad is for the analysis to find out.
for release in v3-good v3-bad; do
  canary "$release"
done

phase_start "steady after canaries"
sleep 8
phase_end "steady after canaries"
stop_load
python3 rehearsal/summary.py "$WORK"
