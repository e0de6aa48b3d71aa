// Benchmarks of the foundation, each beside a raw-OpenSSL baseline doing the
// same work with the same calls, so the overhead of SKAP's layers is visible.
// bench/run.sh also runs `openssl speed` for the outside reference.
//
// This file includes <openssl/*> for the baselines only; SKAP code measured
// here goes through its own headers.
#include <array>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/aead.h"
#include "crypto/ctr_drbg.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/kdf_chain.h"
#include "crypto/psk_importer.h"
#include "crypto/shamir.h"
#include "crypto/tls_psk.h"
#include "entropy/entropy_service.h"

namespace {

using skap::crypto::Hash;

// 13 bytes of associated data, as `openssl speed -aead` uses (a TLS record
// header), so the figures compare like for like.
const std::array<std::uint8_t, 13> kAad = {};
const std::vector<std::uint8_t> kKey(32, 0x42);

void BM_SkapAeadSeal(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> plaintext(size, 0x61);
  auto aead = skap::crypto::CounterNonceAead::Create(kKey, {1, 2, 3, 4});
  for (auto _ : state) {
    auto sealed = aead->Seal(kAad, plaintext);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}
BENCHMARK(BM_SkapAeadSeal)->Arg(64)->Arg(16384);

void BM_SkapGcmSealInPlace(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> plaintext(size, 0x61);
  std::vector<std::uint8_t> out(size + 16);
  std::array<std::uint8_t, 12> nonce{};
  auto gcm = skap::crypto::AesGcmKey::Create(kKey);
  for (auto _ : state) {
    ++nonce[11];
    benchmark::DoNotOptimize(gcm->Seal(nonce, kAad, plaintext, out));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}
BENCHMARK(BM_SkapGcmSealInPlace)->Arg(64)->Arg(16384);

// The same sequence as SKAP's seal, straight on EVP.
void BM_OpenSslGcmSeal(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> plaintext(size, 0x61);
  std::vector<std::uint8_t> out(size + 16);
  std::array<std::uint8_t, 12> nonce{};
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex2(ctx, cipher, kKey.data(), nullptr, nullptr);
  for (auto _ : state) {
    ++nonce[11];
    int len = 0;
    EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr);
    EVP_EncryptUpdate(ctx, nullptr, &len, kAad.data(), static_cast<int>(kAad.size()));
    EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(), static_cast<int>(size));
    EVP_EncryptFinal_ex(ctx, out.data() + size, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + size);
    benchmark::DoNotOptimize(out.data());
  }
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}
BENCHMARK(BM_OpenSslGcmSeal)->Arg(64)->Arg(16384);

void BM_HkdfSha384(benchmark::State& state) {
  const std::vector<std::uint8_t> ikm(64, 1), salt(32, 2), info(40, 3);
  for (auto _ : state) {
    auto okm = skap::crypto::Hkdf(Hash::kSha384, salt, ikm, info, 32);
    benchmark::DoNotOptimize(okm);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_HkdfSha384);

void BM_KdfChainStep(benchmark::State& state) {
  skap::SecretBytes chain_key(48);
  for (auto _ : state) {
    auto step = skap::crypto::KdfChainStep(chain_key.Expose());
    chain_key = std::move(step->next_chain_key);
    benchmark::DoNotOptimize(step->message_key);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KdfChainStep);

// The same two-HMAC step over SHA-256, for comparison: this CPU has SHA-256
// instructions but none for SHA-512, on which SHA-384 runs.
void BM_HmacPairSha256(benchmark::State& state) {
  skap::SecretBytes key(32);
  const std::uint8_t one[] = {0x01};
  const std::uint8_t two[] = {0x02};
  for (auto _ : state) {
    auto pair = skap::crypto::HmacDerivePair(Hash::kSha256, key.Expose(), one, two);
    key = std::move(pair->second);
    benchmark::DoNotOptimize(pair->first);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_HmacPairSha256);

void BM_ShamirSplit3of5(benchmark::State& state) {
  auto rng = skap::crypto::CtrDrbg::Create({});
  const std::vector<std::uint8_t> secret(32, 7);
  for (auto _ : state) {
    auto shares = skap::crypto::SplitSecret(secret, 3, 5, **rng);
    benchmark::DoNotOptimize(shares);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ShamirSplit3of5);

void BM_ShamirCombine3of5(benchmark::State& state) {
  auto rng = skap::crypto::CtrDrbg::Create({});
  const std::vector<std::uint8_t> secret(32, 7);
  auto shares = skap::crypto::SplitSecret(secret, 3, 5, **rng);
  const std::vector<skap::crypto::Share> three = [&] {
    std::vector<skap::crypto::Share> v;
    for (int i : {0, 2, 4}) v.push_back((*shares)[static_cast<std::size_t>(i)].Clone());
    return v;
  }();
  for (auto _ : state) {
    auto secret_again = skap::crypto::CombineShares(three);
    benchmark::DoNotOptimize(secret_again);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ShamirCombine3of5);

// What callers get: the entropy service, with its locking and reseed policy.
void BM_EntropyServiceGenerate(benchmark::State& state) {
  auto service =
      skap::entropy::EntropyService::Create(skap::entropy::EntropyService::DefaultSources());
  if (!service) {
    state.SkipWithError("entropy service did not start");
    return;
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize((*service)->Generate(out));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_EntropyServiceGenerate)->Arg(32)->Arg(65536);

// A bare OpenSSL CTR-DRBG (AES-256, df), no locking, no reseed policy.
void BM_OpenSslCtrDrbgGenerate(benchmark::State& state) {
  EVP_RAND* rand = EVP_RAND_fetch(nullptr, "CTR-DRBG", nullptr);
  EVP_RAND_CTX* ctx = EVP_RAND_CTX_new(rand, nullptr);
  int use_df = 1;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_CIPHER, const_cast<char*>("AES-256-CTR"), 0),
      OSSL_PARAM_construct_int(OSSL_DRBG_PARAM_USE_DF, &use_df), OSSL_PARAM_construct_end()};
  EVP_RAND_instantiate(ctx, 256, 0, nullptr, 0, params);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    EVP_RAND_generate(ctx, out.data(), out.size(), 256, 0, nullptr, 0);
    benchmark::DoNotOptimize(out.data());
  }
  EVP_RAND_CTX_free(ctx);
  EVP_RAND_free(rand);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_OpenSslCtrDrbgGenerate)->Arg(32)->Arg(65536);

// RAND_bytes on OpenSSL's public DRBG: what `openssl speed rand` measures,
// here in the same harness as the rest.
void BM_OpenSslRandBytes(benchmark::State& state) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    RAND_bytes(out.data(), static_cast<int>(out.size()));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_OpenSslRandBytes)->Arg(32)->Arg(65536);

// A full TLS 1.3 external-PSK handshake, client and server in one thread over
// memory buffers (no sockets): the cryptographic cost of one channel setup.
void BM_TlsPskHandshake(benchmark::State& state) {
  const auto mode = state.range(0) == 0 ? skap::crypto::KeyExchangeMode::kPskOnly
                                        : skap::crypto::KeyExchangeMode::kPskWithDhe;
  skap::crypto::ImportedIdentity id;
  id.external_identity = {'d', 'e', 'v'};
  id.context = {'h', 'u', 'b'};
  const auto identity = *skap::crypto::EncodeImportedIdentity(id);
  const auto psk = std::move(*skap::crypto::ImportPsk(kKey, id));
  auto server_context = *skap::crypto::TlsPskContext::CreateServer(
      [&](std::span<const std::uint8_t>, std::string_view) -> skap::Result<skap::SecretBytes> {
        return psk.Clone();
      });
  auto client_context = *skap::crypto::TlsPskContext::CreateClient(mode);
  for (auto _ : state) {
    auto client =
        std::move(*skap::crypto::TlsPskSession::NewClient(client_context, identity, psk.Clone()));
    auto server = std::move(*skap::crypto::TlsPskSession::NewServer(server_context));
    bool client_done = false;
    bool server_done = false;
    while (!(client_done && server_done)) {
      client_done = *client->Handshake();
      (void)server->PutCiphertext(client->TakeCiphertext());
      server_done = *server->Handshake();
      (void)client->PutCiphertext(server->TakeCiphertext());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(state.range(0) == 0 ? "psk_ke" : "psk_dhe_ke");
}
BENCHMARK(BM_TlsPskHandshake)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
