#!/usr/bin/env bash
# Builds the release preset and prints SKAP's figures beside OpenSSL's own
# (`openssl speed`, same machine, same run) as ratios.
#
#   bench/run.sh            full run (about a minute)
#   SECONDS_PER=1 bench/run.sh   shorter openssl speed runs
set -euo pipefail
cd "$(dirname "$0")/.."
per=${SECONDS_PER:-3}

cmake --preset release -DSKAP_BUILD_BENCH=ON >/dev/null
cmake --build --preset release -j 2 --target skap_bench provision_bench channel_bench \
  agreement_bench kerberos_bench relay_bench decode_bench skapd skapctl skap-agent >/dev/null

speed() {  # speed <args...>: bytes per second from `openssl speed -mr`
  openssl speed -mr -seconds "$per" "$@" 2>/dev/null | awk -F: '/^\+F:/ {v=$NF} END {print v}'
}
echo "openssl speed ($(openssl version | cut -d' ' -f1-2)), ${per}s each..."
ssl_gcm64=$(speed -bytes 64 -aead -evp aes-256-gcm)
ssl_gcm16k=$(speed -bytes 16384 -aead -evp aes-256-gcm)
ssl_rand32=$(speed -bytes 32 rand)
ssl_rand64k=$(speed -bytes 65536 rand)

echo "google benchmark (SKAP and raw-EVP baselines)..."
csv=$(build/release/bench/skap_bench --benchmark_format=csv --benchmark_min_time=1 2>/dev/null)
field() {  # field <benchmark name> <column>: a column of the CSV row
  echo "$csv" | awk -F, -v name="\"$1\"" -v col="$2" '$1 == name {print $col}'
}
bps() { field "$1" 6; }   # bytes_per_second
ips() { field "$1" 7; }   # items_per_second

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%5.0f %%", 100 * a / b; else print "  n/a" }'; }
mbps() { awk -v v="$1" 'BEGIN { printf "%10.1f MB/s", v / 1e6 }'; }
per_s() { awk -v v="$1" 'BEGIN { printf "%10.0f /s", v }'; }

echo
printf "%-44s %18s %18s %8s\n" "measurement" "SKAP" "openssl speed" "ratio"
row() { printf "%-44s %18s %18s %8s\n" "$1" "$2" "$3" "$4"; }
row "AES-256-GCM seal, 64 B (CounterNonceAead)" "$(mbps "$(bps BM_SkapAeadSeal/64)")" \
    "$(mbps "$ssl_gcm64")" "$(ratio "$(bps BM_SkapAeadSeal/64)" "$ssl_gcm64")"
row "AES-256-GCM seal, 64 B (AesGcmKey, in place)" "$(mbps "$(bps BM_SkapGcmSealInPlace/64)")" \
    "$(mbps "$ssl_gcm64")" "$(ratio "$(bps BM_SkapGcmSealInPlace/64)" "$ssl_gcm64")"
row "AES-256-GCM seal, 16 KiB (CounterNonceAead)" "$(mbps "$(bps BM_SkapAeadSeal/16384)")" \
    "$(mbps "$ssl_gcm16k")" "$(ratio "$(bps BM_SkapAeadSeal/16384)" "$ssl_gcm16k")"
row "DRBG, 32 B requests (EntropyService)" "$(mbps "$(bps BM_EntropyServiceGenerate/32)")" \
    "$(mbps "$ssl_rand32")" "$(ratio "$(bps BM_EntropyServiceGenerate/32)" "$ssl_rand32")"
row "DRBG, 64 KiB requests (EntropyService)" "$(mbps "$(bps BM_EntropyServiceGenerate/65536)")" \
    "$(mbps "$ssl_rand64k")" "$(ratio "$(bps BM_EntropyServiceGenerate/65536)" "$ssl_rand64k")"
echo
printf "%-44s %18s %18s %8s\n" "measurement" "SKAP" "raw EVP, same calls" "ratio"
row "AES-256-GCM seal, 64 B (in place)" "$(mbps "$(bps BM_SkapGcmSealInPlace/64)")" \
    "$(mbps "$(bps BM_OpenSslGcmSeal/64)")" "$(ratio "$(bps BM_SkapGcmSealInPlace/64)" "$(bps BM_OpenSslGcmSeal/64)")"
row "AES-256-GCM seal, 16 KiB (in place)" "$(mbps "$(bps BM_SkapGcmSealInPlace/16384)")" \
    "$(mbps "$(bps BM_OpenSslGcmSeal/16384)")" "$(ratio "$(bps BM_SkapGcmSealInPlace/16384)" "$(bps BM_OpenSslGcmSeal/16384)")"
row "DRBG, 32 B (service vs bare CTR-DRBG)" "$(mbps "$(bps BM_EntropyServiceGenerate/32)")" \
    "$(mbps "$(bps BM_OpenSslCtrDrbgGenerate/32)")" "$(ratio "$(bps BM_EntropyServiceGenerate/32)" "$(bps BM_OpenSslCtrDrbgGenerate/32)")"
row "DRBG, 32 B (service vs RAND_bytes)" "$(mbps "$(bps BM_EntropyServiceGenerate/32)")" \
    "$(mbps "$(bps BM_OpenSslRandBytes/32)")" "$(ratio "$(bps BM_EntropyServiceGenerate/32)" "$(bps BM_OpenSslRandBytes/32)")"
row "DRBG, 64 KiB (service vs RAND_bytes)" "$(mbps "$(bps BM_EntropyServiceGenerate/65536)")" \
    "$(mbps "$(bps BM_OpenSslRandBytes/65536)")" "$(ratio "$(bps BM_EntropyServiceGenerate/65536)" "$(bps BM_OpenSslRandBytes/65536)")"
row "DRBG, 64 KiB (service vs bare CTR-DRBG)" "$(mbps "$(bps BM_EntropyServiceGenerate/65536)")" \
    "$(mbps "$(bps BM_OpenSslCtrDrbgGenerate/65536)")" "$(ratio "$(bps BM_EntropyServiceGenerate/65536)" "$(bps BM_OpenSslCtrDrbgGenerate/65536)")"
echo
printf "%-44s %18s\n" "measurement" "SKAP, one core"
printf "%-44s %18s\n" "HKDF-SHA-384 (64 B IKM -> 32 B)" "$(per_s "$(ips BM_HkdfSha384)")"
printf "%-44s %18s\n" "KDF chain step (two HMAC-SHA-384)" "$(per_s "$(ips BM_KdfChainStep)")"
printf "%-44s %18s\n" "  same step over HMAC-SHA-256 (comparison)" "$(per_s "$(ips BM_HmacPairSha256)")"
printf "%-44s %18s\n" "Shamir split, 32 B, k=3 n=5" "$(per_s "$(ips BM_ShamirSplit3of5)")"
printf "%-44s %18s\n" "Shamir combine, 32 B, 3 shares" "$(per_s "$(ips BM_ShamirCombine3of5)")"
printf "%-44s %18s\n" "TLS 1.3 PSK handshake, psk_ke (in memory)" "$(per_s "$(ips BM_TlsPskHandshake/0)")"
printf "%-44s %18s\n" "TLS 1.3 PSK handshake, psk_dhe_ke (in memory)" "$(per_s "$(ips BM_TlsPskHandshake/1)")"

echo
echo "decoding the peer's contribution, n = 16, k = 8, n - k altered (bench/decode_bench.cc):"
dcsv=$(build/release/bench/decode_bench --benchmark_format=csv --benchmark_min_time=1 2>/dev/null)
dms() {  # dms <benchmark name>: CPU ms per iteration
  echo "$dcsv" | awk -F, -v name="\"$1\"" '$1 == name {
    t = $4; u = $5; gsub(/"/, "", u)
    f = (u == "ns") ? 1e-6 : (u == "us") ? 1e-3 : (u == "ms") ? 1 : 1e3; printf "%.3f", t * f }'
}
base=$(dms BM_CombineShares)
printf "%-44s %12s %14s\n" "measurement" "CPU ms" "x baseline"
for b in BM_CombineShares BM_ReseedDecode/0 BM_ReseedDecode/8 BM_CheckedFirstAgreementDecode/0 \
  BM_CheckedFirstAgreementDecode/8 BM_FirstAgreementDecode/0 \
  BM_FirstAgreementDecode/8; do
  printf "%-44s %12s %14s\n" "$b" "$(dms "$b")" \
    "$(awk -v a="$(dms "$b")" -v z="$base" 'BEGIN { if (z > 0) printf "%.0f", a / z }')"
done

echo
echo "the hub under load (bench/hub_bench.sh):"
bench/hub_bench.sh build/release
echo
echo "pairwise agreements beside MIT Kerberos (bench/agreement_bench.sh):"
bench/agreement_bench.sh build/release
echo
echo "ETSI GS QKD 014 key delivery (bench/etsi014_bench.sh):"
bench/etsi014_bench.sh build/release
echo
echo "the peer channel (bench/relay_bench.sh):"
bench/relay_bench.sh build/release
