# One release of the rehearsal: the image under test (orderly:dev, the same binary for every release) with the
# release's name as a label, so each release is its own manifest with its own digest in the registry.
# Built FROM a local image: nothing is pulled.
ARG BASE=orderly:dev
FROM ${BASE}
ARG RELEASE
LABEL org.opencontainers.image.version="${RELEASE}" io.orderly.rehearsal.release="${RELEASE}"
