#!/usr/bin/env bash
# Stage "canary analysis": evaluates the production AnalysisTemplate's own queries (read from the rendered manifest
# by promrule.py) against Prometheus for the canary's pods, judged as Argo Rollouts judges an AnalysisRun.
#   PROMETHEUS_URL=http://prometheus:9090 CANARY_HASH=6d8f7c9b5 scripts/ci-canary-analysis.sh
# Exit: 0 promote, 1 abort (roll back), 2 inconclusive (no traffic reached the canary: a human decides).
# Variables:
#   PROMETHEUS_URL      Prometheus base URL (required)
#   RENDERED            rendered manifest with the Rollout and AnalysisTemplate (default: target/deploy/production.yaml,
#                       written by ci-deploy.sh)
#   CANARY_HASH         pod-template-hash of the canary (default: the Rollout's status.currentPodHash via kubectl)
#   STABLE_HASH         pod-template-hash of the stable pods (default: status.stableRS via kubectl, when available)
#   ROLLOUT, NAMESPACE  for those kubectl look-ups (default: orderly, and the Rollout's namespace in RENDERED)
#   ANALYSIS_ARGS       more template args, space-separated NAME=VALUE
#   ANALYSIS_INTERVAL, ANALYSIS_COUNT, ANALYSIS_INITIAL_DELAY   replace the metrics' schedule (queries unchanged)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${PROMETHEUS_URL:?PROMETHEUS_URL is required}"
rendered=${RENDERED:-target/deploy/production.yaml}
[ -f "$rendered" ] || { echo "ci-canary-analysis: $rendered not found (run ci-deploy.sh first)" >&2; exit 1; }
rollout=${ROLLOUT:-orderly}
namespace=${NAMESPACE:-$(python3 -c 'import sys, yaml
print(next((d["metadata"].get("namespace", "default") for d in yaml.safe_load_all(open(sys.argv[1]))
            if d and d.get("kind") == "Rollout"), "default"))' "$rendered")}
if [ -z "${CANARY_HASH:-}" ]; then
  CANARY_HASH=$(kubectl -n "$namespace" get rollout "$rollout" -o jsonpath='{.status.currentPodHash}')
  STABLE_HASH=${STABLE_HASH:-$(kubectl -n "$namespace" get rollout "$rollout" -o jsonpath='{.status.stableRS}')}
fi

args=(--prometheus "$PROMETHEUS_URL" --canary-hash "$CANARY_HASH")
[ -z "${STABLE_HASH:-}" ] || args+=(--stable-hash "$STABLE_HASH")
for kv in ${ANALYSIS_ARGS:-}; do args+=(--arg "$kv"); done
[ -z "${ANALYSIS_INTERVAL:-}" ] || args+=(--interval "$ANALYSIS_INTERVAL")
[ -z "${ANALYSIS_COUNT:-}" ] || args+=(--count "$ANALYSIS_COUNT")
[ -z "${ANALYSIS_INITIAL_DELAY:-}" ] || args+=(--initial-delay "$ANALYSIS_INITIAL_DELAY")
exec python3 scripts/canary-analysis.py "$rendered" "${args[@]}"
