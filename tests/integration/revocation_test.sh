#!/usr/bin/env bash
# Revocation reaches the sessions of the revoked device's peers, through
# three real hubs (k = 2): a peer that is online hears it pushed, one that
# was offline hears it when its links come up (CheckPeers); either way its
# session with the revoked device is erased, so it hands out no key for it,
# gives none of its keys by id, and agrees no key with it again.
#   revocation_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
new_hubs 3
network_everywhere plant-1 2
devices_up plant-1 a b c
b=${ID[b]}
for peer in a c; do
  out=$(ag "$peer" agree b)
  [[ "$out" == "agreed with b: session epoch 1"* ]] || fail "$peer agree b: $out"
done
expect_shared_key a b "a and b share keys"
expect_shared_key c b "c and b share keys"
# Keys b handed out, which a and c could still fetch by id.
read -r for_a _ < <(ag b key a --reveal)
read -r for_c _ < <(ag b key c --reveal)
expect_eq "$(ag a key b --id "$for_a" | cut -d' ' -f1)" "$for_a" "a can fetch b's key by id"

stop_agent c
for i in 1 2 3; do hctl "$i" adam device revoke "$b" > /dev/null; done
pass "b revoked at every hub while a runs and c is stopped"

# a is online: the hubs push the news; within a bound (a second or two
# here) its session with b is gone.
wait_until "a erases its session with b" \
  "[[ \$(ag a status --json | jq --arg b $b '[.sessions[] | select(.peer == \$b)] | length') == 0 ]]"
pass "a's session with b is erased"
grep -q "peer $b ended: revoked (say [23] of 3 hubs); its session is erased" "$WORK/agent-a.log" &&
  pass "a's log says why and on how many hubs' word" || fail "a's log: $(tail -5 "$WORK/agent-a.log")"
expect_fail "no active device named 'b'" "a hands out no new key for b by name" ag a key b --reveal
expect_fail "ended: revoked" "nor by its id" ag a key "$b" --reveal
expect_fail "ended: revoked" "a gives none of b's keys by id" ag a key "$b" --id "$for_a" --reveal
expect_fail "ended: revoked" "a agrees no key with b" ag a agree "$b" --fresh
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$WORK/a/control.sock" \
  -X POST "http://agent/v1/keys/$b/next?reveal=1")" 403 "the control socket answers 403"

# c was offline: it hears of it as its links come up.
start_agent c
wait_until "c erases its session with b" \
  "[[ \$(ag c status --json | jq --arg b $b '[.sessions[] | select(.peer == \$b)] | length') == 0 ]]"
pass "c, offline at the revocation, erases its session with b once it reaches the hubs"
expect_fail "ended: revoked" "c gives none of b's keys by id" ag c key "$b" --id "$for_c" --reveal
expect_fail "ended: revoked" "c agrees no key with b" ag c agree "$b" --fresh

# The pair a–c is untouched.
out=$(ag a agree c)
[[ "$out" == "agreed with c: session epoch 1"* ]] && pass "a and c still agree keys" || fail "a agree c: $out"
expect_shared_key a c "a and c share keys"

echo "$PASSED passed, 0 failed"
