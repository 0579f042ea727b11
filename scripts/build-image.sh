#!/usr/bin/env bash
# Builds the container image orderly:dev (also tagged orderly:<short sha>) from a static-pie built on this host,
# pulling nothing: the Dockerfile's `host-binary` target. With registry access `docker build .` does it all instead.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
tag=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then revision="$revision-dirty" tag="$tag-dirty"; fi
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
source=$(git remote get-url origin 2>/dev/null || echo unknown)

# Cargo rebuilds only what changed; ORDERLY_REVISION lands in the orderly_build_info metric.
RUSTFLAGS="-C target-feature=+crt-static" ORDERLY_REVISION="$revision" \
  cargo build --release --locked --target "$target"
bin="${CARGO_TARGET_DIR:-target}/$target/release/orderly"
ldd "$bin" 2>&1 | grep -Eq 'statically linked|not a dynamic executable' || { echo "$bin is not static" >&2; exit 1; }

# The context's staged part (see .dockerignore): the stripped binary, the host's CA bundle, an empty data dir.
ctx=target/docker
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/data"
strip -o "$ctx/rootfs/orderly" "$bin"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"

# The SBOM (CycloneDX JSON, by cargo-cyclonedx from Cargo.lock): beside the image as target/docker/orderly.cdx.json
# and inside it at /sbom/orderly.cdx.json. It must name every crate the binary links (cargo tree, normal edges).
PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-cyclonedx >/dev/null || { echo "cargo-cyclonedx is missing: run scripts/deps.sh" >&2; exit 1; }
cargo cyclonedx --quiet --format json --spec-version 1.5 --no-build-deps --target "$target" \
  --override-filename orderly-sbom
mv orderly-sbom.json "$ctx/orderly.cdx.json"
cargo tree --locked --edges normal --target "$target" --prefix none --format '{p}' | python3 scripts/check-sbom.py "$ctx/orderly.cdx.json"
install -D -m 0644 "$ctx/orderly.cdx.json" "$ctx/rootfs/sbom/orderly.cdx.json"

docker build --target host-binary \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg SOURCE="$source" \
  -t orderly:dev -t "orderly:$tag" .

size=$(docker image inspect orderly:dev --format '{{.Size}}')
echo "orderly:dev (orderly:$tag): $size bytes ($(awk "BEGIN { printf \"%.1f\", $size / 1e6 }") MB)"
