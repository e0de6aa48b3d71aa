#!/usr/bin/env bash
# What hubs can learn of an agreed key, read from their own stores with
# their own KEKs (tests/tools/hub_shares): honest hubs hold no share once
# the agreement is done; curious hubs that keep every share they relay
# (tests/tools/faulty_skapd --fault keep-shares) rebuild the key only when k of them pool their
# stores, never k - 1 (tests/integration/reconstruct.py), and not even all of
# them in hybrid mode. Three hubs, k = 2.
#   hub_knowledge_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
TOOL=$(cd "$1" && pwd)/tests/hub_shares
RECONSTRUCT=$(cd "$(dirname "$0")" && pwd)/reconstruct.py
use_build "$1"
new_hubs 3
network_everywhere plant-1 2
devices_up plant-1 a b
up() {
  wait_until "a reaches 3 hubs" '[[ $(hubs_up a) == 3 ]]'
  wait_until "b reaches 3 hubs" '[[ $(hubs_up b) == 3 ]]'
}
# read_stores: stops every hub and reads what each holds into hubI.shares.
read_stores() {
  for i in 1 2 3; do
    stop_hub_n "$i"
    "$TOOL" "$WORK/hub$i/data" > "hub$i.shares"
  done
}
ag a agree b > /dev/null
wait_until "b confirmed" "[[ \$(ag b status --json | jq -r '.agreements[0].state') == confirmed ]]"
sleep 0.5  # the last acknowledgements reach the hubs
for i in 1 2 3; do
  stop_hub_n "$i"
  expect_eq "$("$TOOL" "$WORK/hub$i/data" | wc -l)" 0 "honest hub $i holds no share after the agreement"
  HUB_FAULT=keep-shares start_hub_n "$i"
done
up
sid=$(ag a agree b --fresh --json | jq -r .sid)
read -r id _ key < <(ag a key b --reveal)
read -r _ _ key_b < <(ag b key a --id "$id" --reveal)
expect_eq "$key_b" "$key" "both sides hold the key"
read_stores
for i in 1 2 3; do
  expect_eq "$(grep -c "$sid" "hub$i.shares")" 2 "curious hub $i kept one share of each side"
done
out=$(python3 "$RECONSTRUCT" "$key" "$sid" hub1.shares hub2.shares hub3.shares) ||
  fail "reconstruct.py: $out"
echo "$out"
PASSED=$((PASSED + $(grep -c '^ok' <<< "$out")))

# Hybrid mode: the same curious hubs, and a fresh session with an X25519 step.
for i in 1 2 3; do HUB_FAULT=keep-shares start_hub_n "$i"; done
up
out=$(ag a agree b --fresh --hybrid --json)
sid=$(jq -r .sid <<< "$out")
expect_eq "$(jq -r .hybrid <<< "$out")" true "a hybrid agreement"
read -r id _ key < <(ag a key b --reveal)
read -r _ _ key_b < <(ag b key a --id "$id" --reveal)
expect_eq "$key_b" "$key" "both sides hold the hybrid key"
read_stores
out=$(python3 "$RECONSTRUCT" "$key" "$sid" hub1.shares hub2.shares hub3.shares) ||
  fail "reconstruct.py (hybrid): $out"
echo "$out"
PASSED=$((PASSED + $(grep -c '^ok' <<< "$out")))
echo "$PASSED passed, 0 failed"
