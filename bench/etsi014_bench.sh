#!/usr/bin/env bash
# ETSI GS QKD 014 key delivery on this machine, in one run: a real hub and
# two real agents (n = k = 1), sae-a asking its agent's KME over one HTTPS
# keep-alive connection (curl, requests one after another):
#  - enc_keys with 1 key and with 64 keys per request: requests/s and keys/s;
#  - the baseline: the same HTTPS server (TLS 1.3, Beast, client certificate)
#    answering a path with no key work (404), so the difference is the
#    key store's share (a commit per request);
#  - dec_keys of 64 keys in one request at the slave's agent;
#  - enc_keys again with the key-id sync on (both agents with [peer] through
#    a Mosquitto broker): each run of key_reserve keys taken for the SAE
#    pair then also commits a ratchet notice (one per run, not per request).
#  - the ratios the throughput issue asks for: 1-key enc_keys with the sync
#    against the baseline, and keys/s at 64 keys per request.
# KEY_RESERVE=N sets the agents' key_reserve (default: the agent's, 64).
# curl's own time is in every figure; it runs on the same 2 cores.
#
#   bench/etsi014_bench.sh [BUILD_DIR]     (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/integration/lib.sh
use_build "${1:-build/release}"
REQUESTS=${REQUESTS:-2000}
# KEY_RESERVE: the agents' key_reserve (keys one commit takes off the chain
# for one SAE pair); empty: the agent's default (64).
KEY_RESERVE=${KEY_RESERVE:-}
RESERVE_TOML=${KEY_RESERVE:+key_reserve = $KEY_RESERVE}

new_hubs 1 > /dev/null
network_everywhere bench 1 > /dev/null
devices_up bench a b > /dev/null
stop_agent a
stop_agent b
sae_add a sae-a
sae_add b sae-b
AGENT_TOML="$RESERVE_TOML" kmes_up a sae-a b sae-b
port_a=${KME_PORT[a]} port_b=${KME_PORT[b]}
ag a agree b > /dev/null

# run SAE PORT COUNT PATH: COUNT requests on one connection; prints seconds.
run() {
  local sae=$1 port=$2 count=$3 path=$4 cfg="$WORK/curl.cfg" start end
  : > "$cfg"
  for _ in $(seq "$count"); do printf 'url = "https://127.0.0.1:%s%s"\noutput = "/dev/null"\n' "$port" "$path"; done >> "$cfg"
  start=$(date +%s.%N)
  curl -sS --cacert "$WORK/$sae/ca.pem" --cert "$WORK/$sae/$sae.pem" --key "$WORK/$sae/$sae.key" \
    -K "$cfg" -w '%{http_code}\n' > "$WORK/codes"
  end=$(date +%s.%N)
  [[ $(sort -u "$WORK/codes" | tr '\n' ' ') =~ ^(200|404)\ $ ]] || { echo "bad answers: $(sort "$WORK/codes" | uniq -c)" >&2; exit 1; }
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%8.0f", n / t }'; }

# 64 keys for the slave to take back by id at the end (the first of the chain).
ids=$(curl -sS --cacert "$WORK/sae-a/ca.pem" --cert "$WORK/sae-a/sae-a.pem" --key "$WORK/sae-a/sae-a.key" \
  "https://127.0.0.1:$port_a/api/v1/keys/sae-b/enc_keys?number=64" | jq -c '{key_IDs: [.keys[] | {key_ID}]}')
base=$(run sae-a "$port_a" "$REQUESTS" /api/v1/keys/sae-b/nonsense)
one=$(run sae-a "$port_a" "$REQUESTS" '/api/v1/keys/sae-b/enc_keys')
many=$(run sae-a "$port_a" $((REQUESTS / 4)) '/api/v1/keys/sae-b/enc_keys?number=64')
start=$(date +%s.%N)
curl -sS --cacert "$WORK/sae-b/ca.pem" --cert "$WORK/sae-b/sae-b.pem" --key "$WORK/sae-b/sae-b.key" \
  -H 'Content-Type: application/json' --data "$ids" -o /dev/null -w '%{http_code}\n' \
  "https://127.0.0.1:$port_b/api/v1/keys/sae-a/dec_keys" | grep -q 200
dec=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')

# The same with the key-id sync (docs/peer.md): both agents with [peer]
# through a Mosquitto broker, so each run of key_reserve keys also stores a
# ratchet notice (in the run's commit) that the peer stores (a commit) and
# acknowledges.
mqtt_broker_up
stop_agent a
stop_agent b
AGENT_TOML="$RESERVE_TOML
[peer]
[peer.relay]
broker = \"127.0.0.1:$MQTT_PORT\"" kmes_up a sae-a b sae-b > /dev/null
port_a=${KME_PORT[a]}
synced_one=$(run sae-a "$port_a" "$REQUESTS" '/api/v1/keys/sae-b/enc_keys')
synced_many=$(run sae-a "$port_a" $((REQUESTS / 4)) '/api/v1/keys/sae-b/enc_keys?number=64')

printf '%-58s %10s %10s\n' "ETSI GS QKD 014 over HTTPS keep-alive (one curl client)" "requests/s" "keys/s"
printf '%-58s %10s %10s\n' "baseline: same server, no key work (404)" "$(rate "$REQUESTS" "$base")" "-"
printf '%-58s %10s %10s\n' "enc_keys, 1 key per request" "$(rate "$REQUESTS" "$one")" "$(rate "$REQUESTS" "$one")"
printf '%-58s %10s %10s\n' "enc_keys, 64 keys per request" "$(rate $((REQUESTS / 4)) "$many")" \
  "$(rate $((REQUESTS / 4 * 64)) "$many")"
printf '%-58s %10s\n' "dec_keys of 64 keys, one request incl. TLS handshake (s)" "$dec"
printf '%-58s %10s %10s\n' "enc_keys, 1 key per request, with the key-id sync" "$(rate "$REQUESTS" "$synced_one")" \
  "$(rate "$REQUESTS" "$synced_one")"
printf '%-58s %10s %10s\n' "enc_keys, 64 keys per request, with the key-id sync" \
  "$(rate $((REQUESTS / 4)) "$synced_many")" "$(rate $((REQUESTS / 4 * 64)) "$synced_many")"
printf '%-58s %10s\n' "key_reserve" "${KEY_RESERVE:-64}"
awk -v s="$synced_one" -v b="$base" 'BEGIN { printf "%-58s %10.2f   (target >= 0.9)\n", "ratio: 1-key enc_keys with the sync / baseline", b / s }'
