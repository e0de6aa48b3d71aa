#!/usr/bin/env bash
# Peer channel messages per second on this machine (bench/relay_bench.cc):
# through a real Mosquitto broker on loopback, and over the direct TLS-PSK
# link, each message stored, sealed, carried, opened, stored at the receiver
# and acknowledged (two SQLite commits per message: the ack's removal rides
# on the sender's next one).
#
#   bench/relay_bench.sh [BUILD_DIR]     (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/integration/lib.sh
BUILD=$(cd "${1:-build/release}" && pwd)
MESSAGES=${MESSAGES:-5000}
mqtt_broker_up

run() {  # run NAME ARGS...: one run in a fresh directory
  mkdir "$WORK/$1"
  shift
  "$BUILD/bench/relay_bench" --dir "$WORK/$1" --messages "$MESSAGES" "$@" 2>&1 || true
}
read -r relay_rate relay_s _ < <(run relay --broker "127.0.0.1:$MQTT_PORT")
read -r direct_rate direct_s _ < <(run direct --direct)
printf "%-52s %10s /s  (%s messages in %s s)\n" \
  "peer messages through Mosquitto (QoS 1), acknowledged" "$relay_rate" "$MESSAGES" "$relay_s" \
  "peer messages over the direct TLS-PSK link, acknowledged" "$direct_rate" "$MESSAGES" "$direct_s"
