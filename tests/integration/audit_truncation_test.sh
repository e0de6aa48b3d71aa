#!/usr/bin/env bash
# Cutting entries off the end of the audit log, and rewinding its head to
# match, as anyone who can write hub.db can: the chain alone still verifies,
# but the hub's checkpoint file stops it from starting, and a copy of a
# checkpoint kept elsewhere proves the cut.
#   audit_truncation_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"

take_port port
new_hub "$port"
start() {
  "$SKAPD" run --config skapd.toml 2>> skapd.log &
  HUB=$!
  PIDS+=("$HUB")
  wait_for_socket "$SKAP_ADMIN_SOCKET"
}
stop() {
  kill "$HUB"
  wait "$HUB" 2> /dev/null || true
  rm -f "$SKAP_ADMIN_SOCKET"
}
start
ctl alice operator add audrey --role auditor --token-out audrey.token 2> /dev/null
for n in 1 2 3; do ctl alice network create "plant-$n" > /dev/null; done

# Operators (an auditor; the hub on its socket) take checkpoints to keep
# elsewhere; the hub keeps its own file up to date.
ctl audrey audit checkpoint > kept.checkpoint
expect_eq "$(jq -r .format kept.checkpoint)" "skap audit checkpoint v1" "an auditor takes a checkpoint"
entries=$(jq .seq kept.checkpoint)
expect_eq "$(SKAP_TOKEN_FILE= "$SKAPCTL" audit verify --checkpoint kept.checkpoint | tail -1)" \
  "and it holds checkpoint $(jq .counter kept.checkpoint) ($entries entries)" "the chain holds it"
expect_eq "$(jq .seq data/audit.checkpoint)" "$entries" "the hub's own file is as far"
jq '.seq = 1' kept.checkpoint > forged.checkpoint
expect_fail "MAC does not check out" "an altered checkpoint is refused" \
  ctl audrey audit verify --checkpoint forged.checkpoint
echo '{"format":"nonsense"}' > junk.checkpoint
expect_fail "malformed-input" "a file that is no checkpoint is refused by name" \
  ctl audrey audit verify --checkpoint junk.checkpoint
stop

# The cut: every entry after the third goes, and the head is rewound to it.
python3 - data/hub.db << 'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM audit_log WHERE seq > 3")
db.execute("UPDATE audit_head SET seq = 3, mac = (SELECT mac FROM audit_log WHERE seq = 3)")
db.commit()
PY
pass "entries 4..$entries cut off, head rewound"

if "$SKAPD" run --config skapd.toml 2> refused.log; then fail "a hub whose log was cut started"; fi
grep -q "audit checkpoint .*cut off the end" refused.log &&
  pass "the hub refuses to start: $(grep -o 'the audit log ends.*' refused.log)" ||
  fail "no clear refusal: $(cat refused.log)"

# Moved aside on purpose, the hub starts; the chain alone looks whole, the
# copy kept elsewhere does not.
mv data/audit.checkpoint moved-aside.checkpoint
start
expect_eq "$(SKAP_TOKEN_FILE= "$SKAPCTL" audit verify)" "audit chain intact: 3 entries" \
  "the chain alone cannot see the cut"
status=0
out=$(SKAP_TOKEN_FILE= "$SKAPCTL" audit verify --checkpoint kept.checkpoint) || status=$?
expect_eq "$status" 3 "verify against the kept checkpoint fails (exit 3)"
expect_eq "$out" "audit chain BROKEN at entry 4: the log ends at entry 3 but checkpoint $(jq .counter kept.checkpoint) recorded $entries entries: entries were cut off the end" \
  "and names where the cut begins"
out=$(ctl audrey audit verify --checkpoint kept.checkpoint) || true
expect_eq "$out" "audit chain BROKEN: entries were cut off the end of the hub's chain" \
  "the auditor is told of the cut, not the hub's count"
# The hub's new file starts a new count from the log as it now is.
for _ in $(seq 50); do [[ -f data/audit.checkpoint ]] && break; sleep 0.1; done
expect_eq "$(jq .counter data/audit.checkpoint)" 1 "a new file starts its count again"

echo "$PASSED passed, 0 failed"
