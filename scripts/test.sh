#!/usr/bin/env bash
# The whole test suite: unit, property, storage conformance (SQLite and PostgreSQL), HTTP black-box, process tests.
# Starts its own throwaway PostgreSQL (scripts/pg-test.sh) unless ORDERLY_TEST_DATABASE_URL is already set, and
# PgBouncer in front of it (scripts/pgbouncer-test.sh) unless ORDERLY_TEST_PGBOUNCER_URL is.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need besides Rust, installed when missing (scripts/deps.sh); its Python tools come first on PATH.
venv_bin=$(scripts/deps.sh | tail -n1)
PATH="$venv_bin:$HOME/.cargo/bin:$PATH"
export PATH

# What this script starts, it stops on exit (the last started first).
cleanup=()
stop_started() {
  local c
  for c in "${cleanup[@]}"; do $c; done
}
trap stop_started EXIT
if [ -z "${ORDERLY_TEST_DATABASE_URL:-}" ]; then
  ORDERLY_TEST_DATABASE_URL=$(scripts/pg-test.sh start)
  export ORDERLY_TEST_DATABASE_URL
  cleanup=("scripts/pg-test.sh stop" "${cleanup[@]}")
fi
echo "PostgreSQL for tests: $ORDERLY_TEST_DATABASE_URL"
# PgBouncer in transaction pooling mode in front of it, for the tests that run through a pooler.
if [ -z "${ORDERLY_TEST_PGBOUNCER_URL:-}" ]; then
  pg_port=$(sed -E 's|.*:([0-9]+)/.*|\1|' <<<"$ORDERLY_TEST_DATABASE_URL")
  ORDERLY_TEST_PGBOUNCER_URL=$(scripts/pgbouncer-test.sh start "$pg_port")
  export ORDERLY_TEST_PGBOUNCER_URL
  cleanup=("scripts/pgbouncer-test.sh stop" "${cleanup[@]}")
fi
echo "PgBouncer for tests: $ORDERLY_TEST_PGBOUNCER_URL"

# The container tests (tests/container.rs) run against orderly:dev built from this tree.
if docker info >/dev/null 2>&1; then
  scripts/build-image.sh
else
  echo "No Docker engine: the container tests will report SKIPPED (CI requires them)."
fi
cargo test --all-targets --locked "$@"

# Licences, banned crates and sources of every dependency (deny.toml); advisories need a database that cannot be
# fetched here (docs/operations.md, "Supply chain").
cargo deny --locked check licenses bans sources

# Schemathesis against the release binary and its own OpenAPI document, on SQLite and PostgreSQL, with a staff
# and a customer token (scripts/schemathesis.sh). build-image.sh built that binary above when Docker is here.
release_bin="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release/orderly"
if [ ! -x "$release_bin" ] || ! docker info >/dev/null 2>&1; then
  RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target x86_64-unknown-linux-gnu
fi
ORDERLY_BIN="$release_bin" scripts/schemathesis.sh

# Deploy artifacts, checked offline: alert rules and their unit tests, dashboard queries, Kubernetes manifests.
scripts/check-monitoring.sh
scripts/check-k8s.sh
