#!/usr/bin/env bash
# An epoch split healed without an operator, through real skapd processes.
# n = 2, k = 1. Both hubs lose the initiator's last tag of a re-seed (a
# hub that drops confirmations to b, tests/tools/faulty_skapd.cc), so a
# commits epoch 2 and b stays at 1. Then hub 2 goes down: b's refusal of a's
# next re-seed reaches a through one hub only, fewer than the n - k + 1 a
# hub-carried refusal needs, and counts because it is authenticated under
# the epoch both still hold. a, the side ahead, starts the session afresh
# by itself: one epoch and one key on both sides again.
#   epoch_split_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
new_hubs 2
network_everywhere plant 1
a=$(provision_everywhere plant a)
b=$(provision_everywhere plant b)
export AGREEMENT_TIMEOUT=3
for name in a b; do start_agent "$name"; done
for id in "$a" "$b"; do admit_everywhere "$id"; done
for name in a b; do wait_until "$name reaches 2 hubs" "[[ \$(hubs_up $name) == 2 ]]"; done
epochs() { ag "$1" status --json | jq -r '.sessions[0].epoch'; }

out=$(ag a agree b)
[[ "$out" == "agreed with b: session epoch 1"* ]] || fail "$out"
wait_until "b is at epoch 1" "[[ \$(epochs b) == 1 ]]"

for i in 1 2; do stop_hub_n "$i"; done
for i in 1 2; do HUB_FAULT=drop-confirms HUB_ENV="SKAP_FAULT_DEVICE=$b" start_hub_n "$i"; done
for name in a b; do wait_until "$name is back on 2 hubs" "[[ \$(hubs_up $name) == 2 ]]"; done
out=$(ag a agree b)
[[ "$out" == "agreed with b: session epoch 2"* ]] || fail "$out"
wait_until "b gives up on the re-seed" \
  "[[ \$(ag b status --json | jq -r '.agreements[0].state') == failed ]]"
expect_eq "$(epochs a) $(epochs b)" "2 1" "the last tag lost on every hub splits the pair"

for i in 1 2; do stop_hub_n "$i"; done
start_hub_n 1
for name in a b; do wait_until "$name is on hub 1" "[[ \$(hubs_up $name) == 1 ]]"; done
out=$(ag a agree b)
[[ "$out" == "agreed with b: session epoch 1"* ]] && pass "a healed the split by itself" ||
  fail "$out"
expect_eq "$(ag a status --json | jq -r '[.agreements[].reason | select(contains("starts afresh"))] | length')" \
  1 "a's refused re-seed says why it started afresh"
wait_until "b is at epoch 1" "[[ \$(epochs b) == 1 ]]"
expect_eq "$(epochs a) $(epochs b)" "1 1" "one epoch on both sides"
expect_shared_key a b "and both hold the same keys"
echo "$PASSED passed, 0 failed"
