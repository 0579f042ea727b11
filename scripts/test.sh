#!/usr/bin/env bash
# The whole test suite: unit, property, storage conformance (SQLite and PostgreSQL), HTTP black-box, process tests.
# Starts its own throwaway PostgreSQL (scripts/pg-test.sh) unless ORDERLY_TEST_DATABASE_URL is already set.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ORDERLY_TEST_DATABASE_URL:-}" ]; then
  ORDERLY_TEST_DATABASE_URL=$(scripts/pg-test.sh start)
  export ORDERLY_TEST_DATABASE_URL
  trap 'scripts/pg-test.sh stop' EXIT
fi
echo "PostgreSQL for tests: $ORDERLY_TEST_DATABASE_URL"

# The container tests (tests/container.rs) run against orderly:dev built from this tree.
if docker info >/dev/null 2>&1; then
  scripts/build-image.sh
else
  echo "No Docker engine: the container tests will report SKIPPED (CI requires them)."
fi
cargo test --all-targets --locked "$@"

# Deploy artifacts, checked offline: alert rules and their unit tests, dashboard queries, Kubernetes manifests.
scripts/check-monitoring.sh
scripts/check-k8s.sh
