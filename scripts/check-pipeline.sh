#!/usr/bin/env bash
# The pipeline check (run by ci-lint.sh and by CI): .gitlab-ci.yml and Jenkinsfile call only scripts in scripts/
# that exist and pass `bash -n` and shellcheck, in the stage order of docs/pipeline.md; and broken CI files are
# rejected (the checker's self-test). Prints `N passed, N failed`.
#   scripts/check-pipeline.sh
# Variables: none. Needs python3 with PyYAML, shellcheck.
set -euo pipefail
cd "$(dirname "$0")/.."

exec python3 scripts/check-pipeline.py --self-test
