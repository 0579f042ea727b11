#!/usr/bin/env bash
# Stage "push": tag the built image with the commit, push it to the registry, and print its digest reference
# (REPO@sha256:...), which is what every later stage deploys. Also writes it to $IMAGE_REF_FILE.
#   REGISTRY=registry.example.com scripts/ci-push.sh
# Variables:
#   REGISTRY           registry host[:port] (required), e.g. 127.0.0.1:5000
#   IMAGE_REPO         repository in it (default: orderly)
#   SOURCE_IMAGE       local image to push (default: orderly:dev)
#   IMAGE_TAG          tag (default: the commit, CI_COMMIT_SHA / GIT_COMMIT / git rev-parse HEAD)
#   IMAGE_ARCHIVE      optional: `docker load` this archive first (from a build job on another runner)
#   IMAGE_REF_FILE     where to write the digest reference (default: target/image-ref)
#   REGISTRY_USER, REGISTRY_PASSWORD   secrets; when set, `docker login` first (password on stdin)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${REGISTRY:?REGISTRY is required, e.g. 127.0.0.1:5000}"
source_image=${SOURCE_IMAGE:-orderly:dev}
tag=${IMAGE_TAG:-${CI_COMMIT_SHA:-${GIT_COMMIT:-$(git rev-parse HEAD)}}}
repo="$REGISTRY/${IMAGE_REPO:-orderly}"
ref_file=${IMAGE_REF_FILE:-target/image-ref}

if [ -n "${IMAGE_ARCHIVE:-}" ]; then docker load -i "$IMAGE_ARCHIVE"; fi
if [ -n "${REGISTRY_USER:-}" ]; then
  printf '%s' "${REGISTRY_PASSWORD:?REGISTRY_PASSWORD is required with REGISTRY_USER}" |
    docker login --username "$REGISTRY_USER" --password-stdin "$REGISTRY"
fi

docker tag "$source_image" "$repo:$tag"
# The manifest digest the registry answered to this push (`<tag>: digest: sha256:... size: N`): the immutable name
# of exactly what was tested.
digest=$(docker push "$repo:$tag" | tee /dev/stderr | sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' | tail -n1)
[ -n "$digest" ] || { echo "ci-push: the push of $repo:$tag reported no digest" >&2; exit 1; }
mkdir -p "$(dirname "$ref_file")"
echo "$repo@$digest" >"$ref_file"
echo "pushed $repo:$tag" >&2
echo "$repo@$digest"
