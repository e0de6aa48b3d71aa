#!/usr/bin/env bash
# kill -9 at every step of a pairwise agreement, through three real hubs
# (k = 2): either agent before and after it stores its side, before and
# after it commits the session; every hub before and after it stores a
# share, and after it erases a delivered one; every hub before and after it
# commits a batch (group commit: a turn's work stored, its answers not yet
# sent); an agent just after it hands out a key. After each: the killed process restarts, both sides end with
# the same session epoch and the same keys, and no key id is ever handed
# out twice. The agreements are hybrid (an X25519 step between the agents),
# so the key pairs survive the restarts too. Needs a build with crash
# points (SKAP_CRASH_POINTS).
#   agreement_crash_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
# One commit per key (key_reserve = 1), so a crash skips exactly one id.
AGENT_TOML=$'hybrid = true\nkey_reserve = 1'
new_hubs 3
network_everywhere plant-1 2
devices_up plant-1 a b
both_up() {
  wait_until "a reaches 3 hubs" '[[ $(hubs_up a) == 3 ]]'
  wait_until "b reaches 3 hubs" '[[ $(hubs_up b) == 3 ]]'
}
session_epoch() { ag "$1" status --json | jq '.sessions[0].epoch // 0'; }
# both_at EPOCH WHAT: both sessions reach EPOCH and each fetches the other's key.
both_at() {
  wait_until "both sessions at epoch $1 after $2" \
    "[[ \$(session_epoch a) == $1 && \$(session_epoch b) == $1 ]]"
  expect_shared_key a b "after $2: epoch $1 on both sides, same keys"
}
ag a agree b > /dev/null
both_at 1 "a first agreement"
expect_eq "$(ag b status --json | jq '.agreements[0].hybrid')" true "the agreements are hybrid"

# crash_agent_at VICTIM POINT: VICTIM dies at POINT during an agreement a
# starts; restarted, it carries on from its stored state.
crash_agent_at() {
  local victim=$1 point=$2 next
  next=$(($(session_epoch a) + 1))
  stop_agent "$victim"
  AGENT_ENV="SKAP_CRASH_AT=$point" start_agent "$victim"
  both_up
  ag a agree b > /dev/null 2>&1 &
  local cli=$!
  expect_killed "${AGENT_PID[$victim]}" "agent $victim was killed (-9) at $point"
  start_agent "$victim"
  wait "$cli" || true
  both_at "$next" "agent $victim killed at $point"
}
crash_agent_at a agent.agree.after-start
crash_agent_at b agent.respond.after-start
crash_agent_at a agent.confirm.before-commit
crash_agent_at a agent.confirm.after-commit
crash_agent_at b agent.confirm.before-commit
crash_agent_at b agent.confirm.after-commit

# crash_hubs_at POINT: every hub dies at POINT; restarted, the agents'
# links come back, resend what may be missing, and the agreement completes.
crash_hubs_at() {
  local point=$1 next i
  next=$(($(session_epoch a) + 1))
  for i in 1 2 3; do stop_hub_n "$i"; start_hub_n "$i" "$point"; done
  both_up
  ag a agree b > agree.out 2>&1 &
  local cli=$!
  for i in 1 2 3; do expect_killed "${HUB_PID[$i]}" "hub $i was killed (-9) at $point"; done
  for i in 1 2 3; do start_hub_n "$i"; done
  wait "$cli" || true
  both_at "$next" "every hub killed at $point"
}
crash_hubs_at hub.share.before-commit
crash_hubs_at hub.share.after-commit
crash_hubs_at hub.ack.after-commit
# The group commit's boundary: a turn's batch of offers and acks killed
# before its commit (nothing of it stored, nothing of it answered) and
# after it (all of it stored, none of it answered yet). The first batch of
# an agreement holds its shares, which the initiator sends again to every
# hub that comes back; the second and third (at least three batches at each
# hub: the shares; the responder's acknowledgement and tags; the
# initiator's, or the responder's last acknowledgement) hold what an agent
# sends once a hub has acknowledged it, so an answer released before its
# commit would lose it for good.
for nth in 1 2 3; do
  crash_hubs_at "hub.batch.before-commit#$nth"
  crash_hubs_at "hub.batch.after-commit#$nth"
done

# An agent killed just after it committed a key it had not yet handed out:
# that key id is never handed out on that side again, and the peer still
# has it.
read -r before _ < <(ag a key b --reveal)
stop_agent a
AGENT_ENV="SKAP_CRASH_AT=agent.key.after-commit" start_agent a
expect_fail "" "the key request dies with the agent" ag a key b --reveal
expect_killed "${AGENT_PID[a]}" "agent a was killed (-9) at agent.key.after-commit"
start_agent a
read -r after _ < <(ag a key b --reveal)
index() { printf '%d' "0x${1: -8}"; }
expect_eq "$(($(index "$after") - $(index "$before")))" 2 "the key handed out at the crash is skipped"
lost=${before:0:28}$(printf '%08x' $(($(index "$before") + 1)))
read -r got _ < <(ag b key a --id "$lost" --reveal)
expect_eq "$got" "$lost" "the peer still hands out the key a lost"

for i in 1 2 3; do
  expect_eq "$(hctl "$i" alice audit verify | cut -d: -f1)" "audit chain intact" "hub $i's audit chain"
done
echo "$PASSED passed, 0 failed"
