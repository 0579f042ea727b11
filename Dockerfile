# Orderly's container image: one static-pie `orderly` on `scratch`, running as 10001:10001 (ADR 0004).
#
# One Dockerfile, two ways to build it:
#   With registry access (BuildKit, the default builder since Docker 23):
#       docker build -t orderly:dev .
#     The `build` stage compiles with cached dependencies; the last stage, `runtime`, takes its output.
#   Without registry access (this project's machines): make image   (scripts/build-image.sh)
#     builds the static binary on the host, stages it in target/docker/ and runs
#       docker build --target host-binary .
#     which takes that binary and pulls nothing: every stage up to `host-binary` is FROM scratch.
#
# Stage order matters: the legacy builder (Docker without buildx, as here) builds every stage that comes before
# the --target, whether the target needs it or not, so the stages that need no base image come first.

# ---- base: everything the image says about itself; no files yet ------------------------------------------------
FROM scratch AS base

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="orderly" \
      org.opencontainers.image.description="Orders API for Gulf e-commerce" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"

# The image is what gets deployed, so it runs in production (the binary alone defaults to development, so that
# `cargo run` needs nothing): started without a real token key (ORDERLY_JWT_JWKS_URL, or a strong
# ORDERLY_JWT_SECRET) it refuses to start and says so. `-e ORDERLY_ENV=development` gives the laptop mode: the
# embedded SQLite in the data volume with a generated development key beside it (mode 0600).
# Shutdown: readiness fails at once, serving goes on for 2 s, then in-flight requests get up to 7 s: 2 + 7 < 10 s,
# Docker's stop timeout, so `docker stop` never needs SIGKILL (with ORDERLY_NATS_URL set the outbox relay may take
# 5 s more: `docker stop -t 20`). Kubernetes sets its own values and a grace period above them.
ENV ORDERLY_ENV=production \
    ORDERLY_SQLITE_PATH=/data/orderly.db \
    ORDERLY_DEV_KEY_FILE=/data/orderly-dev.key \
    ORDERLY_SHUTDOWN_DELAY_MS=2000 \
    ORDERLY_DRAIN_TIMEOUT_MS=7000 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

USER 10001:10001
EXPOSE 8080 9090
VOLUME ["/data"]
STOPSIGNAL SIGTERM
# No shell in the image: the binary checks its own admin port (/readyz on 127.0.0.1:9090).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/orderly", "healthcheck"]
ENTRYPOINT ["/orderly"]

# ---- host-binary: the image from a binary built on the host (make image) ----------------------------------------
# scripts/build-image.sh stages target/docker/rootfs/ (orderly, the CA bundle) and an empty target/docker/data/.
FROM base AS host-binary
COPY deploy/docker/rootfs/ /
COPY target/docker/rootfs/ /
COPY --chown=10001:10001 target/docker/data/ /data/
WORKDIR /data

# ---- build: compile the static-pie (needs registry access and BuildKit for the cache mounts) --------------------
FROM docker.io/library/rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
COPY migrations/ migrations/
ARG REVISION=unknown
# crt-static on the glibc target links a static-pie: nothing to load at run time, so it runs on scratch.
ENV RUSTFLAGS="-C target-feature=+crt-static" \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    ORDERLY_REVISION=${REVISION}
# The registry and target caches persist between builds: a source change recompiles only the orderly crate.
RUN --mount=type=cache,id=orderly-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=orderly-target,target=/src/target,sharing=locked \
    cargo build --release --locked --target x86_64-unknown-linux-gnu \
    && install -D -m 0755 target/x86_64-unknown-linux-gnu/release/orderly /rootfs/orderly \
    && install -D -m 0644 /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
    && mkdir /data

# ---- runtime: the default target, the same image as host-binary but from the build stage ------------------------
FROM base AS runtime
COPY deploy/docker/rootfs/ /
COPY --from=build /rootfs/ /
COPY --from=build --chown=10001:10001 /data/ /data/
WORKDIR /data
