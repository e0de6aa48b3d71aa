#!/usr/bin/env bash
# Pairwise agreements against real hubs on this machine, in one run:
#  - n = k = 1 and n = 3, k = 2 (all hubs here): agreements/s with p50/p99
#    latency, for one pair of devices back to back and for DEVICES (1 000)
#    simulated devices in 500 pairs at once (bench/agreement_bench.cc);
#  - the peer baseline: MIT Kerberos TGS requests/s against Debian's krb5kdc
#    on loopback, one service ticket per request, from 1 and 2 client threads;
#  - CPU time per operation of each skapd and of krb5kdc (/proc/PID/stat,
#    over the measured seconds only), and the ratios between them. The
#    1 000 simulated devices run their stores without fsync (they share
#    the hubs' cores); the pair back to back and every hub keep full fsync.
#
#   bench/agreement_bench.sh [BUILD_DIR]     (default build/release, built by bench/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build/release}" && pwd)
SECS=${BENCH_SECONDS:-5}
DEVICES=${DEVICES:-1000}
T=$(mktemp -d "${TMPDIR:-/tmp}/skap-agreement-bench-XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return; sleep 0.1; done; }

declare -A RESULT
# measure N K: agreements through N hubs with threshold K.
measure() {
  local n=$1 k=$2 dir="$T/n$1" hubs="" addresses="" i
  mkdir -p "$dir"
  local ports=()
  for i in $(seq "$n"); do
    ports+=("$(free_port)")
    hubs+="${hubs:+,}$dir/hub$i"
    addresses+="${addresses:+,}127.0.0.1:${ports[-1]}"
  done
  echo "n = $n, k = $k: provisioning and admitting $DEVICES devices at every hub..."
  "$BUILD/bench/agreement_bench" setup --hubs "$hubs" --addresses "$addresses" --threshold "$k" \
    --devices "$DEVICES" --agents "$dir/agents" > /dev/null
  local hub_pids=()
  for i in $(seq "$n"); do
    printf 'data_dir = "%s/hub%s"\nhub_address = "127.0.0.1:%s"\ndevice_listen = "127.0.0.1:%s"\nagreement_max_pending = 1000000\n' \
      "$dir" "$i" "${ports[$((i - 1))]}" "${ports[$((i - 1))]}" > "$dir/hub$i.toml"
    "$BUILD/apps/skapd/skapd" run --config "$dir/hub$i.toml" 2> "$dir/hub$i.log" &
    hub_pids+=("$!")
    PIDS+=("$!")
  done
  for p in "${ports[@]}"; do wait_port "$p"; done
  local pids
  pids=$(IFS=,; echo "${hub_pids[*]}")
  # One pair back to back keeps full durability on both sides; the fleet's
  # simulated devices skip fsync (they share the hubs' two cores here; on
  # a deployment each is its own machine), the hubs never do.
  RESULT[$n,two]=$("$BUILD/bench/agreement_bench" run --agents "$dir/agents" --devices 2 \
    --seconds "$SECS" --hub-pids "$pids")
  RESULT[$n,many]=$("$BUILD/bench/agreement_bench" run --agents "$dir/agents" --devices "$DEVICES" \
    --seconds "$SECS" --hub-pids "$pids" --no-sync)
  for p in "${hub_pids[@]}"; do kill "$p"; wait "$p" 2> /dev/null || true; done
}
measure 1 1
measure 3 2

echo "MIT Kerberos: a realm on loopback..."
K="$T/krb"
mkdir -p "$K"
kport=$(free_port)
cat > "$K/krb5.conf" <<CONF
[libdefaults]
  default_realm = BENCH.SKAP
  dns_lookup_kdc = false
  dns_lookup_realm = false
[realms]
  BENCH.SKAP = {
    kdc = 127.0.0.1:$kport
  }
CONF
cat > "$K/kdc.conf" <<CONF
[kdcdefaults]
  kdc_ports = $kport
  kdc_tcp_ports = $kport
[realms]
  BENCH.SKAP = {
    database_name = $K/principal
    key_stash_file = $K/stash
    acl_file = $K/kadm5.acl
    master_key_type = aes256-cts-hmac-sha384-192
    supported_enctypes = aes256-cts-hmac-sha384-192:normal
  }
[logging]
  kdc = FILE:$K/kdc.log
CONF
export KRB5_CONFIG="$K/krb5.conf" KRB5_KDC_PROFILE="$K/kdc.conf"
kdb5_util create -s -r BENCH.SKAP -P "master-$RANDOM$RANDOM" > /dev/null 2>&1
kadmin.local -r BENCH.SKAP -q "addprinc -pw bench-password user" > /dev/null 2>&1
kadmin.local -r BENCH.SKAP -q "addprinc -randkey host/bench.skap" > /dev/null 2>&1
krb5kdc -n -r BENCH.SKAP -P "$K/kdc.pid" &
kdc_pid=$!
PIDS+=("$kdc_pid")
wait_port "$kport"
kb() { "$BUILD/bench/kerberos_bench" --client user@BENCH.SKAP --password bench-password \
  --service host/bench.skap@BENCH.SKAP --seconds "$SECS" --threads "$1" --kdc-pid "$kdc_pid"; }
krb1=$(kb 1)
krb2=$(kb 2)

echo
printf "%-52s %14s %10s %10s %14s\n" "pairwise agreements, all hubs on this box" "agreements/s" "p50 ms" "p99 ms" "hub CPU ms/op"
row() {
  local label=$1 r=$2 rate p50 p99 failed cpu
  read -r rate p50 p99 failed _ _ cpu _ <<< "$r"
  printf "%-52s %14s %10s %10s %14s%s\n" "$label" "$rate" "$p50" "$p99" "$cpu" \
    "$([[ "$failed" != 0 ]] && echo "  ($failed failed)")"
}
row "n = k = 1, one pair back to back" "${RESULT[1,two]}"
row "n = k = 1, $DEVICES devices (pairs at once)" "${RESULT[1,many]}"
row "n = 3, k = 2, one pair back to back" "${RESULT[3,two]}"
row "n = 3, k = 2, $DEVICES devices (pairs at once)" "${RESULT[3,many]}"
printf "%-52s %14s %10s %10s %14s\n" "baseline: MIT Kerberos" "TGS req/s" "p50 ms" "p99 ms" "KDC CPU ms/op"
krow() {
  local label=$1 rate p50 p99 failed cpu
  read -r rate p50 p99 failed cpu _ <<< "$2"
  printf "%-52s %14s %10s %10s %14s\n" "$label" "$rate" "$p50" "$p99" "$cpu"
}
krow "krb5kdc, one service ticket per request, 1 thread" "$krb1"
krow "krb5kdc, one service ticket per request, 2 threads" "$krb2"

# The issue's figures as ratios of the same run (fields: see agreement_bench
# and kerberos_bench). Hub CPU is all hubs' together; per hub divides by n.
field() { awk -v i="$2" '{print $i}' <<< "$1"; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
kdc_cpu=$(field "$krb2" 5)
kdc_rate=$(field "$krb2" 1)
hub1_cpu=$(field "${RESULT[1,many]}" 7)
hub3_cpu=$(awk -v c="$(field "${RESULT[3,many]}" 7)" 'BEGIN { printf "%.3f", c / 3 }')
echo
printf "%-66s %10s\n" "ratios, this run" "ratio"
printf "%-66s %10s\n" "skapd CPU per agreement, n = k = 1 / krb5kdc CPU per TGS" "$(div "$hub1_cpu" "$kdc_cpu")"
printf "%-66s %10s\n" "per-hub CPU per agreement, n = 3, k = 2 / krb5kdc CPU per TGS" "$(div "$hub3_cpu" "$kdc_cpu")"
printf "%-66s %10s\n" "agreements/s, n = k = 1, $DEVICES devices / krb5kdc TGS/s (2 threads)" \
  "$(div "$(field "${RESULT[1,many]}" 1)" "$kdc_rate")"
printf "%-66s %10s\n" "agreements/s, n = 3, k = 2, $DEVICES devices / krb5kdc TGS/s (2 threads)" \
  "$(div "$(field "${RESULT[3,many]}" 1)" "$kdc_rate")"
printf "%-66s %10s\n" "one pair back to back, full durability both sides, p99 ms" "$(field "${RESULT[1,two]}" 3)"
