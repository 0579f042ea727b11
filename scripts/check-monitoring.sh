#!/usr/bin/env bash
# Checks deploy/monitoring: rules, promtool unit tests, prometheus.yml, alertmanager.yml, dashboard PromQL.
# Needs (installs nothing itself):
#   apt: prometheus (promtool), prometheus-alertmanager (amtool)
#   pip: -r deploy/requirements-checks.txt (PyYAML, yamllint)
set -euo pipefail
cd "$(dirname "$0")/.."
mon=deploy/monitoring
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== yamllint"
yamllint --no-warnings -c deploy/yamllint.yaml "$mon"

echo "== rules: extracted from the PrometheusRule, the only copy"
python3 scripts/promrule.py rules "$mon/prometheusrule.yaml" > "$tmp/orderly.rules.yaml"
promtool check rules "$tmp/orderly.rules.yaml"
python3 scripts/promrule.py names "$mon/metric-names.txt" "$tmp/orderly.rules.yaml"
python3 scripts/promrule.py lint "$tmp/orderly.rules.yaml" docs/operations.md "$mon"/tests/*.test.yaml

echo "== promtool test rules"
cp "$mon"/tests/*.test.yaml "$tmp/"
promtool test rules "$tmp"/*.test.yaml

echo "== prometheus.yml loads the rules"
mkdir -p "$tmp/stack/rules"
cp "$mon/prometheus.yml" "$tmp/stack/"
cp "$tmp/orderly.rules.yaml" "$tmp/stack/rules/"
promtool check config "$tmp/stack/prometheus.yml" | tee "$tmp/config.out"
grep -q "SUCCESS: 1 rule files found" "$tmp/config.out"

echo "== alertmanager.yml"
amtool check-config "$mon/alertmanager.yml"
amtool config routes test --config.file="$mon/alertmanager.yml" --verify.receivers=page severity=page
amtool config routes test --config.file="$mon/alertmanager.yml" --verify.receivers=ticket severity=ticket

echo "== dashboard PromQL"
for board in "$mon"/dashboards/*.json; do
  python3 scripts/promrule.py dashboard "$board" > "$tmp/dashboard.rules.yaml"
  promtool check rules "$tmp/dashboard.rules.yaml"
  python3 scripts/promrule.py names "$mon/metric-names.txt" "$tmp/dashboard.rules.yaml" "$tmp/orderly.rules.yaml"
done
# The check must bite: one unbalanced parenthesis in a copy of the dashboard has to fail promtool.
sed '0,/"expr": "sum(/s//"expr": "sum((/' "$mon/dashboards/orderly.json" > "$tmp/broken.json"
python3 scripts/promrule.py dashboard "$tmp/broken.json" > "$tmp/broken.rules.yaml"
if promtool check rules "$tmp/broken.rules.yaml" >/dev/null 2>&1; then
  echo "a broken dashboard query passed promtool: the dashboard check is not working" >&2; exit 1
fi
echo "monitoring checks passed"
