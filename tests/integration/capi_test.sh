#!/usr/bin/env bash
# The C API (include/skap/c/skap.h) from a program written in C
# (tests/c/capi_test.c): device a embeds the endpoint, enrols, is admitted,
# agrees a key with device b (a running skap-agent) through a real hub, and
# each side fetches the other's key by id: the same bytes on both sides.
#   capi_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
CAPI_TEST=$(cd "$1" && pwd)/tests/skap_capi_test
use_build "$1"
new_hubs 1
network_everywhere plant-1 1
devices_up plant-1 b
a=$(provision_everywhere plant-1 a)
printf 'data_dir = "%s/a"\nadmission_poll_s = 1\nreconnect_max_s = 1\n' "$WORK" > "$WORK/a.toml"
"$CAPI_TEST" "$WORK/a" "$WORK/a.toml" "$WORK"/a.hub1.skapbundle "${ID[b]}" \
  "$WORK/out" "$WORK/in" "$WORK/out2" > "$WORK/capi.log" 2>&1 &
capi=$!
PIDS+=("$capi")
admit_everywhere "$a"
wait_until "the C program hands out a key" '[[ -s "$WORK/out" ]]'
read -r id hex < "$WORK/out"
read -r id_b _ hex_b < <(ag b key a --id "$id" --reveal)
expect_eq "$id_b $hex_b" "$id $hex" "b fetches the key the C program handed out, by its id"
read -r peer_id _ peer_hex < <(ag b key a --reveal)
echo "$peer_id" > "$WORK/in.tmp" && mv "$WORK/in.tmp" "$WORK/in"
wait "$capi" || { cat "$WORK/capi.log"; fail "the C program failed"; }
cat "$WORK/capi.log"
PASSED=$((PASSED + $(grep -c '^ok' "$WORK/capi.log")))
expect_eq "$(cat "$WORK/out2")" "$peer_hex" "the C program fetches b's key by its id: the same bytes"
echo "$PASSED passed, 0 failed"
