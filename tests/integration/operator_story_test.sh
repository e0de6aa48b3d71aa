#!/usr/bin/env bash
# The whole story, as a new operator follows it in the README: initialise a
# hub, create a tenant and a network, provision a device as a 2-of-3 split
# bundle with QR codes, rebuild it from two scanned QR codes, a second
# operator admits it, it connects over TLS-PSK, draws entropy, ratchets its
# key, is revoked, and the auditor's `audit verify` and `audit list` show
# every step.
#   operator_story_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
use_build "$1"
take_port port
new_hub "$port"
"$SKAPD" run --config skapd.toml 2> skapd.log &
PIDS+=($!)
wait_for_port "$port"
pass "hub initialised and serving"

ctl alice network create plant-1 > /dev/null
ctl alice operator add pat --role provisioner --token-out pat.token 2> /dev/null
ctl alice operator add adam --role admitter --token-out adam.token 2> /dev/null
ctl alice operator add audrey --role auditor --token-out audrey.token 2> /dev/null
ctl pat device provision --network plant-1 --name sensor-1 --split 2/3 --parts-dir parts \
  --qr png 2> /dev/null
id=$(ctl adam --json device list --network plant-1 | jq -r '.[0].id')

# Secure room: parts 1 and 3 travel as QR codes; the device side scans them
# (QR symbols only: a dense QR code can also pass for a linear barcode).
for i in 1 3; do zbarimg -q --raw -Sdisable -Sqrcode.enable "parts/sensor-1.part$i.png" > "scanned$i.txt" 2> /dev/null; done
"$AGENT" enroll --data sensor-1 --part scanned1.txt --part scanned3.txt > /dev/null
pass "device enrolled from two scanned QR codes"

expect_eq "$("$AGENT" connect --data sensor-1)" pending "pre-flight report sent"
expect_eq "$(ctl adam --json device pending --network plant-1 | jq -r '.[0].id')" "$id" \
  "the admitter sees it pending"
sha=$(ctl adam --json device pending --network plant-1 | jq -r '.[0].preflight_sha256')
ctl adam device admit "$id" --report "$sha" > /dev/null
expect_eq "$("$AGENT" connect --data sensor-1)" active "admitted, naming the report judged: on its own channel key"
"$AGENT" entropy --data sensor-1 --bytes 32 --out seed.bin > /dev/null
expect_eq "$(stat -c %s seed.bin)" 32 "drew 32 bytes of the hub's entropy"
expect_eq "$("$AGENT" ratchet --data sensor-1)" "key epoch 2" "ratcheted to epoch 2"
ctl adam device revoke "$id" > /dev/null
expect_fail "refused the channel key" "revoked: the hub refuses the device" \
  "$AGENT" connect --data sensor-1

expect_eq "$(ctl audrey audit verify | cut -d: -f1)" "audit chain intact" "the auditor verifies the chain"
story=$(ctl audrey --json audit list --target "$id" | jq -r '[.[] | .action + "/" + .outcome] | join(" ")')
expect_eq "$story" "device.provision/ok device.preflight/ok device.admit/ok device.ratchet/ok device.revoke/ok channel.psk-failed/refused:authentication-failed" \
  "the audit log tells the device's whole story"
actors=$(ctl audrey --json audit list --target "$id" | jq -r '[.[] | .actor] | unique | join(" ")')
expect_eq "$actors" "adam@acme device:$id pat@acme" "and who did each step"
expect_eq "$(ctl alice --json operator list | jq -r '[.[].name] | join(" ")')" "adam@acme alice@acme audrey@acme pat@acme" \
  "the tenant-admin lists the tenant's operators"
expect_eq "$(SKAP_TOKEN_FILE= "$SKAPCTL" --json audit list --action hub.init | jq length)" 1 \
  "the hub's socket without a token reads the hub's own entries too"
echo "$PASSED passed, 0 failed"
