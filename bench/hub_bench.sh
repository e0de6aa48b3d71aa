#!/usr/bin/env bash
# The hub under load, in one run on this machine, clients on loopback:
#  - provisioning of PROVISION_COUNT devices (default 100 000): time, database size;
#  - skapd's resident memory with them registered, idle and with HOLD (default
#    1 000) admitted devices holding a channel open each;
#  - TLS 1.3 PSK handshakes/s (connect, handshake, one Ping/Pong, close) with
#    psk_ke and psk_dhe_ke, against skapd and against a plain OpenSSL server
#    (channel_bench baseline-server) driven by the same client code;
#  - entropy-augmentation requests/s (32 bytes each) on open channels.
#
#   bench/hub_bench.sh [BUILD_DIR]     (default build/release, built by bench/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
COUNT=${PROVISION_COUNT:-100000}
HOLD=${HOLD:-1000}
SECS=${BENCH_SECONDS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/skap-hub-bench-XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
# cpu_ticks PID: user + system CPU the process has used, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# per_core RATE TICKS: handshakes one server core would do at that cost
# (RATE/s over $SECS s, costing TICKS of server CPU).
per_core() { awk -v r="$1" -v t="$2" -v s="$SECS" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { if (t > 0) printf "%.0f", r * s / (t / hz); else print "n/a" }'; }
# rate_and_core PID CLIENT...: runs the client (it prints handshakes/s) and
# prints that rate and what one core of server PID would do at its cost.
rate_and_core() {
  local pid=$1 t0 rate
  shift
  t0=$(cpu_ticks "$pid")
  rate=$("$@")
  echo "$rate $(per_core "$rate" $(($(cpu_ticks "$pid") - t0)))"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
base_port=$(free_port)

echo "provisioning $COUNT devices (one durable transaction each) and admitting $HOLD of them..."
"$BUILD/bench/provision_bench" --count "$COUNT" --data "$T/hub" --admit "$HOLD" \
  --states "$T/states" --hub-address "127.0.0.1:$port"

cat > "$T/skapd.toml" <<TOML
data_dir = "$T/hub"
hub_address = "127.0.0.1:$port"
device_listen = "127.0.0.1:$port"
ratchet_after_sessions = 0
entropy_max_request_bytes = 65536
entropy_rate_bytes_per_s = 1073741824
entropy_burst_bytes = 1073741824
TOML
"$BUILD/apps/skapd/skapd" run --config "$T/skapd.toml" 2> "$T/skapd.log" &
skapd=$!
PIDS+=("$skapd")
for _ in $(seq 100); do (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break; sleep 0.1; done

read -r held rss_idle rss_held < <("$BUILD/bench/channel_bench" hold --states "$T/states" --pid "$skapd")
# One admitted device's state (not `ls | head`: under pipefail, ls may die of SIGPIPE).
one=$(find "$T/states" -name '*.state' -print -quit)
B="$BUILD/bench/channel_bench"
read -r hs_ke core_ke < <(rate_and_core "$skapd" \
  "$B" handshakes --state "$one" --mode psk_ke --seconds "$SECS")
read -r hs_dhe core_dhe < <(rate_and_core "$skapd" \
  "$B" handshakes --state "$one" --mode psk_dhe_ke --seconds "$SECS")
ent1=$("$B" entropy --state "$one" --threads 1 --seconds "$SECS")
ent2=$("$B" entropy --state "$one" --threads 2 --seconds "$SECS")
kill "$skapd"; wait "$skapd" 2> /dev/null || true

"$B" baseline-server --port "$base_port" 2> /dev/null &
base_server=$!
PIDS+=("$base_server")
for _ in $(seq 100); do (exec 3<> "/dev/tcp/127.0.0.1/$base_port") 2> /dev/null && break; sleep 0.1; done
read -r base_ke base_core_ke < <(rate_and_core "$base_server" \
  "$B" baseline --port "$base_port" --mode psk_ke --seconds "$SECS")
read -r base_dhe base_core_dhe < <(rate_and_core "$base_server" \
  "$B" baseline --port "$base_port" --mode psk_dhe_ke --seconds "$SECS")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "n/a" }'; }
echo
printf "%-46s %12s %14s %7s\n" "TLS 1.3 PSK, handshake + 1 round trip" "skapd" "plain OpenSSL" "ratio"
printf "%-46s %10s/s %12s/s %7s\n" "psk_ke (no DH), 2 client threads" "$hs_ke" "$base_ke" "$(ratio "$hs_ke" "$base_ke")"
printf "%-46s %10s/s %12s/s %7s\n" "psk_dhe_ke (X25519), 2 client threads" "$hs_dhe" "$base_dhe" "$(ratio "$hs_dhe" "$base_dhe")"
echo "The clients share the 2 cores with the server; at the server's measured CPU"
echo "cost per handshake, one server core alone would do:"
printf "%-46s %10s/s %12s/s %7s\n" "psk_ke per server core" "$core_ke" "$base_core_ke" "$(ratio "$core_ke" "$base_core_ke")"
printf "%-46s %10s/s %12s/s %7s\n" "psk_dhe_ke per server core" "$core_dhe" "$base_core_dhe" "$(ratio "$core_dhe" "$base_core_dhe")"
echo
printf "%-46s %10s/s\n" "entropy requests, 32 B, 1 channel" "$ent1"
printf "%-46s %10s/s\n" "entropy requests, 32 B, 2 channels" "$ent2"
echo
printf "%-46s %8.1f MB\n" "skapd RSS, $COUNT registered, idle" "$(awk -v k="$rss_idle" 'BEGIN{print k/1024}')"
printf "%-46s %8.1f MB\n" "skapd RSS, $COUNT registered, $held connected" "$(awk -v k="$rss_held" 'BEGIN{print k/1024}')"
