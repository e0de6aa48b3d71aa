#!/usr/bin/env bash
# The SKAP demo (`make demo`): three independent hubs with k = 2 and two
# devices on loopback, with the embedded defaults. It provisions and admits
# both devices (two operators), agrees a key, shows the same key id and
# fingerprint on both sides, ratchets it, stops a hub and agrees again, and
# shows what each hub saw: one share of each side, never a key; then two SAEs
# share a key through ETSI GS QKD 014, and the agents re-seed with their peer
# messages through a Mosquitto broker. Everything
# runs in a temporary directory and stops at the end.
#   scripts/demo.sh [BUILD_DIR]      (default build/release)
source "$(dirname "$0")/../tests/integration/lib.sh"
use_build "${1:-$(dirname "$0")/../build/release}"
start=$(date +%s.%N)
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '  $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; }
# show_shared_key A B: A shows its next key for B; B shows the key of that
# id: the same fingerprint on both sides, and both keys stay.
show_shared_key() {
  local id fp
  printf '  $ skap-agent key %s --data %s\n' "$2" "$1"
  read -r id fp < <(ag "$1" key "$2")
  echo "    $id $fp"
  run skap-agent key "$1" --id "$id" --data "$2"
}
skap-agent() { "$AGENT" "$@"; }  # as an operator would type it (in $WORK)

say "1. Three independent hubs, each with its own database, KEK and operators"
new_hubs 3
for i in 1 2 3; do echo "  hub $i: ${HUB_ID[$i]} on 127.0.0.1:${HUB_PORT[$i]}"; done

say "2. The tenant admin (alice) sets up network plant-1 at every hub: keys agreed 2 of 3"
echo "  \$ skapctl network set-hubs plant-1 --hub ... --threshold 2    (at each hub)"
network_everywhere plant-1 2
hctl 1 alice network show plant-1 | sed 's/^/  /'

say "3. Secure room: provisioner pat issues each device a bundle at every hub (one device id)"
a=$(provision_everywhere plant-1 sensor-a)
b=$(provision_everywhere plant-1 sensor-b)
echo "  sensor-a: $a    sensor-b: $b"
ls "$WORK" | grep skapbundle | sed 's/^/  /'

say "4. The devices enrol from their three bundles and report; admitter adam (never pat) admits them"
start_agent sensor-a
start_agent sensor-b
admit_everywhere "$a"
admit_everywhere "$b"
wait_until "sensor-a reaches its hubs" '[[ $(hubs_up sensor-a) == 3 ]]'
wait_until "sensor-b reaches its hubs" '[[ $(hubs_up sensor-b) == 3 ]]'
run skap-agent status --data sensor-a

say "5. sensor-a agrees a key with sensor-b: each side's secret split 2-of-3 over the hubs"
run skap-agent agree sensor-b --data sensor-a

say "6. sensor-a shows its next key (id and fingerprint; it is handed out, and spent, only with --reveal); sensor-b shows the same key by its id"
show_shared_key sensor-a sensor-b

say "7. The session ratchets along its KDF chains: each side hands out its own next keys, the other fetches them by id"
show_shared_key sensor-b sensor-a
echo "  \$ skap-agent key sensor-b --reveal    (at sensor-a; then at sensor-b: key sensor-a --id ID --reveal)"
read -r id1 fp1 key1 < <(ag sensor-a key sensor-b --reveal)
read -r id1b fp1b key1b < <(ag sensor-b key sensor-a --id "$id1" --reveal)
echo "  sensor-a handed out $id1 $fp1; sensor-b took $id1b $fp1b (the keys themselves not shown)"
[[ "$id1 $key1" == "$id1b $key1b" ]] || { echo "keys do not match" >&2; exit 1; }

say "8. Hub 3 stops; the devices re-seed the session through the two hubs left"
stop_hub_n 3
wait_until "sensor-a notices" '[[ $(hubs_up sensor-a) == 2 ]]'
wait_until "sensor-b notices" '[[ $(hubs_up sensor-b) == 2 ]]'
run skap-agent agree sensor-a --data sensor-b
show_shared_key sensor-b sensor-a
read -r id2 _ key2 < <(ag sensor-a key sensor-b --reveal)
read -r _ _ key2b < <(ag sensor-b key sensor-a --id "$id2" --reveal)
[[ "$key1" != "$key2" && "$key2" == "$key2b" ]] || { echo "keys do not match" >&2; exit 1; }

say "9. Hub 3 is back. What each hub saw (its audit log): one share of each side, never a key"
start_hub_n 3
for i in 1 2 3; do
  echo "  hub $i (${HUB_ID[$i]}):"
  hctl "$i" alice --json audit list --action agreement.share |
    jq -r --arg a "$a" '.[] | "    agreement \(.target[0:8]): share x = \(.detail.hub_index) (k = \(.detail.k) of n = \(.detail.n)) from \(if .detail.from == $a then "sensor-a" else "sensor-b" end)"'
  for key in "$key1" "$key2"; do
    if grep -rqi "$key" "$WORK/hub$i" ||
      find "$WORK/hub$i" -type f -exec cat {} + | od -An -tx1 -v | tr -d ' \n' | grep -q "$key"; then
      echo "    a key was found in hub $i's files" >&2
      exit 1
    fi
  done
  echo "    none of the keys handed out is in its database, WAL or KEK file"
done

say "10. Two applications (SAEs) take a key through ETSI GS QKD 014: sae-a from sensor-a's KME, sae-b from sensor-b's"
stop_agent sensor-a
stop_agent sensor-b
for pair in sensor-a:sae-a sensor-b:sae-b; do
  echo "  \$ skap-agent sae add --data ${pair%%:*} --id ${pair#*:} --out ${pair#*:}"
  sae_add "${pair%%:*}" "${pair#*:}"
done
ID[sensor-a]=$a ID[sensor-b]=$b
kmes_up sensor-a sae-a sensor-b sae-b
kme_a=${KME_PORT[sensor-a]} kme_b=${KME_PORT[sensor-b]}
sae_curl() {  # SAE PORT PATH
  curl -sS --cacert "$WORK/$1/ca.pem" --cert "$WORK/$1/$1.pem" --key "$WORK/$1/$1.key" \
    "https://127.0.0.1:$2$3"
}
echo "  sae-a: GET https://127.0.0.1:$kme_a/api/v1/keys/sae-b/enc_keys"
enc=$(sae_curl sae-a "$kme_a" /api/v1/keys/sae-b/enc_keys)
etsi_id=$(jq -r '.keys[0].key_ID' <<< "$enc")
etsi_key=$(jq -r '.keys[0].key' <<< "$enc")
echo "    key_ID $etsi_id, key SHA-256 $(base64 -d <<< "$etsi_key" | sha256sum | cut -c1-16)…"
echo "  sae-b: GET https://127.0.0.1:$kme_b/api/v1/keys/sae-a/dec_keys?key_ID=$etsi_id"
dec=$(sae_curl sae-b "$kme_b" "/api/v1/keys/sae-a/dec_keys?key_ID=$etsi_id")
echo "    key_ID $(jq -r '.keys[0].key_ID' <<< "$dec"), key SHA-256 $(jq -r '.keys[0].key' <<< "$dec" | base64 -d | sha256sum | cut -c1-16)…"
[[ "$(jq -r '.keys[0].key' <<< "$dec")" == "$etsi_key" ]] || { echo "the SAEs got different keys" >&2; exit 1; }
echo "  the same 256-bit key at both SAEs; asking again:"
sae_curl sae-b "$kme_b" "/api/v1/keys/sae-a/dec_keys?key_ID=$etsi_id" | sed 's/^/    /'
echo

say "11. The devices' peer messages through the tenant's MQTT broker (Mosquitto): it sees only ciphertext"
mqtt_broker_up
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -t 'skap/#' -F '%t %x' > "$WORK/relayed.txt" 2> /dev/null &
PIDS+=("$!")
relay="[peer]
[peer.relay]
broker = \"127.0.0.1:$MQTT_PORT\""
stop_agent sensor-a
stop_agent sensor-b
AGENT_TOML=$relay kmes_up sensor-a sae-a sensor-b sae-b
echo "  [peer.relay] broker = \"127.0.0.1:$MQTT_PORT\" on both; sensor-a re-seeds the session:"
ag sensor-a agree sensor-b | sed 's/^/    /'
wait_until "the tags went through the broker and were acknowledged" \
  "[[ -s $WORK/relayed.txt && \$(ag sensor-a status --json | jq '.peer_channel.peers[0].pending') == 0 ]]"
ag sensor-a status | grep '^peer' | sed 's/^/    /'
echo "  what the broker relayed (topic, then the start of the payload):"
cut -c1-120 "$WORK/relayed.txt" | head -n 2 | sed 's/^/    /'
echo

say "Done in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s; stopping every hub and agent."
