#!/usr/bin/env bash
# Everything the test suite needs besides Rust itself, installed when it is missing, so that on a fresh machine
# `make test` is the one command (scripts/test.sh and .ci/run call this first):
#   - Debian packages (apt-get, as root): the servers the tests start and the tools the checks run;
#   - Python packages in a virtual environment, $ORDERLY_VENV (default .venv), from the pinned requirement files;
#   - cargo tools: cargo-deny (licence, ban and source checks) and cargo-cyclonedx (the image's SBOM).
# Not root and something is missing: it prints the exact commands to run and exits 1. Prints the venv's bin
# directory as its last line, for the caller's PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${ORDERLY_VENV:-$PWD/.venv}
cargo_deny_version=0.20.2
cargo_cyclonedx_version=0.5.9

# Debian package -> a file or command that tells whether it is there.
declare -A probes=(
  [postgresql]=/usr/lib/postgresql/15/bin/initdb
  [postgresql-contrib]=/usr/share/postgresql/15/extension/pg_trgm.control
  [nats-server]=nats-server
  [prometheus]=promtool
  [prometheus-alertmanager]=amtool
  [haproxy]=haproxy
  [pgbouncer]=pgbouncer
  [patroni]=patroni
  [etcd-server]=etcd
  [iptables]=iptables
  [iproute2]=ip
  [docker-compose]=docker-compose
  [docker-registry]=docker-registry
  [wrk]=wrk
  [shellcheck]=shellcheck
  [binutils]=readelf
  [curl]=curl
  [make]=make
  [ca-certificates]=/etc/ssl/certs/ca-certificates.crt
  # The console's browser tests (tests/console): headless chromium driven through WebDriver.
  [chromium]=chromium
  [chromium-driver]=chromedriver
)
missing=()
for pkg in "${!probes[@]}"; do
  probe=${probes[$pkg]}
  if [[ $probe == /* ]]; then [ -e "$probe" ] || missing+=("$pkg"); else command -v "$probe" >/dev/null || missing+=("$pkg"); fi
done

requirements=(deploy/requirements-checks.txt deploy/requirements-schemathesis.txt deploy/requirements-lint.txt)
wanted=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
venv_ok=false
[ -x "$venv/bin/python3" ] && [ "$(cat "$venv/.requirements" 2>/dev/null)" = "$wanted" ] && venv_ok=true

tools=()
cargo deny --version 2>/dev/null | grep -q " $cargo_deny_version" || tools+=("cargo-deny@$cargo_deny_version")
cargo cyclonedx --version 2>/dev/null | grep -q " $cargo_cyclonedx_version" ||
  tools+=("cargo-cyclonedx@$cargo_cyclonedx_version")

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "deps: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: missing Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if ! $venv_ok; then
  echo "deps: building the Python environment $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python3" -m pip install -q --disable-pip-version-check "${requirements[@]/#/-r}"
  echo "$wanted" >"$venv/.requirements"
fi

for tool in "${tools[@]}"; do
  echo "deps: cargo install $tool (a few minutes, once)" >&2
  cargo install -q --locked "$tool" >&2
done

echo "$venv/bin"
