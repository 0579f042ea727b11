#!/usr/bin/env bash
# Stage "test": the whole test suite, exactly as a developer runs it (`make test`: unit, property, storage
# conformance on SQLite and a throwaway PostgreSQL, HTTP black-box, container tests).
#   scripts/ci-test.sh
# Variables: ORDERLY_TEST_DATABASE_URL (optional; unset, scripts/pg-test.sh starts a throwaway cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

make test
