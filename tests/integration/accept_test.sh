#!/usr/bin/env bash
# Listeners that survive a process out of file descriptors: a hub and an
# agent started with 64 descriptors are flooded with idle connections until
# accepting fails (EMFILE) on every listener they have; each says so once in
# its log, and once the clients are gone, each serves again: the hub's
# device channel, admin socket and admin TLS port, the agent's control
# socket, ETSI GS QKD 014 port and direct peer listener.
#   accept_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
HOLD="$(cd "$(dirname "$0")" && pwd)/hold_connections.py"
use_build "$1"
take_port ADMIN_PORT
new_hubs 1 "admin_listen = \"127.0.0.1:$ADMIN_PORT\""
stop_hub_n 1
HUB_NOFILE=64 start_hub_n 1
network_everywhere plant-1 1
devices_up plant-1 a b
ag a agree b > /dev/null

# flood COUNT TARGET...: hold_connections.py in the background; returns once
# its connections are open. release: closes them.
flood() {
  coproc HOLDER { python3 "$HOLD" "$@"; }
  local line
  read -r line <&"${HOLDER[0]}"
  [[ "$line" == held* ]] || fail "the flood did not start: $line"
  echo "$line"
}
release() {
  echo >&"${HOLDER[1]}"
  local line
  read -r line <&"${HOLDER[0]}"
  wait "$HOLDER_PID" 2> /dev/null || true
}
# expect_failed LOG WHAT...: each listener WHAT logged a failed accept.
expect_failed() {
  local log=$1 what
  shift
  for what in "$@"; do
    wait_until "$what meets a failed accept" "grep -q '$what: accepting failed' $log"
  done
}
# expect_accepting_again LOG WHAT...: each accepts again, and logged each
# spell of failures once (a line when it began, one when it ended), not
# once per failed accept.
expect_accepting_again() {
  local log=$1 what
  shift
  for what in "$@"; do
    wait_until "$what accepts again" "grep -q '$what: accepting again' $log"
    local failed again
    failed=$(grep -c "$what: accepting failed" "$log")
    again=$(grep -c "$what: accepting again" "$log")
    [[ $failed -ge 1 && $failed -eq $again ]] && pass "$what logged the failure once ($failed spell(s))" ||
      fail "$what: $failed lines of failure, $again of recovery"
  done
}

# The hub: a hundred idle clients at each listener.
flood 100 "${HUB_PORT[1]}" "$WORK/hub1/data/admin.sock" "$ADMIN_PORT"
expect_failed "$WORK/hub1.log" "device channel" "admin socket" "admin listener"
pass "the hub ran out of descriptors on all three listeners"
release
expect_accepting_again "$WORK/hub1.log" "device channel" "admin socket" "admin listener"
expect_eq "$(hctl 1 alice hub id)" "${HUB_ID[1]}" "the admin socket serves again"
expect_eq "$(SKAP_HUB_ADMIN=127.0.0.1:$ADMIN_PORT "$SKAPCTL" --socket /nonexistent --operator alice@acme \
  --token-file "$WORK/hub1/alice.token" hub id)" "${HUB_ID[1]}" "the admin TLS port serves again"
hctl 1 pat device provision --network plant-1 --name c --out "$WORK/c.skapbundle" 2> /dev/null
"$AGENT" enroll --data "$WORK/c" "$WORK/c.skapbundle" > /dev/null
expect_eq "$("$AGENT" connect --data "$WORK/c")" pending "the device channel serves again"

# The agent: a with its ETSI GS QKD 014 service and a peer listener that b
# dials.
stop_agent a
sae_add a sae-a
take_port KME_A
take_port PEER_A
AGENT_NOFILE=64 start_agent a "$(kme_toml "$KME_A" sae-a "${ID[b]}" sae-b)" \
  "[peer]" "listen = \"127.0.0.1:$PEER_A\""
wait_for_port "$KME_A"
wait_for_port "$PEER_A"
b_toml="$(printf '[peer]\n[[peer.direct]]\npeer = "%s"\naddress = "127.0.0.1:%s"\n' "${ID[a]}" "$PEER_A")"
stop_agent b
start_agent b "$b_toml"
direct() { ag b status --json | jq -r '.peer_channel.peers[0].direct'; }
wait_until "b links to a directly" "[[ \$(direct) == up ]]"
stop_agent b
flood 100 "$KME_A" "$WORK/a/control.sock" "$PEER_A"
expect_failed "$WORK/agent-a.log" "etsi014 listener" "control socket" "peer listener"
pass "the agent ran out of descriptors on all three listeners"
release
expect_accepting_again "$WORK/agent-a.log" "etsi014 listener" "control socket" "peer listener"
expect_eq "$(ag a status --json | jq -r .device.name)" a "the control socket serves again"
status=$(curl -sS --cacert "$WORK/sae-a/ca.pem" --cert "$WORK/sae-a/sae-a.pem" \
  --key "$WORK/sae-a/sae-a.key" "https://127.0.0.1:$KME_A/api/v1/keys/sae-b/status")
expect_eq "$(jq -r .key_size <<< "$status")" 256 "the ETSI GS QKD 014 port serves again"
start_agent b "$b_toml"
wait_until "b links to a directly again" "[[ \$(direct) == up ]]"
pass "the peer listener serves again"
echo "$PASSED passed, 0 failed"
