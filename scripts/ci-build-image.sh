#!/usr/bin/env bash
# Stage "build": the container image orderly:dev (and orderly:<short sha>) via scripts/build-image.sh, which
# compiles a static binary on this host and builds the Dockerfile's `host-binary` target, pulling nothing.
#   scripts/ci-build-image.sh
# Variables:
#   IMAGE_ARCHIVE  optional path: also `docker save` the image there, for a push job on another runner
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-image.sh
if [ -n "${IMAGE_ARCHIVE:-}" ]; then
  mkdir -p "$(dirname "$IMAGE_ARCHIVE")"
  docker save orderly:dev -o "$IMAGE_ARCHIVE"
  echo "saved orderly:dev to $IMAGE_ARCHIVE"
fi
