#!/usr/bin/env bash
# Stage "deploy": render a kustomize overlay with the orderly image set to a digest reference, then apply it in
# order: configuration, the migration Job (waited for), the workloads. DRY_RUN=1 only renders (no cluster needed).
#   OVERLAY=staging IMAGE_REF=registry.example.com/orderly@sha256:... scripts/ci-deploy.sh
# Variables:
#   OVERLAY          staging | production (required): deploy/k8s/overlays/$OVERLAY
#   IMAGE_REF        REPO@sha256:DIGEST (default: the content of $IMAGE_REF_FILE, written by ci-push.sh)
#   IMAGE_REF_FILE   default target/image-ref
#   RENDERED         where the rendered manifest goes (default target/deploy/$OVERLAY.yaml; a CI artifact)
#   DRY_RUN          1: render and check only, apply nothing
#   K8S_DIR          default deploy/k8s
#   ROLLOUT_TIMEOUT  how long to wait for the migration Job and a Deployment rollout (default 10m)
#   KUBECONFIG       secret: the cluster credentials (not needed with DRY_RUN=1)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${OVERLAY:?OVERLAY is required: staging or production}"
ref=${IMAGE_REF:-$(cat "${IMAGE_REF_FILE:-target/image-ref}")}
[[ $ref =~ ^([^@]+)@(sha256:[0-9a-f]{64})$ ]] || { echo "ci-deploy: IMAGE_REF must be REPO@sha256:<64 hex>, got '$ref'" >&2; exit 1; }
repo=${BASH_REMATCH[1]} digest=${BASH_REMATCH[2]}
overlay="${K8S_DIR:-deploy/k8s}/overlays/$OVERLAY"
rendered=${RENDERED:-target/deploy/$OVERLAY.yaml}
work="target/deploy/kustomize-$OVERLAY"
timeout=${ROLLOUT_TIMEOUT:-10m}

# A throwaway kustomization on top of the overlay, replacing the image the overlay renders (whatever its tag).
rm -rf "$work" && mkdir -p "$work" "$(dirname "$rendered")"
kubectl kustomize "$overlay" >"$work/overlay.yaml"
name=$(scripts/manifest-images.py "$work/overlay.yaml" --repo orderly --names)
[ "$(wc -l <<<"$name")" = 1 ] || { echo "ci-deploy: several orderly image names in $overlay: $name" >&2; exit 1; }
cat >"$work/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [overlay.yaml]
images:
  - name: $name
    newName: $repo
    digest: $digest
YAML
kubectl kustomize "$work" >"$rendered"
scripts/manifest-images.py "$rendered" --repo orderly | while read -r workload container image; do
  [ "$image" = "$ref" ] || { echo "ci-deploy: $workload/$container has $image, not $ref" >&2; exit 1; }
  echo "$workload $container -> $image"
done
echo "rendered $overlay with $ref to $rendered"
[ "${DRY_RUN:-0}" = 1 ] && { echo "DRY_RUN=1: nothing applied"; exit 0; }

# Order: everything the pods and the migration need (namespace, service account, config, services, policies), then
# the migration Job, waited for (its pod template is immutable: the previous run is deleted first), then the
# workloads. So no pod of the new release starts before the schema is current.
python3 -c 'import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
workloads = {"Deployment", "Rollout", "StatefulSet", "DaemonSet"}
groups = {"1-setup": lambda k: k not in workloads and k != "Job", "2-jobs": lambda k: k == "Job",
          "3-workloads": lambda k: k in workloads}
for name, keep in groups.items():
    yaml.safe_dump_all([d for d in docs if keep(d["kind"])], open(f"{sys.argv[2]}/{name}.yaml", "w"), sort_keys=False)' \
  "$rendered" "$work"
kubectl apply -f "$work/1-setup.yaml"
if grep -q '^kind: Job' "$work/2-jobs.yaml"; then
  kubectl delete --ignore-not-found --wait=true -f "$work/2-jobs.yaml"
  kubectl apply -f "$work/2-jobs.yaml"
  kubectl wait --for=condition=complete --timeout="$timeout" -f "$work/2-jobs.yaml"
fi
kubectl apply -f "$work/3-workloads.yaml"
# A Deployment is waited for here; a Rollout's canary is judged by the next stages (canary analysis, promote).
python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Deployment" and d["spec"].get("replicas", 1) != 0:
        print(d["metadata"].get("namespace", "default"), d["metadata"]["name"])' "$work/3-workloads.yaml" |
  while read -r ns deployment; do kubectl -n "$ns" rollout status "deployment/$deployment" --timeout="$timeout"; done
