#!/usr/bin/env bash
# Pairwise agreement through three real hubs (k = 2) between two running
# agents: provisioned and admitted at every hub by two operators, a key
# agreed with the same id and fingerprint on both sides, keys by id,
# re-seeds with one hub down, a clean refusal with fewer than k hubs, and
# what each hub saw: one share of each side, never a key.
#   agreement_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
new_hubs 3
network_everywhere plant-1 2
expect_eq "$(jq -r .threshold <(hctl 2 alice --json network show plant-1))" 2 "the network agrees keys 2 of 3"
devices_up plant-1 a b
b=${ID[b]}
pass "both devices admitted at 3 hubs by a second operator"
expect_eq "$(ag a peers | awk '{ print $1, $2 }')" "$b b" "a sees b as its peer"

out=$(ag a agree b)
[[ "$out" == "agreed with b: session epoch 1"* ]] && pass "a and b agree a key: $out" || fail "agree: $out"
expect_shared_key a b "a key either side hands out, the other fetches by its id: same id and fingerprint"
# Without --reveal a key is shown, not spent: the README's order (compare
# the fingerprints, then reveal) hands out the key that was compared.
read -r shown fp_shown < <(ag a key b)
expect_eq "$(ag a key b)" "$shown $fp_shown" "showing a's next key twice shows the same key: nothing spent"
expect_eq "$(ag b key a --id "$shown")" "$shown $fp_shown" "b shows the key of that id: the same fingerprint"
expect_eq "$(ag b key a --id "$shown")" "$shown $fp_shown" "and showing it did not erase it at b"
read -r next_a fp_a hex_shown < <(ag a key b --reveal)
expect_eq "$next_a $fp_a" "$shown $fp_shown" "--reveal hands out the key that was shown"
expect_eq "$(ag b key a --id "$shown" --reveal | cut -d' ' -f3)" "$hex_shown" "and b reveals the same bytes by id"
[[ "$(ag a key b | cut -d' ' -f1)" != "$shown" ]] && pass "once revealed, a's next key is another" ||
  fail "a shows a key it handed out"
read -r next_a _ < <(ag a key b --reveal)
read -r next_b _ < <(ag b key a --reveal)
[[ -n "$next_a" && "$next_a" != "$next_b" ]] && pass "keys both sides hand out at once differ" ||
  fail "both sides handed out $next_a"
read -r id fp hex_a < <(ag a key b --reveal)
read -r id_b fp_b hex_b < <(ag b key a --id "$id" --reveal)
expect_eq "$id_b $fp_b $hex_b" "$id $fp $hex_a" "the peer fetches the same key by its id"
expect_eq "${#hex_a}" 64 "a 256-bit key"
expect_fail "handed out already" "a key is handed out once per side" ag b key a --id "$id"
# Keys b steps over to reach a later id wait for it, and status counts them
# (one already: a's key b never fetched, above).
expect_eq "$(ag b status --json | jq -c '.sessions[0] | [.keys_waiting, .keys_aged_out]')" '[1,0]' \
  "the key b stepped over to reach the last id waits to be fetched"
for _ in 1 2; do ag a key b --reveal > /dev/null; done
read -r third _ < <(ag a key b --reveal)
ag b key a --id "$third" --reveal > /dev/null
expect_eq "$(ag b status --json | jq -c '.sessions[0] | [.keys_waiting, .keys_aged_out]')" '[3,0]' \
  "and so do the two b stepped over now"
expect_eq "$(ag b status | grep -c 'not fetched yet: 3 waiting, 0 aged out')" 1 "and b's status says so"

# What each hub saw: one share from each side, at its own index, and no key.
for i in 1 2 3; do
  shares=$(hctl "$i" alice --json audit list --action agreement.share)
  expect_eq "$(jq length <<< "$shares")" 2 "hub $i relayed one share of each side"
  index=$(jq -r '[.[].detail.hub_index] | unique | join(",")' <<< "$shares")
  expect_eq "$index" "$(printf '%s\n' "${HUB_ID[@]}" | sort | grep -n "${HUB_ID[$i]}" | cut -d: -f1)" \
    "hub $i carried share x = its place in the sorted hub set"
  if grep -rqi "$hex_a" "$WORK/hub$i" "$WORK/hub$i.log" ||
    find "$WORK/hub$i" -type f -exec cat {} + | od -An -tx1 -v | tr -d ' \n' | grep -q "$hex_a"; then
    fail "hub $i holds the key"
  fi
  pass "hub $i's files and log hold the key neither as text nor as bytes"
done

# One hub down: 2 of 3 still agree; the responder can start too.
stop_hub_n 3
wait_until "a notices hub 3 is down" '[[ $(hubs_up a) == 2 ]]'
wait_until "b notices hub 3 is down" '[[ $(hubs_up b) == 2 ]]'
out=$(ag b agree a)
[[ "$out" == "agreed with a: session epoch 2"* ]] && pass "re-seeded with hub 3 down: $out" || fail "$out"
expect_shared_key a b "epoch 2 keys match"
expect_eq "$(ag a status --json | jq '.sessions[0].epoch')" 2 "a's session is at epoch 2"

# Two hubs down: fewer than k, so no agreement starts.
stop_hub_n 2
wait_until "a notices hub 2 is down" '[[ $(hubs_up a) == 1 ]]'
expect_fail "only 1 of 3 hubs are reachable; an agreement needs 2" \
  "with fewer than k hubs the agreement is refused" ag a agree b
expect_eq "$(ag a status --json | jq '.sessions[0].epoch')" 2 "the session is unchanged"

# The hubs come back: the agents reconnect and agree again.
start_hub_n 2
start_hub_n 3
wait_until "a reaches 3 hubs again" '[[ $(hubs_up a) == 3 ]]'
wait_until "b reaches 3 hubs again" '[[ $(hubs_up b) == 3 ]]'
out=$(ag a agree b)
[[ "$out" == "agreed with b: session epoch 3"* ]] && pass "hubs back: $out" || fail "$out"
expect_shared_key a b "epoch 3 keys match"
out=$(ag b agree a --hybrid)
[[ "$out" == "agreed with a: session epoch 4, hybrid"* ]] && pass "a hybrid re-seed: $out" || fail "$out"
expect_shared_key a b "hybrid epoch 4 keys match"
for i in 1 2 3; do
  expect_eq "$(hctl "$i" alice audit verify | cut -d: -f1)" "audit chain intact" "hub $i's audit chain"
done
echo "$PASSED passed, 0 failed"
