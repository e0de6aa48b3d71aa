#!/usr/bin/env bash
# Crash and lost-message tests against a real hub and agent: the channel key
# ratchet cut at every step (hub killed before and after its commit, agent
# killed before and after storing the new key), provisioning and admission
# with skapd killed (-9) before and after the commit, and the ratchet
# schedule by sessions, and the group commit's boundary (no answer before
# its batch is durable). After each: nothing lost, the device reconnects and
# ratchets again, the key it gave up is refused, and the audit chain holds.
# Needs a build with crash points (SKAP_CRASH_POINTS, on in test builds).
#   hub_crash_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
take_port port
new_hub "$port" "ratchet_after_sessions = 3"
HUB=
# start_hub [CRASH_POINT]: run skapd, killing itself at CRASH_POINT if given.
start_hub() {
  SKAP_CRASH_AT=${1:-} "$SKAPD" run --config skapd.toml 2>> skapd.log &
  HUB=$!
  PIDS+=("$HUB")
  wait_for_port "$port"
}
stop_hub() { kill "$HUB"; wait "$HUB" || true; }
epoch() { "$AGENT" status --data "$1" | sed -n 's/.*key epoch \([0-9]*\)$/\1/p'; }
device_state() { ctl alice --json device show "$1" | jq -r .state; }

start_hub
ctl alice network create plant-1 > /dev/null
ctl alice operator add pat --role provisioner --token-out pat.token 2> /dev/null
ctl alice operator add adam --role admitter --token-out adam.token 2> /dev/null
provision() { ctl pat device provision --network plant-1 --name "$1" --out "$1.skapbundle"; }

# --- provisioning, killed before and after the commit ---
stop_hub; start_hub hub.provision.before-commit
expect_fail "" "provisioning fails when the hub dies before committing" provision p-1
expect_killed "$HUB" "skapd was killed (-9) at hub.provision.before-commit"
start_hub
expect_eq "$(ctl alice --json device list --network plant-1 | jq length)" 0 \
  "nothing half-made: no device after a crash before the commit"
provision p-1 2> /dev/null
pass "the same name provisions after the restart"
stop_hub; start_hub hub.provision.after-commit
expect_fail "" "provisioning reports failure when the hub dies before answering" provision p-2
expect_killed "$HUB" "skapd was killed (-9) at hub.provision.after-commit"
start_hub
p2=$(ctl alice --json device list --network plant-1 | jq -r '.[] | select(.name=="p-2") | .id')
expect_eq "$(device_state "$p2")" provisioned "the committed device is there, its bundle never left"
ctl adam device reject "$p2" > /dev/null
pass "the operator can reject the undelivered device"

# --- admission, killed before and after the commit ---
"$AGENT" enroll --data d --bundle p-1.skapbundle > /dev/null
d=$(ctl alice --json device list --network plant-1 | jq -r '.[] | select(.name=="p-1") | .id')

# --- group commit: an answer leaves only once its batch is durable ---
# The device's first report is the only change of its turn: skapd killed
# before that batch commits stores nothing, and killed after the commit
# (before the turn's answers go out) stores it; either way the device has
# heard nothing, and reports again.
stop_hub; start_hub hub.batch.before-commit
expect_fail "" "no answer to a report whose batch is not yet committed" "$AGENT" connect --data d
expect_killed "$HUB" "skapd was killed (-9) at hub.batch.before-commit"
start_hub
expect_eq "$(device_state "$d")" provisioned "nothing of the uncommitted batch is stored"
stop_hub; start_hub hub.batch.after-commit
expect_fail "" "no answer before the committed batch released it" "$AGENT" connect --data d
expect_killed "$HUB" "skapd was killed (-9) at hub.batch.after-commit"
start_hub
expect_eq "$(device_state "$d")" pending "the committed batch holds"
expect_eq "$("$AGENT" connect --data d)" pending "device reports"
stop_hub; start_hub hub.admit.before-commit
expect_fail "" "admission fails when the hub dies before committing" ctl adam device admit "$d"
expect_killed "$HUB" "skapd was killed (-9) at hub.admit.before-commit"
start_hub
expect_eq "$(device_state "$d")" pending "still pending after a crash before the commit"
expect_eq "$("$AGENT" connect --data d)" pending "the device still reports"
stop_hub; start_hub hub.admit.after-commit
expect_fail "" "admission reports failure when the hub dies before answering" \
  ctl adam device admit "$d"
expect_killed "$HUB" "skapd was killed (-9) at hub.admit.after-commit"
start_hub
expect_eq "$(device_state "$d")" active "the committed admission holds"
expect_eq "$("$AGENT" connect --data d)" active "the device takes up epoch 1"
expect_eq "$(epoch d)" 1 "at epoch 1"

# --- the ratchet, cut at every step ---
# crash_hub_at POINT: the hub dies at POINT during a ratchet; after a restart
# the device reconnects with the key it holds and ratchets again.
crash_hub_at() {
  local before
  before=$(epoch d)
  stop_hub; start_hub "$1"
  expect_fail "" "ratchet fails when the hub dies at $1" "$AGENT" ratchet --data d
  expect_killed "$HUB" "skapd was killed (-9) at $1"
  expect_eq "$(epoch d)" "$before" "the device kept epoch $before"
  start_hub
  after_crash "$1" "$before"
}
# crash_agent_at POINT: the agent dies at POINT during a ratchet.
crash_agent_at() {
  local before status=0
  before=$(epoch d)
  SKAP_CRASH_AT=$1 "$AGENT" ratchet --data d > /dev/null 2>&1 || status=$?
  expect_eq "$status" 137 "skap-agent was killed (-9) at $1"
  after_crash "$1" "$before"
}
# after_crash POINT EPOCH: reconnect, ratchet on, and the old key is gone.
after_crash() {
  expect_eq "$("$AGENT" connect --data d)" active "reconnects after $1"
  rm -rf old && cp -r d old
  local now
  now=$(epoch d)
  expect_eq "$("$AGENT" ratchet --data d)" "key epoch $((now + 1))" "ratchets on after $1"
  expect_fail "refused the channel key" "the key of epoch $now is refused once $((now + 1)) is proven" \
    "$AGENT" connect --data old
}
crash_hub_at hub.ratchet.before-commit
crash_hub_at hub.ratchet.after-commit
crash_agent_at agent.ratchet.before-save
crash_agent_at agent.ratchet.after-save
expect_eq "$(epoch d)" 6 "four interrupted ratchets (two replaced on the hub) reach epoch 6"

# --- the schedule: the hub asks for a ratchet after 3 sessions of an epoch ---
# The ratchet's own proof was session 1 of epoch 6.
"$AGENT" connect --data d > /dev/null
expect_eq "$(epoch d)" 6 "session 2: not due yet"
"$AGENT" connect --data d > /dev/null
expect_eq "$(epoch d)" 7 "session 3: the hub pushes RatchetDue and the device ratchets"
ctl adam device ratchet "$d" > /dev/null
"$AGENT" connect --data d > /dev/null
expect_eq "$(epoch d)" 8 "an operator's request is honoured at the next connection"

ratchets=$(ctl alice --json audit list --target "$d" | jq '[.[] | select(.action=="device.ratchet" and .outcome=="ok")] | length')
expect_eq "$ratchets" 9 "every committed ratchet is audited (7 epochs, 2 replaced)"
expect_eq "$(ctl alice audit verify | cut -d: -f1)" "audit chain intact" "audit chain intact after six kills"
echo "$PASSED passed, 0 failed"
