#!/usr/bin/env bash
# Stage "rollback": the canary failed its analysis (or a human said no). Abort the Argo Rollout: all traffic goes
# back to the stable ReplicaSet and the canary is scaled down. With STABLE_IMAGE_REF, the Rollout's spec is then set
# back to the stable digest (ci-deploy.sh), so it is Healthy again instead of Degraded.
#   NAMESPACE=orderly STABLE_IMAGE_REF=registry.example.com/orderly@sha256:... scripts/ci-rollback.sh
# Variables:
#   NAMESPACE          the Rollout's namespace (default: orderly)
#   ROLLOUT            the Rollout's name (default: orderly)
#   STABLE_IMAGE_REF   optional: REPO@sha256 of the release to return to (e.g. the last promoted one)
#   OVERLAY            for that re-deploy (default: production)
#   DRY_RUN            1: print the commands instead of running them
#   KUBECONFIG         secret: the cluster credentials
set -euo pipefail
cd "$(dirname "$0")/.."

ns=${NAMESPACE:-orderly} rollout=${ROLLOUT:-orderly}
run() { if [ "${DRY_RUN:-0}" = 1 ]; then echo "DRY_RUN: $*"; else "$@"; fi; }

if kubectl argo rollouts version >/dev/null 2>&1; then
  run kubectl argo rollouts abort -n "$ns" "$rollout"
else
  run kubectl -n "$ns" patch rollout "$rollout" --subresource=status --type=merge -p '{"status":{"abort":true}}'
fi
echo "aborted rollout $ns/$rollout$([ "${DRY_RUN:-0}" != 1 ] || echo " (dry run)"): traffic is on the stable pods"
if [ -n "${STABLE_IMAGE_REF:-}" ]; then
  OVERLAY=${OVERLAY:-production} IMAGE_REF=$STABLE_IMAGE_REF DRY_RUN=${DRY_RUN:-0} scripts/ci-deploy.sh
fi
