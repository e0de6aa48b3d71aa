#!/usr/bin/env bash
# The peer channel through a real Mosquitto broker on loopback, then
# directly: agents with no route to each other but the broker agree, re-seed
# and hand out keys with the key-id sync of ETSI GS QKD 014 (two SAE pairs
# sharing one peer device) through it; the broker is killed mid-flight and
# nothing is lost; a replayed or altered message is dropped; a capture of
# every relayed message shows no key id, device id, SAE id or plaintext.
# Then a direct TLS-PSK link is preferred, and the relay takes over when it
# goes.
#   relay_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
new_hubs 1
network_everywhere plant-1 1
devices_up plant-1 a b
stop_agent a
stop_agent b

# The tenant's broker: persistent, so its queues outlive a clean restart.
mqtt_broker_up persistent
# A listener that records every message relayed (topic, hex payload).
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -q 1 -c -i capture -t 'skap/#' -F '%t %x' \
  > "$WORK/capture.txt" 2> "$WORK/capture.err" &
PIDS+=("$!")

for s in a1 a2; do sae_add a "sae-$s"; done
for s in b1 b2; do sae_add b "sae-$s"; done
take_port KME_A
take_port KME_B
# kme2_toml PORT LOCAL1 LOCAL2 PEER REMOTE1 REMOTE2: two SAE pairs, one peer.
kme2_toml() {
  printf '[etsi014]\nlisten = "127.0.0.1:%s"\nmax_keys_per_request = 64\n' "$1"
  printf '[[etsi014.sae]]\nid = "%s"\ncertificate_sha256 = "%s"\npeer = "%s"\nremote_sae = "%s"\n' \
    "$2" "${FP[$2]}" "$4" "$5" "$3" "${FP[$3]}" "$4" "$6"
}
relay_toml() { printf '[peer.relay]\nbroker = "127.0.0.1:%s"\n' "$MQTT_PORT"; }

printf 'data_dir = "%s/a"\n%s\n' "$WORK" "$(kme2_toml "$KME_A" sae-a1 sae-a2 "${ID[b]}" sae-b1 sae-b2)" \
  > "$WORK/two-pairs.toml"
expect_fail "one SAE pair per peer device, unless [peer] is set" \
  "two SAE pairs for one peer need the peer channel" "$AGENT" run --config "$WORK/two-pairs.toml"
printf 'data_dir = "%s/a"\n[peer.relay]\nbroker = 1883\n' "$WORK" > "$WORK/bad-broker.toml"
expect_fail "broker must be a string" "a broker given as a number is refused, not defaulted" \
  "$AGENT" run --config "$WORK/bad-broker.toml"
printf 'data_dir = "%s/a"\n[peer]\nlisten = "7400"\n' "$WORK" > "$WORK/bad-listen.toml"
expect_fail 'peer.listen must be "HOST:PORT"' "a listen address without a host is refused" \
  "$AGENT" run --config "$WORK/bad-listen.toml"

AGENT_TOML="[peer]
resend_s = 1
$(relay_toml)"
start_agent a "$(kme2_toml "$KME_A" sae-a1 sae-a2 "${ID[b]}" sae-b1 sae-b2)"
start_agent b "$(kme2_toml "$KME_B" sae-b1 sae-b2 "${ID[a]}" sae-a1 sae-a2)"
wait_for_port "$KME_A"
wait_for_port "$KME_B"
wait_until "a reaches its hub" "[[ \$(hubs_up a) == 1 ]]"
wait_until "b reaches its hub" "[[ \$(hubs_up b) == 1 ]]"

# peer_field NAME JQ: the peer channel's status at agent NAME (its one peer).
peer_field() { ag "$1" status --json | jq -r ".peer_channel.peers[0] | $2"; }

ag a agree b > /dev/null
wait_until "a reaches b through the relay" "[[ \$(peer_field a .transport) == relay ]]"
wait_until "b reaches a through the relay" "[[ \$(peer_field b .transport) == relay ]]"
pass "with no direct link, both agents choose the relay"
expect_eq "$(ag a status | grep "^peer ${ID[b]}")" \
  "peer ${ID[b]}: over relay (direct link: not configured), 0 waiting for its ack" \
  "skap-agent status says which transport a peer is reached over"

# A re-seed: its confirmation tags go over the relay (and the hubs).
ag b agree a > /dev/null
# The peer channel follows the sessions at its next tick (about a second).
wait_until "both peer channels at epoch 2" '[[ "$(peer_field a .epoch) $(peer_field b .epoch)" == "2 2" ]]'
pass "the re-seed made epoch 2 on both sides"
# Acks are counted apart: "received" counts messages acted on, and until
# now the tags were the only ones.
wait_until "a's tag reached b through the relay" "(( \$(peer_field b .received.relay) == 1 ))"
wait_until "b's tags reached a through the relay" "(( \$(peer_field a .received.relay) == 1 ))"
wait_until "both acknowledged" "(( \$(peer_field a .acks) >= 1 && \$(peer_field b .acks) >= 1 ))"
pass "the re-seed's confirmation tags travelled through the relay, and were acknowledged"
expect_shared_key a b "after the re-seed both sides still share every key"

# ETSI GS QKD 014 with two SAE pairs sharing the peer device: the key-id
# sync goes through the relay.
call() {
  local sae=$1 port=$2 path=$3
  shift 3
  curl -sS --cacert "$WORK/$sae/ca.pem" --cert "$WORK/$sae/$sae.pem" --key "$WORK/$sae/$sae.key" \
    -w '\n%{http_code}' "$@" "https://127.0.0.1:$port$path"
}
enc() { call "sae-$1" "$KME_A" "/api/v1/keys/sae-$2/enc_keys?number=$3" | sed '$d'; }
# dec SLAVE MASTER IDS...: prints the status, then the keys' "id key" lines.
dec() {
  local slave=$1 master=$2 body
  shift 2
  body=$(jq -cn '{key_IDs: [$ARGS.positional[] | {key_ID: .}]}' --args "$@")
  call "sae-$slave" "$KME_B" "/api/v1/keys/sae-$master/dec_keys" -H 'Content-Type: application/json' \
    --data "$body" | { out=$(cat); tail -n1 <<< "$out"; sed '$d' <<< "$out" | jq -r '.keys[]? | .key_ID + " " + .key'; }
}
keys1=$(enc a1 b1 5 | jq -r '.keys[] | .key_ID + " " + .key')
keys2=$(enc a2 b2 3 | jq -r '.keys[] | .key_ID + " " + .key')
ids1=($(cut -d' ' -f1 <<< "$keys1"))
ids2=($(cut -d' ' -f1 <<< "$keys2"))
wait_until "a's notices are acknowledged" "[[ \$(peer_field a .pending) == 0 ]]"
expect_eq "$(dec b2 a2 "${ids1[0]}" | head -n1)" 401 \
  "sae-b2 may not take a key handed out for sae-b1, though both share the peer device"
expect_eq "$(dec b1 a2 "${ids1[0]}" | head -n1)" 401 "nor may sae-b1 name the wrong master"
expect_eq "$(dec b1 a1 "${ids2[0]}" | head -n1)" 401 \
  "nor take, naming its own master, a key sae-a2 got for sae-b2 (the key-id sync says so)"
# The control socket (and the C API) go by the same rule: a key an SAE took
# goes to no local consumer at the peer, and a local consumer's key to no SAE.
expect_fail "not handed out to the peer's local consumers" \
  "b's control socket may not take a key sae-a1 got for sae-b1" ag b key a --id "${ids1[1]}" --reveal
read -r local_id _ local_hex < <(ag a key b --reveal)
wait_until "a's notice for its own consumer is acknowledged" "[[ \$(peer_field a .pending) == 0 ]]"
expect_eq "$(dec b1 a1 "$local_id" | head -n1)" 401 "sae-b1 may not take a key a's control socket handed out"
expect_eq "$(ag b key a --id "$local_id" --reveal | cut -d' ' -f1,3)" "$local_id $local_hex" \
  "b's control socket takes it, the same bytes"
expect_eq "$(dec b1 a1 "${ids1[@]}")" "200
$keys1" "sae-b1 takes the 5 keys sae-a1 got for it, the same bytes (none lost to the refused takers)"
expect_eq "$(dec b1 a1 "${ids1[0]}" | head -n1)" 400 "a key taken already is not found (400), not awaited"
# A well-formed key id this session never made (another tag, an index no
# notice covers): 400, not a 503 that would have the SAE wait forever.
forged=${ids1[0]:0:32}ffff
forged=$([[ ${forged:0:1} == 0 ]] && echo 1 || echo 0)${forged:1}
expect_eq "$(dec b1 a1 "$forged" | head -n1)" 400 \
  "an id this session never made is not found (400): no notice will come for it"
expect_eq "$(dec b2 a2 "${ids2[@]}")" "200
$keys2" "sae-b2 takes the 3 keys sae-a2 got for it"

# The broker dies mid-flight. One notice names a whole run of key_reserve
# (64) keys as it is reserved for its SAE pair, so keys of a run already
# announced need none; a request past it reserves a new run, whose notice
# waits in a's outbox, the slave is told the key is not synchronised yet,
# and the broker's return delivers it.
kill -9 "$BROKER_PID"
wait "$BROKER_PID" 2> /dev/null || true
wait_until "a sees the broker gone" "[[ \$(peer_field a .transport) == none ]]"
keys_run=$(enc a1 b1 2 | jq -r '.keys[] | .key_ID + " " + .key')
ids_run=($(cut -d' ' -f1 <<< "$keys_run"))
expect_eq "$(peer_field a .pending)" 0 "keys of a run already announced need no notice of their own"
expect_eq "$(dec b1 a1 "${ids_run[@]}")" "200
$keys_run" "so the slave takes them with the broker down"
keys3=$(enc a1 b1 64 | jq -r '.keys[] | .key_ID + " " + .key')  # 57 left of the run: a new one
ids3=($(cut -d' ' -f1 <<< "$keys3"))
expect_eq "$(peer_field a .pending)" 1 "with the broker down, the new run's notice waits in a's outbox"
expect_eq "$(dec b1 a1 "${ids3[@]}" | head -n1)" 503 \
  "a key not yet synchronised is not handed out (503)"
mqtt_broker_up
wait_until "a reconnects to the broker" "[[ \$(peer_field a .transport) == relay ]]"
wait_until "the notice is acknowledged after the broker's restart" "[[ \$(peer_field a .pending) == 0 ]]"
expect_eq "$(dec b1 a1 "${ids3[@]}")" "200
$keys3" "after the broker's restart the slave gets its keys"
# A second re-seed across the restarted broker.
ag a agree b > /dev/null
expect_shared_key a b "a re-seed after the broker's restart"

# Replays and forgeries: a captured message (tags, not an ack) published
# again is dropped as a duplicate and not acted on; with one bit flipped
# it is refused.
seen() { echo $(( $(peer_field a ".$1") + $(peer_field b ".$1") )); }
wait_until "nothing waits for an ack" "[[ \$(peer_field a .pending) == 0 && \$(peer_field b .pending) == 0 ]]"
dups=$(seen duplicates)
refused=$(seen refused)
acted=$(seen received.relay)
# The newest message longer than any ack (acks seal about 10 bytes): the
# last re-seed's tags, sealed under an epoch both sides still hold.
read -r topic msg < <(awk 'length($2) > 100 { line = $0 } END { print line }' "$WORK/capture.txt")
publish() { xxd -r -p <<< "$2" | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -q 1 -t "$1" -s; }
publish "$topic" "$msg"
# (a resend still on its way when the ack came may add one more duplicate)
wait_until "the replay arrives" "(( \$(seen duplicates) >= dups + 1 ))"
expect_eq "$(seen received.relay)" "$acted" "a replayed message is dropped as a duplicate, not acted on again"
last=${msg: -1}
publish "$topic" "${msg%?}$([[ $last == 0 ]] && echo 1 || echo 0)"
wait_until "the forgery arrives" "(( \$(seen refused) == refused + 1 ))"
expect_eq "$(seen received.relay)" "$acted" "an altered message is refused, not acted on"
expect_shared_key a b "replays and forgeries changed nothing"

# The outbox outlives its agent: with b away, a's notice waits; a is killed
# and restarted, then b comes back, and the notice still arrives.
stop_agent b
keys6=$(enc a2 b2 64 | jq -r '.keys[] | .key_ID + " " + .key')  # 61 left of the run: a new one
ids6=($(cut -d' ' -f1 <<< "$keys6"))
expect_eq "$(peer_field a .pending)" 1 "with b away, a's notice waits for b's ack"
kill -9 "${AGENT_PID[a]}"
wait "${AGENT_PID[a]}" 2> /dev/null || true
start_agent a "$(kme2_toml "$KME_A" sae-a1 sae-a2 "${ID[b]}" sae-b1 sae-b2)"
expect_eq "$(peer_field a .pending)" 1 "after a kill -9, the notice is still in a's outbox"
start_agent b "$(kme2_toml "$KME_B" sae-b1 sae-b2 "${ID[a]}" sae-a1 sae-a2)"
wait_for_port "$KME_B"
wait_until "the notice arrives after both restarts" "[[ \$(peer_field a .pending) == 0 ]]"
expect_eq "$(dec b2 a2 "${ids6[@]}")" "200
$keys6" "the slave gets the keys whose notice outlived a kill -9 of the master's agent"

# A fresh session (epoch 1 again) starts the channel anew: its key ids
# reuse the old epoch 1's indices, and nothing the old session synced may
# decide who gets them.
ag a agree b --fresh > /dev/null
enc a1 b1 2 > /dev/null  # keys 0 and 1 of epoch 1 for sae-b1 ...
wait_until "the first fresh session's notice is acknowledged" "[[ \$(peer_field a .pending) == 0 ]]"
ag a agree b --fresh > /dev/null
expect_eq "$(peer_field a .epoch) $(peer_field b .epoch)" "1 1" "a fresh session is at epoch 1 on both sides"
kill -9 "$BROKER_PID"
wait "$BROKER_PID" 2> /dev/null || true
keys7=$(enc a2 b2 2 | jq -r '.keys[] | .key_ID + " " + .key')  # ... and now for sae-b2
ids7=($(cut -d' ' -f1 <<< "$keys7"))
expect_eq "$(dec b1 a1 "${ids7[@]}" | head -n1)" 503 \
  "before its notice arrives, nothing of the session before says whose the fresh keys are"
mqtt_broker_up
wait_until "the fresh session's notice is acknowledged" "[[ \$(peer_field a .pending) == 0 ]]"
expect_eq "$(dec b1 a1 "${ids7[@]}" | head -n1)" 401 "then the notice refuses them to sae-b1"
expect_eq "$(dec b2 a2 "${ids7[@]}")" "200
$keys7" "and sae-b2 gets its keys of the fresh session"

# What the broker saw: ciphertext under pseudonymous topics.
relayed=$(wc -l < "$WORK/capture.txt")
(( relayed >= 10 )) && pass "the capture holds $relayed relayed messages" || fail "only $relayed captured"
hex() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
leaks=0
for id in "${ids1[@]}" "${ids2[@]}" "${ids_run[@]}" "${ids3[@]}" "${ids6[@]}" "${ids7[@]}"; do
  for needle in "$(hex "$id")" "${id//-/}"; do
    grep -qi "$needle" "$WORK/capture.txt" && { echo "key id $id in the capture" >&2; leaks=1; }
  done
done
for text in "${ID[a]}" "${ID[b]}" sae-a1 sae-a2 sae-b1 sae-b2; do
  grep -qi "$(hex "$text")" "$WORK/capture.txt" && { echo "$text in a payload" >&2; leaks=1; }
  cut -d' ' -f1 "$WORK/capture.txt" | grep -q "$text" && { echo "$text in a topic" >&2; leaks=1; }
done
while read -r _ key; do
  grep -qi "$(base64 -d <<< "$key" | xxd -p | tr -d '\n')" "$WORK/capture.txt" && { echo "a key in the capture" >&2; leaks=1; }
done <<< "$keys1
$keys2
$keys_run
$keys3
$keys6
$keys7"
expect_eq "$leaks" 0 "no key, key id, device id or SAE id appears in any relayed message or topic"
expect_eq "$(cut -d' ' -f1 "$WORK/capture.txt" | grep -cvE '^skap/v1/plant-1/[0-9a-f]{32}/in$')" 0 \
  "every topic is skap/v1/<network>/<pseudonym>/in"

# Direct: with listeners and each other's address, the agents link
# directly and prefer it; when b's listener goes, a falls back to the relay.
stop_agent a
stop_agent b
take_port PEER_A
take_port PEER_B
direct_toml() { printf '[peer]\nresend_s = 1\nlisten = "127.0.0.1:%s"\n[[peer.direct]]\npeer = "%s"\naddress = "127.0.0.1:%s"\n%s\n' \
  "$1" "$2" "$3" "$(relay_toml)"; }
AGENT_TOML=""
start_agent a "$(direct_toml "$PEER_A" "${ID[b]}" "$PEER_B")" "$(kme2_toml "$KME_A" sae-a1 sae-a2 "${ID[b]}" sae-b1 sae-b2)"
start_agent b "$(direct_toml "$PEER_B" "${ID[a]}" "$PEER_A")" "$(kme2_toml "$KME_B" sae-b1 sae-b2 "${ID[a]}" sae-a1 sae-a2)"
wait_for_port "$KME_A"
wait_for_port "$KME_B"
wait_until "a links to b directly" "[[ \$(peer_field a .transport) == direct ]]"
wait_until "b links to a directly" "[[ \$(peer_field b .transport) == direct ]]"
pass "with a direct link up, both agents prefer it to the relay"
before=$(wc -l < "$WORK/capture.txt")
keys4=$(enc a1 b1 4 | jq -r '.keys[] | .key_ID + " " + .key')
ids4=($(cut -d' ' -f1 <<< "$keys4"))
wait_until "the notice is acknowledged over the direct link" "[[ \$(peer_field a .pending) == 0 ]]"
expect_eq "$(dec b1 a1 "${ids4[@]}")" "200
$keys4" "key-id sync over the direct link"
(( $(peer_field a .sent.direct) >= 1 )) && pass "a's notice went over the direct link" || fail "nothing sent directly"
expect_eq "$(wc -l < "$WORK/capture.txt")" "$before" "nothing went through the broker meanwhile"
ag a agree b > /dev/null
expect_shared_key a b "a re-seed with the direct link up"

# b comes back without its listener and without dialling: a falls back.
stop_agent b
start_agent b "[peer]
resend_s = 1
$(relay_toml)" "$(kme2_toml "$KME_B" sae-b1 sae-b2 "${ID[a]}" sae-a1 sae-a2)"
wait_for_port "$KME_B"
wait_until "a falls back to the relay" "[[ \$(peer_field a .transport) == relay ]]"
[[ "$(peer_field a .direct)" != up ]] && pass "a's status shows the direct link down: $(peer_field a .direct)" ||
  fail "direct still up"
keys5=$(enc a1 b1 2 | jq -r '.keys[] | .key_ID + " " + .key')
ids5=($(cut -d' ' -f1 <<< "$keys5"))
wait_until "the notice is acknowledged through the relay" "[[ \$(peer_field a .pending) == 0 ]]"
expect_eq "$(dec b1 a1 "${ids5[@]}")" "200
$keys5" "key-id sync through the relay after the fallback"
(( $(wc -l < "$WORK/capture.txt") > before )) && pass "the fallback's messages went through the broker" ||
  fail "nothing relayed after the fallback"
echo "# $PASSED checks passed"
