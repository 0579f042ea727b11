#!/usr/bin/env bash
# Stage "lint": Rust formatting and clippy, shellcheck on every shell script, and the pipeline check
# (scripts/check-pipeline.sh: CI files call only scripts that exist and pass bash -n and shellcheck).
#   scripts/ci-lint.sh
# Variables: none. Needs cargo (rustfmt, clippy), shellcheck, python3 with PyYAML.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
mapfile -t shells < <(git ls-files --cached --others --exclude-standard -- '*.sh' .ci/run)
shellcheck -x --severity=warning "${shells[@]}" # check-pipeline.sh holds the stage scripts to every level
scripts/check-pipeline.sh
