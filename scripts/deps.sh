#!/usr/bin/env bash
# Installs every Debian package SKAP needs to build, test, benchmark and demo.
# Non-interactive; when everything is already present it only asks dpkg and
# returns in about a second. Nothing is fetched from outside Debian's archive
# but the OpenAPI checker's npm packages (tests/openapi/package-lock.json).
#
#   scripts/deps.sh          packages for `make check` and `make demo`
#   scripts/deps.sh bench    adds MIT Kerberos's KDC, the agreement benchmark's baseline
#   scripts/deps.sh fuzz     adds clang's libFuzzer runtime for the fuzz preset
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libssl-dev openssl                 # OpenSSL 3: all crypto, the DRBG, `openssl speed`
  libgtest-dev libgmock-dev          # unit tests
  libbenchmark-dev                   # bench/
  nlohmann-json3-dev                 # Wycheproof vectors in tests
  libcli11-dev                       # command lines
  libsqlite3-dev                     # the hub's embedded store
  libqrencode-dev libpng-dev         # bootstrap parts as QR codes (PNG and terminal)
  libboost-dev                       # Boost.Asio and Beast: admin API and device channel
  libtomlplusplus-dev                # skapd configuration files
  libfccp-dev                        # skapctl: CSV device lists (header-only)
  protobuf-compiler libprotobuf-dev  # device channel messages
  zbar-tools jq                      # tests read QR codes back (zbarimg) and JSON (jq)
  curl                               # tests are the SAEs of the ETSI GS QKD 014 API
  nodejs                             # tests check docs/etsi014.openapi.json (tests/openapi)
  strongswan-charon strongswan-swanctl   # the IPsec PPK test: two charons in network namespaces,
  libcharon-extra-plugins iproute2       # their CHILD_SA in kernel-libipsec (this kernel has no ESP)
  libkrb5-dev                        # bench/kerberos_bench: the Kerberos client library
  libmosquitto-dev mosquitto         # the peer relay: MQTT v5 client library, and the broker tests run
  mosquitto-clients                  # tests capture every relayed payload (mosquitto_sub)
)
if [[ "${1:-}" == "bench" ]]; then
  packages+=(krb5-kdc krb5-admin-server)  # a KDC on loopback, and kadmin.local to fill it
fi
if [[ "${1:-}" == "fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
# Debian's nodejs comes without npm (other builds of nodejs carry their own).
command -v npm > /dev/null || missing+=(npm)

if ((${#missing[@]} > 0)); then
  if [[ $EUID -ne 0 ]]; then
    echo "deps.sh: missing packages: ${missing[*]}; run as root (or: sudo $0 $*)" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v npm > /dev/null; then
  echo "deps.sh: npm is missing (apt-get install npm)" >&2
  exit 1
fi

# The OpenAPI checker's packages, pinned by tests/openapi/package-lock.json.
openapi="$(cd "$(dirname "$0")/.." && pwd)/tests/openapi"
if [[ ! -d "$openapi/node_modules" || "$openapi/package-lock.json" -nt "$openapi/node_modules" ]]; then
  echo "deps.sh: npm ci in tests/openapi"
  npm ci --prefix "$openapi" --no-audit --no-fund --loglevel=error
fi
