#!/usr/bin/env bash
# IPsec PPKs (RFC 8784) into real strongSwan: two network namespaces joined
# by a veth pair (198.18.0.0/24), one charon in each (its own mount
# namespace, so its fixed /var/run/charon.pid is its own), a hub and the two
# agents on the host, each agent talking to its charon's VICI socket.
# IKEv2 with ppk_required = yes comes up with the PPK of the session's
# epoch and carries traffic; a re-seed rotates it (the initiator's agent
# reauthenticates make-before-break with the new PPK); a mismatched PPK
# fails and leaves the SA that is up alone. The kernel here has no ESP, so
# the CHILD_SA runs in charon's kernel-libipsec (a TUN device per side).
# Skips (77) only where network namespaces cannot be made.
#   ppk_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
ns_a=skap$$a ns_b=skap$$b
if ! ip netns add "$ns_a" 2> /dev/null; then
  echo "SKIP: network namespaces cannot be created here (needs CAP_NET_ADMIN)"
  exit 77
fi
CLEANUP+=("ip netns del $ns_a" "ip netns del $ns_b")
ip netns add "$ns_b"
CHARON=/usr/lib/ipsec/charon
[[ -x "$CHARON" ]] && command -v swanctl > /dev/null ||
  fail "strongSwan is missing: scripts/deps.sh installs strongswan-charon and strongswan-swanctl"
ip link add "v$$a" type veth peer name "v$$b"
ip link set "v$$a" netns "$ns_a"
ip link set "v$$b" netns "$ns_b"
ip -n "$ns_a" addr add 198.18.0.1/24 dev "v$$a"
ip -n "$ns_b" addr add 198.18.0.2/24 dev "v$$b"
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
# The tunnel's inner addresses (the outer ones carry IKE and ESP-in-UDP).
ip -n "$ns_a" addr add 198.18.1.1/32 dev lo
ip -n "$ns_b" addr add 198.18.2.1/32 dev lo
ip -n "$ns_a" link set "v$$a" up
ip -n "$ns_b" link set "v$$b" up
pass "two network namespaces joined by a veth pair"

# charon_up NAME NS LOCAL REMOTE INNER REMOTE-INNER: a charon for side NAME,
# its VICI socket at $WORK/charon-NAME/charon.vici, and connection "skap" to
# REMOTE with a tunnel between the inner addresses.
charon_up() {
  local name=$1 ns=$2 local_addr=$3 remote=$4 inner=$5 remote_inner=$6 dir="$WORK/charon-$1"
  mkdir -p "$dir"
  cat > "$dir/strongswan.conf" << CONF
charon {
  load = random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
  make_before_break = yes
  plugins { vici { socket = unix://$dir/charon.vici } }
  filelog { log { path = $dir/charon.log
      flush_line = yes
      default = 1
      ike = 1 } }
}
CONF
  cat > "$dir/swanctl.conf" << CONF
connections {
  skap {
    local_addrs = $local_addr
    remote_addrs = $remote
    proposals = aes256-sha256-modp3072
    ppk_id = skap-ppk-ab
    ppk_required = yes
    local { auth = psk
      id = side-$name }
    remote { auth = psk
      id = side-$( [[ $name == a ]] && echo b || echo a ) }
    children { skap { local_ts = $inner/32
        remote_ts = $remote_inner/32
        esp_proposals = aes256-sha256 } }
  }
}
secrets {
  ike-ab { id-a = side-a
    id-b = side-b
    secret = "the IKE pre-shared key of this test" }
}
CONF
  STRONGSWAN_CONF="$dir/strongswan.conf" ip netns exec "$ns" \
    unshare -m sh -c 'mount -t tmpfs tmpfs /run && exec '"$CHARON" > "$dir/stdout" 2>&1 &
  PIDS+=("$!")
  wait_for_socket "$dir/charon.vici"
  sw "$name" --load-all --file "$dir/swanctl.conf" > /dev/null
}
# sw NAME ARGS...: swanctl against side NAME's charon (its plugin noise dropped).
sw() {
  local name=$1
  shift
  STRONGSWAN_CONF="$WORK/charon-$name/strongswan.conf" swanctl "$@" \
    --uri "unix://$WORK/charon-$name/charon.vici" 2>&1 | grep -v "^plugin '\|opening directory"
  return "${PIPESTATUS[0]}"
}
charon_up a "$ns_a" 198.18.0.1 198.18.0.2 198.18.1.1 198.18.2.1
charon_up b "$ns_b" 198.18.0.2 198.18.0.1 198.18.2.1 198.18.1.1
# through_tunnel WHAT: a TCP exchange from a's inner address to b's.
through_tunnel() {
  local got
  ip netns exec "$ns_b" python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.2.1", 7777)); s.listen(1); s.settimeout(10); c, _ = s.accept(); c.sendall(b"through the tunnel")' &
  local server=$!
  sleep 0.3
  got=$(ip netns exec "$ns_a" python3 -c '
import socket; s = socket.create_connection(("198.18.2.1", 7777), timeout=5, source_address=("198.18.1.1", 0))
print(s.recv(100).decode())') || true
  wait "$server" || true
  expect_eq "$got" "through the tunnel" "$1"
}
pass "a charon in each namespace, each in its own mount namespace"

new_hubs 1
network_everywhere plant-1 1
devices_up plant-1 a b
ag a agree b > /dev/null
stop_agent a
stop_agent b
ppk_toml() {  # NAME PEER INITIATE
  printf '[[ppk]]\npeer = "%s"\nvici_socket = "%s"\nppk_id = "skap-ppk-ab"\nconnection = "skap"\ninitiate = %s\n' \
    "$2" "$WORK/charon-$1/charon.vici" "$3"
}
start_agent b "$(ppk_toml b "${ID[a]}" false)"
start_agent a "$(ppk_toml a "${ID[b]}" true)"
ppk() { ag "$1" status --json | jq -r ".ppk[0].$2"; }
wait_until "b installs the PPK of epoch 1" '[[ $(ppk b installed_epoch) == 1 ]]'
wait_until "a brings the IKE SA up with it" '[[ $(ppk a sa_up_with_installed) == true ]]'
sas=$(sw a --list-sas)
echo "$sas" | sed 's/^/  /'
[[ "$sas" == *"ESTABLISHED, IKEv2"* && "$sas" == *"/PPK"* && "$sas" == *INSTALLED* ]] &&
  pass "IKEv2 is up with the PPK (swanctl --list-sas shows /PPK) and its CHILD_SA installed" ||
  fail "no IKE SA with PPK: $sas"
through_tunnel "traffic flows through the tunnel"
first_sa=$(grep -o '#[0-9]*' <<< "$sas" | head -1)
fp1=$(ppk a fingerprint)
expect_eq "$(ppk b fingerprint)" "$fp1" "both agents installed the same PPK (fingerprint $fp1)"
grep -q "using PPK for PPK_ID 'skap-ppk-ab'" "$WORK/charon-b/charon.log" &&
  pass "the responder used the PPK for PPK_ID skap-ppk-ab" || fail "the responder's log shows no PPK"

# Rotation: a re-seed makes epoch 2; both agents load its PPK, and the
# initiator's agent reauthenticates: a new IKE SA with the new PPK, made
# before the old one is broken.
start=$(date +%s.%N)
ag a agree b > /dev/null
wait_until "a is up with the PPK of epoch 2" \
  '[[ $(ppk a installed_epoch) == 2 && $(ppk a sa_up_with_installed) == true ]]'
rotation=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
expect_eq "$(ppk b installed_epoch)" 2 "the responder holds the PPK of epoch 2"
[[ "$(ppk a fingerprint)" != "$fp1" ]] && pass "a new PPK" || fail "the PPK did not change"
wait_until "the old IKE SA is replaced" '[[ $(sw a --list-sas | grep -c ESTABLISHED) == 1 ]]'
sas=$(sw a --list-sas)
second_sa=$(grep -o '#[0-9]*' <<< "$sas" | head -1)
[[ "$second_sa" != "$first_sa" && "$sas" == *"/PPK"* ]] &&
  pass "rotation: IKE SA $first_sa replaced by $second_sa, with the new PPK" || fail "after rotation: $sas"
grep -q "reauthenticating IKE_SA skap\[${first_sa#\#}\]" "$WORK/charon-a/charon.log" &&
  pass "by a reauthentication of $first_sa" || fail "no reauthentication in a's log"
through_tunnel "traffic flows through the tunnel after the rotation"
expect_eq "$(grep -c "using PPK for PPK_ID" "$WORK/charon-b/charon.log")" 2 \
  "the responder authenticated twice with a PPK"
echo "PPK rotation end to end (agree to the new IKE SA up): $rotation s"

# A mismatched PPK: b's charon gets another PPK under the agent's own
# credential id; a reauthentication then fails, and the SA up stays up.
cat > "$WORK/wrong.conf" << CONF
secrets {
  ppk-skap-skap { id = skap-ppk-ab
    secret = 0x$(openssl rand -hex 32) }
}
CONF
sw b --load-creds --file "$WORK/wrong.conf" | grep -q "loaded ppk secret 'ppk-skap-skap'" ||
  fail "could not load the wrong PPK"
sw a --rekey --ike skap --reauth > /dev/null
wait_until "a's reauthentication fails" \
  'grep -q "received AUTHENTICATION_FAILED" "$WORK/charon-a/charon.log"'
pass "mismatched PPKs: the IKE authentication fails"
sas=$(sw a --list-sas)
[[ "$sas" == *"$second_sa, ESTABLISHED"* ]] && pass "the IKE SA that was up stays up (make-before-break)" ||
  fail "after the failed attempt: $sas"
through_tunnel "and still carries traffic"

# Revocation: b revoked at the hub, a's agent erases the session and takes
# the PPK out of its charon, ending the IKE SA it keyed.
hctl 1 adam device revoke "${ID[b]}" > /dev/null
wait_until "a withdraws the PPK" '[[ $(ppk a installed_epoch) == 0 ]]'
expect_eq "$(ppk a last_error)" "PPK withdrawn: peer revoked (say 1 of 1 hubs)" "a's status says why"
wait_until "a's IKE SA is gone" '[[ $(sw a --list-sas | grep -c ESTABLISHED) == 0 ]]'
pass "the IKE SA keyed with b's PPK is terminated"
grep -q "unloaded shared key with id 'ppk-skap-skap'" "$WORK/charon-a/charon.log" &&
  pass "a's charon unloaded the agent's PPK" || fail "a's charon log shows no unload"
sw a --initiate --child skap > "$WORK/after-revoke.out" 2>&1 || true
grep -q "PPK required but no PPK found for 'skap-ppk-ab'" "$WORK/after-revoke.out" &&
  pass "a new IKE SA cannot come up: a's charon holds no PPK for b" ||
  fail "after the withdrawal: $(tail -5 "$WORK/after-revoke.out")"
echo "$PASSED passed, 0 failed"
