#!/usr/bin/env bash
# Checks deploy/k8s offline: renders every overlay, validates built-in objects for Kubernetes 1.30 and 1.37 and
# custom objects against the CRDs (strictly), runs the policy test, checks that the PrometheusRule and the
# canary queries are the ones promtool checks, and reads the images and pins them the way the pipeline does.
# Needs (installs nothing itself):
#   apt: prometheus (promtool); kubectl with its built-in kustomize (v5)
#   pip: -r deploy/requirements-checks.txt (kubernetes-validate, jsonschema, PyYAML, yamllint)
set -euo pipefail
cd "$(dirname "$0")/.."
k8s=deploy/k8s
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== yamllint"
yamllint --no-warnings -c deploy/yamllint.yaml "$k8s"

echo "== CRD copies match their provenance table"
(cd "$k8s/crds" && sed -n 's/^| \([^ |]*\.yaml\) |.*| \([0-9a-f]\{64\}\) |.*/\2  \1/p' README.md | sha256sum -c --quiet)

echo "== kubectl kustomize"
for target in base overlays/staging overlays/production; do
  name=$(basename "$target")
  kubectl kustomize "$k8s/$target" > "$tmp/$name.yaml"
  echo "$target: $(grep -c '^kind:' "$tmp/$name.yaml") objects"
done

echo "== kubernetes-validate --strict (built-in kinds; Rollout pod templates as Deployments)"
versions=$(python3 scripts/k8s_versions.py 1.30.0 1.37.0)
for name in base staging production; do
  python3 scripts/k8s_validate.py split "$k8s/crds" "$tmp/$name.yaml" "$tmp/$name.builtin.yaml"
  for v in $versions; do
    kubernetes-validate --strict --kubernetes-version "$v" --quiet "$tmp/$name.builtin.yaml" 2>&1 | tee "$tmp/kv.out"
    if grep -q . "$tmp/kv.out"; then echo "$name: not valid for Kubernetes $v" >&2; exit 1; fi
    echo "$name: valid for Kubernetes $v"
  done
done

echo "== custom kinds against the CRD schemas"
python3 scripts/k8s_validate.py crds "$k8s/crds" "$tmp/staging.yaml" "$tmp/production.yaml"

echo "== policy (and its self-test: every rule catches a deliberate regression)"
python3 scripts/k8s_policy.py --self-test staging="$tmp/staging.yaml" production="$tmp/production.yaml"

echo "== PrometheusRule: one source"
# k8s_policy.py above: the rendered object equals deploy/monitoring/prometheusrule.yaml and no other file holds a
# rule; here: the rule file promtool tests is extracted from that same object in the render.
python3 scripts/promrule.py rules "$tmp/production.yaml" > "$tmp/rendered.rules.yaml"
python3 scripts/promrule.py rules deploy/monitoring/prometheusrule.yaml > "$tmp/source.rules.yaml"
python3 -c 'import sys, yaml; a, b = (yaml.safe_load(open(f)) for f in sys.argv[1:]); sys.exit(a != b)' \
  "$tmp/rendered.rules.yaml" "$tmp/source.rules.yaml"
promtool check rules "$tmp/rendered.rules.yaml"

echo "== AnalysisTemplate queries through promtool (Argo {{args.x}} filled in)"
python3 scripts/promrule.py analysis "$tmp/production.yaml" > "$tmp/analysis.rules.yaml"
promtool check rules "$tmp/analysis.rules.yaml"
python3 scripts/promrule.py names deploy/monitoring/metric-names.txt "$tmp/analysis.rules.yaml"

echo "== image listing, as the pipeline reads it (every container of every overlay names an image)"
for name in base staging production; do
  python3 scripts/manifest-images.py "$tmp/$name.yaml" > "$tmp/$name.images"
  echo "$name: $(wc -l < "$tmp/$name.images") containers"
done

echo "== pinning by digest, as the pipeline does"
mkdir -p "$tmp/pin"
cp "$tmp/production.yaml" "$tmp/pin/overlay.yaml"
digest=sha256:$(printf 'orderly' | sha256sum | cut -d' ' -f1)
printf 'resources: [overlay.yaml]\nimages:\n  - name: registry.example.com/orderly/orderly\n    digest: %s\n' \
  "$digest" > "$tmp/pin/kustomization.yaml"
kubectl kustomize "$tmp/pin" | python3 -c '
import sys, yaml
want = "registry.example.com/orderly/orderly@" + sys.argv[1]
pods = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in ("Rollout", "Job")]
images = {c["image"] for d in pods for c in d["spec"]["template"]["spec"]["containers"]}
sys.exit(0 if images == {want} else f"digest pinning gave {images}, want {want}")' "$digest"
echo "Rollout and migration Job both pinned to $digest"
echo "k8s checks passed"
