#!/usr/bin/env bash
# The hub's admin story end to end with the real binaries: init, a tenant and
# its operators, provisioning as a file and as QR-coded parts, role and
# separation-of-duties refusals, revocation, and the audit chain.
#   hub_admin_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"

"$SKAPD" init --data data > init.out
grep -q "hub .* created" init.out && pass "skapd init"
expect_eq "$(stat -c %a data)" 700 "data directory is private"
expect_eq "$(stat -c %a data/kek)" 600 "KEK file is private"
expect_fail "already holds a hub" "a second init is refused" "$SKAPD" init --data data

"$SKAPD" tenant create --data data --name acme --admin alice --token-out alice.token 2> /dev/null
expect_eq "$(stat -c %a alice.token)" 600 "token file is private"

printf 'data_dir = "%s/data"\nhub_address = "127.0.0.1:7443"\n' "$WORK" > skapd.toml
"$SKAPD" run --config skapd.toml 2> skapd.log &
PIDS+=($!)
export SKAP_ADMIN_SOCKET=$WORK/data/admin.sock
wait_for_socket "$SKAP_ADMIN_SOCKET"
expect_eq "$(stat -c %a "$SKAP_ADMIN_SOCKET")" 600 "admin socket is private"

ctl alice network create plant-1 > /dev/null
ctl alice operator add pat --role provisioner --token-out pat.token 2> /dev/null
ctl alice operator add adam --role admitter --token-out adam.token 2> /dev/null
ctl alice operator add audrey --role auditor --token-out audrey.token 2> /dev/null
pass "network and operators created"

ctl pat device provision --network plant-1 --name sensor-1 --out sensor-1.skapbundle 2> /dev/null
grep -q '^SKAPBUNDLE1-' sensor-1.skapbundle && pass "bundle file written"
expect_eq "$(stat -c %a sensor-1.skapbundle)" 600 "bundle file is private"

ctl pat device provision --network plant-1 --name sensor-2 --split 2/3 --parts-dir parts 2> /dev/null
# QR symbols only: zbar also tries linear barcodes, and a dense QR code can
# pass for one, which adds a stray line to the output.
for i in 1 2 3; do
  decoded=$(zbarimg -q --raw -Sdisable -Sqrcode.enable "parts/sensor-2.part$i.png" 2> /dev/null)
  expect_eq "$decoded" "$(cat "parts/sensor-2.part$i.txt")" "QR code of part $i reads back as its text"
done

printf 'name,can_provision\n"gw-1",yes\nsensor-3,\nsensor-1,no\nsensor-4,0\n' > fleet.csv
status=0
ctl pat device provision --network plant-1 --csv fleet.csv --out-dir fleet 2> bulk.log || status=$?
expect_eq "$status" 1 "bulk provisioning reports the row the hub refused"
grep -q 'fleet.csv:4 sensor-1: ' bulk.log && pass "the refused row is named with its line"
grep -q '3 devices provisioned' bulk.log && pass "the other rows are provisioned"
grep -q '^\[#*\] 4/4 devices' bulk.log && pass "a progress bar is drawn"
expect_eq "$(ls fleet | tr '\n' ' ')" "gw-1.skapbundle sensor-3.skapbundle sensor-4.skapbundle " \
  "one private bundle per device"
expect_eq "$(ctl alice --json device list --network plant-1 | jq -r '.[] | select(.name=="gw-1") | .can_provision')" \
  true "the CSV's can_provision column is honoured"
# The bundles of a batch are real bundles: the device enrols from one.
"$AGENT" enroll --data gw-1-dev fleet/gw-1.skapbundle > /dev/null && pass "a device enrols from a bundle of the batch"
expect_eq "$(ctl alice --json audit list --action device.provision | jq '[.[] | select(.outcome == "ok")] | length')" 5 \
  "each device of the batch has its own audit entry (2 single, 3 bulk)"
# More rows than one batch holds (500): three batches, every device made once.
{ echo name; for i in $(seq 1 1203); do echo "bulk-$i"; done; } > big.csv
ctl pat device provision --network plant-1 --csv big.csv --out-dir big 2> big.log
grep -q '1203 devices provisioned' big.log && pass "a CSV of 1 203 rows is provisioned in batches"
expect_eq "$(ls big | wc -l)" 1203 "one bundle per device across the batches"
expect_eq "$(ctl alice --json device list --network plant-1 | jq '[.[] | select(.name | startswith("bulk-"))] | length')" \
  1203 "and one device at the hub per row"
printf 'name\nspy-1\nspy-2\n' > spy.csv
expect_fail "permission-denied" "an auditor's batch is refused as a whole" \
  ctl audrey device provision --network plant-1 --csv spy.csv --out-dir spy
expect_eq "$(ls spy 2> /dev/null | wc -l)" 0 "and leaves no bundle file behind"
printf 'device\nx\n' > bad.csv
expect_fail "no 'name' column" "a CSV without a name column is refused before any device is made" \
  ctl pat device provision --network plant-1 --csv bad.csv --out-dir bad
expect_fail "exists; not overwriting" "existing bundles are never overwritten" \
  ctl pat device provision --network plant-1 --csv fleet.csv --out-dir fleet

id=$(ctl alice --json device list --network plant-1 | jq -r '.[] | select(.name=="sensor-1") | .id')
expect_eq "$(ctl adam --json device show "$id" | jq -r .state)" provisioned "device is provisioned"
expect_fail "permission-denied" "a provisioner cannot admit" ctl pat device admit "$id"
expect_fail "failed-precondition" "no admission before a pre-flight report" ctl adam device admit "$id"
expect_fail "authentication-failed" "a wrong token is refused" \
  "$SKAPCTL" --token-file <(echo skapop1-0000) device list --network plant-1
expect_fail "permission-denied" "an auditor cannot revoke" ctl audrey device revoke "$id"

ctl adam device revoke "$id" > /dev/null
expect_eq "$(ctl audrey --json device show "$id" | jq -r .state)" revoked "revocation is immediate"
expect_fail "failed-precondition" "revocation is final" ctl adam device revoke "$id"

expect_eq "$(ctl audrey audit verify)" "audit chain intact: 1222 entries" \
  "audit chain intact, 1 222 entries of the auditor's tenant"
expect_eq "$(SKAP_TOKEN_FILE= "$SKAPCTL" audit verify)" "audit chain intact: 1224 entries" \
  "the hub's own socket without a token verifies all 1 224: the tenant's and the hub's"
expect_fail "an operator token is needed" "without a token the socket changes nothing" \
  env SKAP_TOKEN_FILE= "$SKAPCTL" network create plant-9
actions=$(ctl audrey --json audit list --target "$id" | jq -r '[.[] | .action + "/" + .outcome] | join(" ")')
expect_eq "$actions" "device.provision/ok device.admit/refused:permission-denied device.admit/refused:failed-precondition device.revoke/refused:permission-denied device.revoke/ok device.revoke/refused:failed-precondition" "the device's story is in the audit log"

failed_auth=$(SKAP_TOKEN_FILE= "$SKAPCTL" --json audit list --actor unknown-operator | jq -r '.[0].outcome')
expect_eq "$failed_auth" "refused:authentication-failed" "a failed login is audited, for the hub"
expect_eq "$(ctl audrey --json audit list --actor unknown-operator | jq length)" 0 \
  "a token that named no one is the hub's entry, not the tenant's"

# A second tenant on the same hub: neither tenant reads the other's entries.
"$SKAPD" tenant create --data "$WORK/data" --name globex --admin olga --token-out olga.token 2> /dev/null
ctl olga network create plant-x > /dev/null
expect_eq "$(ctl audrey --json audit list | jq '[.[] | select(.actor == "olga@globex")] | length')" 0 \
  "acme's auditor reads none of globex's entries"
expect_eq "$(ctl olga --json audit list | jq -r '[.[] | .action] | join(" ")')" \
  "tenant.create operator.add network.create" "globex's tenant-admin reads globex's only"
expect_eq "$(ctl olga audit verify)" "audit chain intact: 3 entries" "and verifies them within the hub's chain"
# Each tenant names its operators apart: globex may have a pat of its own,
# and nothing tells globex that acme has one.
ctl olga operator add pat --role auditor --token-out globex-pat.token 2> add.err
grep -q "operator pat@globex (auditor) added" add.err && pass "globex adds its own pat beside acme's" ||
  fail "add said: $(cat add.err)"
expect_eq "$(ctl globex-pat --json operator list | jq -r '[.[].name] | join(" ")')" "olga@globex pat@globex" \
  "globex's pat is globex's"
expect_eq "$(ctl pat --json device list --network plant-1 | jq 'length > 0')" true "acme's pat still sees acme's network"
expect_fail "failed-precondition" "a name taken in the tenant is refused there" \
  ctl olga operator add pat --role auditor --token-out again.token
taken=$(ctl olga operator add pat@acme --role auditor --token-out t1.token 2>&1 || true)
unknown=$(ctl olga operator add nobody@acme --role auditor --token-out t2.token 2>&1 || true)
[[ -n "$taken" && "$taken" == "$unknown" ]] && pass "naming another tenant's operator answers as naming no one" ||
  fail "'$taken' vs '$unknown'"
expect_eq "$(SKAP_TOKEN_FILE= "$SKAPCTL" --json operator list | jq -r '[.[] | select(.name | startswith("pat@")) | .name] | sort | join(" ")')" \
  "pat@acme pat@globex" "the hub lists both"

globex=$(SKAP_TOKEN_FILE= "$SKAPCTL" --json audit list --action tenant.create | jq -r '.[] | select(.detail.name == "globex") | .target')
expect_eq "$(SKAP_TOKEN_FILE= "$SKAPCTL" --json audit list --tenant "$globex" | jq -r '[.[].tenant] | unique | join(" ")')" \
  "$globex" "the hub reads one tenant's entries, each saying whose"
expect_fail "unknown filter" "an operator cannot ask for another tenant" ctl audrey audit list --tenant "$globex"

# A tenant-admin whose token is lost gets a new one from the hub only.
ctl olga operator add olga2 --role tenant-admin --token-out olga2.token 2> /dev/null
expect_fail "skapd operator token" "one tenant-admin cannot give another a token" \
  ctl olga operator token olga2@globex --token-out taken.token
"$SKAPD" operator token olga2@globex --data "$WORK/data" --token-out olga2.new.token 2> /dev/null
expect_fail "authentication-failed" "the hub's new token kills the old one" ctl olga2 operator list
mv olga2.new.token olga2.token
expect_eq "$(ctl olga2 --json operator list | jq -r '[.[].name] | join(" ")')" "olga2@globex olga@globex pat@globex" \
  "and the new one works"

# Dual control: what one tenant-admin grants alone waits for a second one,
# and only a tenant-admin the hub made (or a second one approved) counts.
expect_eq "$(ctl olga --json tenant show | jq .dual_control)" false "dual control is off by default"
expect_fail "skapd operator add" "a second tenant-admin olga made alone does not count" \
  ctl olga tenant set --dual-control on
"$SKAPD" operator add olga3 --tenant globex --role tenant-admin --token-out olga3.token \
  --data "$WORK/data" 2> /dev/null
ctl olga tenant set --dual-control on > /dev/null
expect_eq "$(ctl olga3 tenant show | grep -c 'dual control: on')" 1 "with one the hub made, it turns on"
ctl olga operator add prov9 --role provisioner --token-out prov9.part1 2> add.err
grep -q "skapctl operator approve prov9@globex" add.err && pass "skapctl says the new provisioner waits for approval" ||
  fail "add said: $(cat add.err)"
cp prov9.part1 prov9.token
expect_fail "authentication-failed" "the granting tenant-admin's part is no token" \
  ctl prov9 device list --network plant-x
rm prov9.token
expect_eq "$(ctl olga operator list | grep prov9@globex | grep -c 'pending approval (granted by olga@globex)')" 1 \
  "the list shows who granted it"
expect_fail "permission-denied" "the granting tenant-admin cannot approve it" \
  ctl olga operator approve prov9@globex --token-out x.token
[ ! -e x.token ] && pass "a refused request leaves no token file behind" ||
  fail "x.token was left behind"
touch taken.token
expect_fail "exists" "an existing token file is refused before the hub is asked" \
  ctl olga operator token olga@globex --token-out taken.token
ctl olga operator list > /dev/null && pass "so olga's token was not renewed and lost" ||
  fail "olga's token stopped working"
ctl olga3 operator approve prov9@globex --token-out prov9.part2 2> /dev/null
cp prov9.part2 prov9.token
expect_fail "authentication-failed" "nor is the approver's" ctl prov9 device list --network plant-x
rm prov9.token
expect_fail "needs --token-out FILE" "parts are not removed for a token on standard output" \
  "$SKAPCTL" operator join --part prov9.part1 --part prov9.part2 --token-out - --remove-parts
"$SKAPCTL" operator join --part prov9.part1 --part prov9.part2 --token-out prov9.token \
  --remove-parts 2> /dev/null
ctl prov9 device list --network plant-x > /dev/null && pass "the two parts joined are the token, and it works" ||
  fail "prov9 refused after approval"
[ ! -e prov9.part1 ] && [ ! -e prov9.part2 ] && pass "join --remove-parts removes both part files" ||
  fail "the part files were left behind"
ctl olga tenant set --dual-control off > /dev/null
expect_eq "$(ctl olga --json tenant show | jq -c '[.dual_control, .off_requested_by]')" '[true,"olga@globex"]' \
  "one tenant-admin only asks to turn it off"
ctl olga3 tenant set --dual-control off > /dev/null
expect_eq "$(ctl olga --json tenant show | jq .dual_control)" false "a second one turns it off"
expect_eq "$(SKAP_TOKEN_FILE= "$SKAPCTL" --json audit list --action operator.approve | jq -r '.[] | select(.outcome == "ok") | .actor + ">" + .target')" \
  "olga3@globex>prov9@globex" "the approval is audited"

echo "$PASSED passed, 0 failed"
