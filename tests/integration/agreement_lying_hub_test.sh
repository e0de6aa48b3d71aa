#!/usr/bin/env bash
# A hub that lies to stop a pair, through real skapd processes: with n = 3,
# k = 2, hub 3 hands over every confirmation as a refusal in the sender's
# name. One hub's word is not the peer's: the first agreement and a re-seed
# both complete, with one epoch and one key on both sides, and nobody is
# named (no share was corrupted).
#   agreement_lying_hub_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
new_hubs 3
stop_hub_n 3
HUB_FAULT=lie-refusals start_hub_n 3
network_everywhere plant 2
a=$(provision_everywhere plant a)
b=$(provision_everywhere plant b)
for name in a b; do start_agent "$name"; done
for id in "$a" "$b"; do admit_everywhere "$id"; done
for name in a b; do wait_until "$name reaches 3 hubs" "[[ \$(hubs_up $name) == 3 ]]"; done

out=$(ag a agree b)
[[ "$out" == "agreed with b: session epoch 1"* ]] && pass "agreed despite forged refusals" ||
  fail "$out"
out=$(ag a agree b)
[[ "$out" == "agreed with b: session epoch 2"* ]] && pass "and re-seeded despite them" || fail "$out"
epochs() { ag "$1" status --json | jq -r '.sessions[0].epoch'; }
wait_until "b is at epoch 2" "[[ \$(epochs b) == 2 ]]"
expect_eq "$(epochs a) $(epochs b)" "2 2" "one epoch on both sides"
expect_eq "$(ag b status --json | jq -r '.agreements[0].state')" confirmed \
  "the responder confirmed the re-seed"
expect_eq "$(ag a status --json | jq -r '.agreements[0].inconsistent_hubs | length')" 0 \
  "no hub is named for a refusal"
expect_shared_key a b "and both hold the same keys"
echo "$PASSED passed, 0 failed"
