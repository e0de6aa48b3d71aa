#!/usr/bin/env bash
# The admin API over TLS 1.3 with each operator's PSK: skapctl from "another
# machine" (no Unix socket) sets up, provisions and audits; the handshake
# refuses a wrong name, a wrong token and, where the hub demands it, psk_ke;
# roles are enforced exactly as on the socket.
#   hub_admin_tls_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"

take_port port
take_port admin_port
new_hub "$port" "admin_listen = \"127.0.0.1:$admin_port\""
start_hub() {
  "$SKAPD" run --config skapd.toml 2>> skapd.log &
  HUB_PID=$!
  PIDS+=($HUB_PID)
  wait_for_port "$admin_port"
}
start_hub
# Nothing below may use the socket.
unset SKAP_ADMIN_SOCKET
export SKAP_HUB_ADMIN=127.0.0.1:$admin_port
tls() {
  local who=$1
  shift
  "$SKAPCTL" --socket /nonexistent --operator "$who@acme" --token-file "$who.token" "$@"
}

tls alice network create plant-1 > /dev/null
tls alice operator add pat --role provisioner --token-out pat.token 2> add.err
grep -q "operator pat@acme (provisioner) added" add.err && pass "skapctl names the operator as the hub made it" ||
  fail "$(cat add.err)"
tls alice operator add audrey --role auditor --token-out audrey.token 2> /dev/null
pass "tenant-admin sets up over TLS"

tls pat device provision --network plant-1 --name sensor-1 --out sensor-1.skapbundle 2> /dev/null
grep -q '^SKAPBUNDLE1-' sensor-1.skapbundle && pass "a bundle is provisioned over TLS"
expect_eq "$(tls pat --json device list --network plant-1 | jq -r '.[0].name')" sensor-1 \
  "listing over TLS"
expect_eq "$(tls pat --key-exchange psk_ke --json device list --network plant-1 | jq -r '.[0].state')" \
  provisioned "psk_ke, chosen explicitly, works too where the hub allows it"
expect_fail "psk_ke" "an unknown key exchange is a clear error" tls pat --key-exchange psk --json device list

expect_fail "permission-denied" "roles are checked over TLS as on the socket" \
  tls pat network create plant-2
expect_fail "refused the TLS handshake" "a token under another operator's name is refused" \
  "$SKAPCTL" --operator pat@acme --token-file alice.token network create plant-3
expect_fail "refused the TLS handshake" "an unknown operator is refused" \
  "$SKAPCTL" --operator mallory --token-file alice.token network create plant-3
printf 'skapop1-%064d\n' 0 > forged.token
chmod 600 forged.token
expect_fail "refused the TLS handshake" "a wrong token is refused" \
  "$SKAPCTL" --operator alice@acme --token-file forged.token network create plant-3

refused=$(tls audrey --json audit list --actor unknown-operator |
  jq -r '[.[] | select(.action == "operator.authenticate") | .target + "/" + .outcome] | join(" ")')
expect_eq "$refused" \
  "pat@acme/refused:authentication-failed alice@acme/refused:authentication-failed" \
  "each refused handshake naming one of the tenant's operators is the tenant's to see (mallory's, no one's, is the hub's)"
# A name that is a terminal escape reaches the auditor's table escaped.
expect_fail "refused the TLS handshake" "a name with control characters is refused" \
  "$SKAPCTL" --operator $'\e[31mFAKE\e[0m\x7f\xc2\x9b' --token-file alice.token network create plant-3
expect_fail "operator name must be" "an operator name with control characters is refused" \
  tls alice operator add $'\e[31mFAKE\e[0m\x7f\xc2\x9b' --role auditor --token-out fake.token
table=$(tls audrey audit list --action operator.add)
if [[ "$table" == *$'\e'* || "$table" == *$'\x7f'* || "$table" == *$'\xc2\x9b'* ]]; then
  fail "a control character reached the auditor's terminal"
fi
[[ "$table" == *'\x1B[31mFAKE\x1B[0m\x7F\xC2\x9B'* ]] && pass "the table shows it escaped" ||
  fail "not shown escaped: $table"
dumped=$(tls audrey --json audit list --action operator.add)
[[ "$dumped" != *$'\x7f'* && "$dumped" != *$'\xc2\x9b'* ]] &&
  jq -e 'map(.target) | index("\u001b[31mFAKE\u001b[0m\u007f\u009b")' \
  <<< "$dumped" > /dev/null && pass "--json keeps it whole, escaped as JSON" || fail "$dumped"
tls audrey audit verify > /dev/null && pass "audit chain verifies over TLS"
if grep -q 'skapop1-' skapd.log data/hub.db* 2> /dev/null; then fail "a token reached the log or the database"; fi
pass "no token in the hub's log or database"

# The operators' lifecycle, over TLS: listed, given a new token (the old one
# dies), disabled at once; each step audited.
expect_eq "$(tls audrey --json operator list | jq -r '[.[] | .name + ":" + .role] | join(" ")')" \
  "alice@acme:tenant-admin audrey@acme:auditor pat@acme:provisioner" "an auditor lists the tenant's operators"
expect_fail "permission-denied" "a provisioner may not list them" tls pat operator list
mv pat.token pat.old.token
"$SKAPCTL" --operator pat@acme --token-file pat.old.token operator token pat@acme --token-out pat.token 2> /dev/null
expect_fail "refused the TLS handshake" "after a new token the old one no longer authenticates" \
  "$SKAPCTL" --operator pat@acme --token-file pat.old.token --json device list --network plant-1
expect_eq "$(tls pat --json device list --network plant-1 | jq length)" 1 "the new token works"
expect_fail "permission-denied" "a new token for another operator needs the tenant-admin" \
  tls pat operator token audrey@acme --token-out stolen.token
[[ ! -e stolen.token ]] && pass "and no token file is written" || fail "a refused token was written"
expect_fail "cannot disable themself" "a tenant-admin cannot disable themself" tls alice operator disable alice@acme
tls alice operator disable audrey@acme 2> /dev/null
expect_fail "refused the TLS handshake" "a disabled operator is refused at once" tls audrey audit verify
expect_eq "$(tls alice --json operator list | jq -r '.[] | select(.name == "audrey@acme") | .disabled')" true \
  "the list shows them disabled"
tls alice operator add temp --role auditor --expires-in-days 1 --token-out temp.token 2> /dev/null
expect_eq "$(( ($(tls alice --json operator list | jq '.[] | select(.name == "temp@acme") | .expires_at_ms') / 1000 - $(date +%s) + 60) / 3600 ))" 24 \
  "a token made to expire in a day says so"
expect_eq "$(tls alice --json audit list --action operator.token | jq -r '[.[] | .actor + ">" + .target + ":" + .outcome] | sort | join(" ")')" \
  "pat@acme>audrey@acme:refused:permission-denied pat@acme>pat@acme:ok" "the new token and the refused one are audited"
expect_eq "$(tls alice --json audit list --action operator.disable | jq -r '[.[] | .target + ":" + .outcome] | sort | join(" ")')" \
  "alice@acme:refused:invalid-argument audrey@acme:ok" "the refused and the done disable are audited"

# A hub that demands psk_dhe_ke refuses psk_ke, also for operators.
kill "$HUB_PID"
wait "$HUB_PID" 2> /dev/null || true
echo 'allow_psk_only = false' >> skapd.toml
start_hub
expect_fail "refused the TLS handshake" "psk_ke is refused where the hub demands psk_dhe_ke" \
  tls alice --key-exchange psk_ke --json device list --network plant-1
expect_eq "$(tls alice --json device list --network plant-1 | jq length)" 1 \
  "skapctl's default is psk_dhe_ke: accepted there"

# A flood of failed handshakes under one claim from one source (the hub just
# restarted, so its counts are fresh): five are audited, the rest refused
# before the key lookup; another operator from the same source still gets in.
count_refused() {
  tls alice --json audit list --actor unknown-operator |
    jq '[.[] | select(.action == "operator.authenticate" and .target == "pat@acme")] | length'
}
before=$(count_refused)
for _ in $(seq 10); do
  "$SKAPCTL" --operator pat@acme --token-file forged.token device list --network plant-1 > /dev/null 2>&1 &&
    fail "a forged token got through"
done
expect_eq "$(( $(count_refused) - before ))" 5 \
  "ten failed handshakes of one claim from one source leave five audit entries"
expect_eq "$(tls alice --json device list --network plant-1 | jq length)" 1 \
  "another operator on the same address still gets in"

echo "$PASSED checks passed"
