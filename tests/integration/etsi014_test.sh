#!/usr/bin/env bash
# ETSI GS QKD 014 V1.1.1 key delivery between two running agents, each the
# KME of one SAE, over HTTPS with client certificates (curl as the SAEs):
# status, enc_keys and dec_keys by GET and POST, 1 and 64 keys, both
# directions at once, each key delivered once to each side, keys surviving
# a restart, and every error path with its status code and message.
#   etsi014_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CLIENT=$(cd "$1" && pwd)/tests/etsi014_client
use_build "$1"
new_hubs 1
network_everywhere plant-1 1
devices_up plant-1 a b
stop_agent a
stop_agent b

# Certificates: one SAE at each agent, plus sae-x (issued by a's CA but in
# no configuration).
sae_add a sae-a
sae_add b sae-b
sae_add a sae-x
expect_eq "$(stat -c %a "$WORK/sae-a/sae-a.key")" 600 "the SAE's private key is written 0600"
expect_eq "$(find "$WORK/a/etsi014" -name '*.key*' | sort | xargs -n1 basename | tr '\n' ' ')" \
  "ca.key.wrapped server.key.wrapped " "the KME's own private keys are stored wrapped"

kmes_up a sae-a b sae-b
port_a=${KME_PORT[a]} port_b=${KME_PORT[b]}
expect_fail "" "sae add refuses while the daemon holds the data directory" \
  "$AGENT" sae add --data "$WORK/a" --id sae-y --out "$WORK/sae-x"

# call SAE PORT PATH [CURL-ARGS...]: the SAE's request; prints the body, then
# the status, and records the exchange for the OpenAPI check at the end.
CALL_METHOD=GET
call() {
  local sae=$1 port=$2 path=$3 out
  shift 3
  out=$(curl -sS --cacert "$WORK/$sae/ca.pem" --cert "$WORK/$sae/$sae.pem" --key "$WORK/$sae/$sae.key" \
    -w '\n%{http_code}' "$@" "https://127.0.0.1:$port$path") || return
  jq -cn --arg m "$CALL_METHOD" --arg p "$path" --arg o "$out" \
    '($o | split("\n")) as $l | {method: $m, path: $p, status: ($l[-1] | tonumber), body: ($l[:-1] | join("\n"))}' \
    >> "$WORK/exchanges.jsonl"
  printf '%s\n' "$out"
}
post() { CALL_METHOD=POST call "$1" "$2" "$3" -H 'Content-Type: application/json' --data "$4"; }
status_of() { tail -n1 <<< "$1"; }
body_of() { sed '$d' <<< "$1"; }
# expect_error OUT STATUS MESSAGE WHAT: an error answer with the standard's JSON body.
expect_error() {
  expect_eq "$(status_of "$1") $(body_of "$1" | jq -r .message)" "$2 $3" "$4"
}

out=$(call sae-a "$port_a" /api/v1/keys/sae-b/status)
expect_error "$out" 503 "no key material yet: this device has agreed no key with the slave's" \
  "before any agreement: 503 with a message"
ag a agree b > /dev/null

out=$(call sae-a "$port_a" /api/v1/keys/sae-b/status)
expect_eq "$(status_of "$out")" 200 "status: 200"
expect_eq "$(body_of "$out" | jq -r '[.source_KME_ID, .target_KME_ID, .master_SAE_ID, .slave_SAE_ID,
  .key_size, .max_key_per_request, .min_key_size, .max_key_size, .max_SAE_ID_count] | join(" ")')" \
  "${ID[a]} ${ID[b]} sae-a sae-b 256 64 256 256 0" "status names both KMEs and SAEs, sizes in bits"

# One key by GET, fetched by the slave at the other agent by GET.
out=$(call sae-a "$port_a" /api/v1/keys/sae-b/enc_keys)
expect_eq "$(status_of "$out")" 200 "enc_keys by GET: 200"
key_id=$(body_of "$out" | jq -r '.keys[0].key_ID')
key=$(body_of "$out" | jq -r '.keys[0].key')
expect_eq "$(base64 -d <<< "$key" | wc -c)" 32 "a 256-bit key, base64"
[[ "$key_id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] &&
  pass "key_ID is a UUID" || fail "key_ID $key_id"
out=$(call sae-b "$port_b" "/api/v1/keys/sae-a/dec_keys?key_ID=$key_id")
expect_eq "$(status_of "$out") $(body_of "$out" | jq -r '.keys[0] | .key_ID + " " + .key')" \
  "200 $key_id $key" "dec_keys by GET at the slave's KME: the same key"
out=$(call sae-b "$port_b" "/api/v1/keys/sae-a/dec_keys?key_ID=$key_id")
expect_error "$out" 400 "one or more keys specified are not found on KME" \
  "a key is delivered once to the slave, then erased"

# 64 keys by POST; the slave takes them by POST, after its agent restarted.
out=$(post sae-a "$port_a" /api/v1/keys/sae-b/enc_keys '{"number": 64, "size": 256,
  "extension_optional": [{"abc_max_age": 30000}]}')
expect_eq "$(status_of "$out") $(body_of "$out" | jq '.keys | length')" "200 64" \
  "enc_keys by POST: 64 keys (an optional extension is ignored)"
master_keys=$(body_of "$out" | jq -c '.keys | sort_by(.key_ID)')
ids=$(body_of "$out" | jq -c '{key_IDs: [.keys[] | {key_ID}]}')
stop_agent b
start_agent b "$(kme_toml "$port_b" sae-b "${ID[a]}" sae-a)"
wait_for_port "$port_b"
out=$(post sae-b "$port_b" /api/v1/keys/sae-a/dec_keys "$ids")
expect_eq "$(status_of "$out")" 200 "dec_keys by POST with 64 ids: 200"
expect_eq "$(body_of "$out" | jq -c '.keys | sort_by(.key_ID)')" "$master_keys" \
  "the slave gets the master's 64 keys, after its agent restarted"

# Both directions at once: sae-b is master too; no key is ever given twice.
out_a=$(post sae-a "$port_a" /api/v1/keys/sae-b/enc_keys '{"number": 4}')
out_b=$(post sae-b "$port_b" /api/v1/keys/sae-a/enc_keys '{"number": 4}')
all_ids=$( (body_of "$out_a"; body_of "$out_b") | jq -r '.keys[].key_ID' | sort -u | wc -l)
expect_eq "$all_ids" 8 "two masters at once, one on each side: 8 different keys"
out=$(post sae-a "$port_a" /api/v1/keys/sae-b/dec_keys "$(body_of "$out_b" | jq -c '{key_IDs: [.keys[] | {key_ID}]}')")
expect_eq "$(body_of "$out" | jq -c '.keys | sort_by(.key_ID)')" \
  "$(body_of "$out_b" | jq -c '.keys | sort_by(.key_ID)')" "sae-a, slave of sae-b, gets sae-b's keys"

# The project's own SAE client, both roles: sae-b master, sae-a slave.
client() { "$CLIENT" "127.0.0.1:$1" "$WORK/$2/$2.pem" "$WORK/$2/$2.key" "$WORK/$2/ca.pem" "${@:3}"; }
from_master=$(client "$port_b" sae-b enc sae-a 3) || fail "etsi014_client enc: $from_master"
# shellcheck disable=SC2046 # the ids are words on purpose
from_slave=$(client "$port_a" sae-a dec sae-b $(cut -d' ' -f1 <<< "$from_master")) ||
  fail "etsi014_client dec: $from_slave"
expect_eq "$(wc -l <<< "$from_slave") $from_slave" "3 $from_master" \
  "the project's own SAE client: 3 keys from the master's KME, the same 3 from the slave's"
expect_fail "400 one or more keys specified are not found on KME" "and the client reports the KME's error" \
  client "$port_a" sae-a dec sae-b "$(head -c36 <<< "$from_master")"

# All or none: one unknown id spoils the request and consumes nothing.
one=$(body_of "$out_a" | jq -r '.keys[0].key_ID')
out=$(post sae-b "$port_b" /api/v1/keys/sae-a/dec_keys \
  "{\"key_IDs\": [{\"key_ID\": \"$one\"}, {\"key_ID\": \"919108f7-52d1-4320-9bac-f847db4148a8\"}]}")
expect_error "$out" 400 "one or more keys specified are not found on KME" "an unknown key id: 400"
out=$(call sae-b "$port_b" "/api/v1/keys/sae-a/dec_keys?key_ID=$one")
expect_eq "$(status_of "$out")" 200 "the known key of the refused request is still there"

# Bad requests, each with the standard's status and a JSON message.
out=$(call sae-a "$port_a" '/api/v1/keys/sae-b/enc_keys?size=255')
expect_error "$out" 400 "size shall be a multiple of 8" "size 255: the standard's message"
out=$(call sae-a "$port_a" '/api/v1/keys/sae-b/enc_keys?size=512')
expect_error "$out" 400 "size shall be 256: this KME delivers 256-bit keys" "a size it does not deliver"
out=$(call sae-a "$port_a" '/api/v1/keys/sae-b/enc_keys?number=0')
expect_error "$out" 400 "number shall be between 1 and 64" "number 0"
out=$(post sae-a "$port_a" /api/v1/keys/sae-b/enc_keys '{"number": 65}')
expect_error "$out" 400 "number shall be between 1 and 64" "more than max_key_per_request"
out=$(post sae-a "$port_a" /api/v1/keys/sae-b/enc_keys \
  '{"number": 1, "extension_mandatory": [{"abc_route_type": "direct"}]}')
expect_error "$out" 400 "not all extension_mandatory parameters are supported" \
  "an unsupported mandatory extension: the standard's message"
expect_eq "$(body_of "$out" | jq -r '.details[0].extension_mandatory_unsupported')" \
  "abc_route_type is not supported" "with the extension named in details"
out=$(post sae-a "$port_a" /api/v1/keys/sae-b/enc_keys '{"additional_slave_SAE_IDs": ["sae-c"]}')
expect_error "$out" 400 "additional_slave_SAE_IDs are not supported (max_SAE_ID_count is 0)" \
  "key multicast is refused"
out=$(post sae-a "$port_a" /api/v1/keys/sae-b/enc_keys '{"number": ')
expect_error "$out" 400 "the request body is not a JSON object" "a malformed body"
out=$(post sae-a "$port_a" /api/v1/keys/sae-b/enc_keys '{"colour": "red"}')
expect_error "$out" 400 "unknown item in Key request: colour" "an unknown item"
out=$(call sae-b "$port_b" '/api/v1/keys/sae-a/dec_keys?key_ID=not-a-uuid')
expect_error "$out" 400 "key_ID shall be a UUID: not-a-uuid" "a key_ID that is no UUID"
out=$(call sae-a "$port_a" /api/v1/keys/sae-c/enc_keys)
expect_error "$out" 401 "unauthorized: SAE sae-a shares no keys with SAE sae-c" \
  "keys for a slave the master is not paired with: 401"
out=$(call sae-b "$port_b" "/api/v1/keys/sae-c/dec_keys?key_ID=$one")
expect_error "$out" 401 "unauthorized: SAE sae-b was handed no keys by SAE sae-c" \
  "dec_keys naming another master: 401"
out=$(call sae-x "$port_a" /api/v1/keys/sae-b/status)
expect_error "$out" 401 "unauthorized: the client certificate is not one of this KME's SAEs" \
  "a certificate of the CA that no SAE is configured with: 401"
out=$(call sae-a "$port_a" /api/v1/keys/sae-b/nonsense)
expect_eq "$(status_of "$out")" 404 "an unknown resource: 404"
if curl -sS --cacert "$WORK/sae-a/ca.pem" "https://127.0.0.1:$port_a/api/v1/keys/sae-b/status" \
  > /dev/null 2>&1; then fail "served without a client certificate"; fi
pass "no client certificate: the TLS handshake fails"
if call sae-b "$port_a" /api/v1/keys/sae-b/status --cacert "$WORK/sae-a/ca.pem" > /dev/null 2>&1; then
  fail "served a certificate of another agent's CA"
fi
pass "a certificate of another agent's CA: the TLS handshake fails"

# Keep-alive: two requests on one connection.
conns=$(curl -sS --cacert "$WORK/sae-a/ca.pem" --cert "$WORK/sae-a/sae-a.pem" \
  --key "$WORK/sae-a/sae-a.key" -o /dev/null -o /dev/null -w '%{num_connects}\n' \
  "https://127.0.0.1:$port_a/api/v1/keys/sae-b/status" "https://127.0.0.1:$port_a/api/v1/keys/sae-b/status" |
  tr '\n' ' ')
expect_eq "$conns" "1 0 " "HTTPS keep-alive: the second request reuses the connection"

# Revocation: b revoked at the hub, a's KME serves its pair no key again,
# by enc_keys or by id (a key b handed out before included).
out=$(post sae-b "$port_b" /api/v1/keys/sae-a/enc_keys '{"number": 1}')
kept=$(body_of "$out" | jq -r '.keys[0].key_ID')
hctl 1 adam device revoke "${ID[b]}" > /dev/null
wait_until "a hears that b ended" "grep -q 'peer ${ID[b]} ended' '$WORK/agent-a.log'"
out=$(call sae-a "$port_a" /api/v1/keys/sae-b/enc_keys)
expect_eq "$(status_of "$out") $(body_of "$out" | jq -r .message)" \
  "401 unauthorized: peer ${ID[b]} ended: revoked (say 1 of 1 hubs); its session is erased" \
  "after b's revocation, enc_keys for its SAE: 401, saying why"
out=$(call sae-a "$port_a" "/api/v1/keys/sae-b/dec_keys?key_ID=$kept")
expect_eq "$(status_of "$out")" 401 "and dec_keys of a key b handed out before: 401"


{
  printf 'data_dir = "%s/c"\n' "$WORK"
  kme_toml 1 sae-a "${ID[b]}" sae-b
  printf '[[etsi014.sae]]\nid = "sae-x"\ncertificate_sha256 = "%s"\npeer = "%s"\nremote_sae = "sae-z"\n' \
    "${FP[sae-x]}" "${ID[b]}"
} > "$WORK/bad.toml"
expect_fail "one SAE pair per peer device" "two SAE pairs with one peer device are refused" \
  "$AGENT" run --config "$WORK/bad.toml"

# What the agents answered, against the OpenAPI description in docs/.
[[ -d "$SRC/tests/openapi/node_modules" ]] ||
  fail "tests/openapi/node_modules is missing: scripts/deps.sh installs it (npm ci)"
out=$(node "$SRC/tests/openapi/check.mjs" "$SRC/docs/etsi014.openapi.json" "$WORK/exchanges.jsonl") ||
  fail "the OpenAPI check: $out"
echo "$out"
PASSED=$((PASSED + $(grep -c '^ok' <<< "$out")))

if grep -rqi "$key" "$WORK"/agent-*.log; then fail "a key in an agent's log"; fi
pass "no delivered key in any agent's log"
echo "$PASSED passed, 0 failed"
