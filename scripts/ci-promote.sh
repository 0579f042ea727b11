#!/usr/bin/env bash
# Stage "promote": the canary passed its analysis; promote the Argo Rollout fully (every remaining step skipped,
# the canary ReplicaSet becomes stable) and wait until it is healthy.
#   NAMESPACE=orderly scripts/ci-promote.sh
# Variables:
#   NAMESPACE        the Rollout's namespace (default: orderly)
#   ROLLOUT          the Rollout's name (default: orderly)
#   ROLLOUT_TIMEOUT  how long to wait for it to be healthy (default 10m)
#   DRY_RUN          1: print the commands instead of running them
#   KUBECONFIG       secret: the cluster credentials
# Uses the kubectl-argo-rollouts plugin when installed, else patches the Rollout's status as the plugin does.
set -euo pipefail

ns=${NAMESPACE:-orderly} rollout=${ROLLOUT:-orderly} timeout=${ROLLOUT_TIMEOUT:-10m}
run() { if [ "${DRY_RUN:-0}" = 1 ]; then echo "DRY_RUN: $*"; else "$@"; fi; }

if kubectl argo rollouts version >/dev/null 2>&1; then
  run kubectl argo rollouts promote --full -n "$ns" "$rollout"
  run kubectl argo rollouts status -n "$ns" "$rollout" --timeout "$timeout"
else
  run kubectl -n "$ns" patch rollout "$rollout" --subresource=status --type=merge \
    -p '{"status":{"promoteFull":true,"pauseConditions":null}}'
  run kubectl -n "$ns" wait rollout "$rollout" --for=jsonpath='{.status.phase}'=Healthy --timeout="$timeout"
fi
echo "promoted rollout $ns/$rollout$([ "${DRY_RUN:-0}" != 1 ] || echo " (dry run)")"
