#include "crypto/ctr_drbg.h"

#include <algorithm>
#include <ctime>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/secret_bytes.h"
#include "crypto/algorithms.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {

struct CtrDrbg::State {
  RandCtxPtr parent;  // only for CreateFromSeed: the TEST-RAND that holds the seed
  RandCtxPtr drbg;
};

CtrDrbg::CtrDrbg(std::unique_ptr<State> state) : state_(std::move(state)) {}
CtrDrbg::~CtrDrbg() = default;  // EVP_RAND_CTX_free uninstantiates and wipes.

namespace {

OSSL_PARAM OctetParam(const char* name, std::span<const std::uint8_t> bytes) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<std::uint8_t*>(bytes.data()),
                                           bytes.size());
}

Result<RandCtxPtr> InstantiateCtrDrbg(EVP_RAND_CTX* parent,
                                      std::span<const std::uint8_t> personalization) {
  EVP_RAND* rand = algorithms::CtrDrbg();
  if (rand == nullptr) {
    return OpenSslFailure("fetching CTR-DRBG");
  }
  RandCtxPtr ctx(EVP_RAND_CTX_new(rand, parent));
  if (!ctx) {
    return OpenSslFailure("allocating CTR-DRBG");
  }
  int use_df = 1;
  unsigned int reseed_requests = 0;  // 0: OpenSSL never reseeds on its own
  std::time_t reseed_interval = 0;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_CIPHER, const_cast<char*>("AES-256-CTR"), 0),
      OSSL_PARAM_construct_int(OSSL_DRBG_PARAM_USE_DF, &use_df),
      OSSL_PARAM_construct_uint(OSSL_DRBG_PARAM_RESEED_REQUESTS, &reseed_requests),
      OSSL_PARAM_construct_time_t(OSSL_DRBG_PARAM_RESEED_TIME_INTERVAL, &reseed_interval),
      OSSL_PARAM_construct_end()};
  // OpenSSL substitutes its own default string for a null personalization
  // pointer; an empty one must stay empty (the CAVP vectors depend on it).
  static constexpr std::uint8_t kNoPersonalization = 0;
  const std::uint8_t* pers = personalization.empty() ? &kNoPersonalization : personalization.data();
  if (EVP_RAND_instantiate(ctx.get(), CtrDrbg::kSecurityStrength, 0, pers, personalization.size(),
                           params) != 1) {
    return OpenSslFailure("instantiating CTR-DRBG");
  }
  return ctx;
}

}  // namespace

Result<std::unique_ptr<CtrDrbg>> CtrDrbg::Create(std::span<const std::uint8_t> personalization) {
  auto state = std::make_unique<State>();
  SKAP_ASSIGN_OR_RETURN(state->drbg, InstantiateCtrDrbg(nullptr, personalization));
  return std::unique_ptr<CtrDrbg>(new CtrDrbg(std::move(state)));
}

Result<std::unique_ptr<CtrDrbg>> CtrDrbg::CreateFromSeed(
    std::span<const std::uint8_t> entropy, std::span<const std::uint8_t> nonce,
    std::span<const std::uint8_t> personalization) {
  EVP_RAND* test_rand = algorithms::TestRand();
  if (test_rand == nullptr) {
    return OpenSslFailure("fetching TEST-RAND");
  }
  auto state = std::make_unique<State>();
  state->parent.reset(EVP_RAND_CTX_new(test_rand, nullptr));
  if (!state->parent) {
    return OpenSslFailure("allocating TEST-RAND");
  }
  unsigned int strength = kSecurityStrength;
  const OSSL_PARAM seed_params[] = {OSSL_PARAM_construct_uint(OSSL_RAND_PARAM_STRENGTH, &strength),
                                    OctetParam(OSSL_RAND_PARAM_TEST_ENTROPY, entropy),
                                    OctetParam(OSSL_RAND_PARAM_TEST_NONCE, nonce),
                                    OSSL_PARAM_construct_end()};
  if (EVP_RAND_CTX_set_params(state->parent.get(), seed_params) != 1 ||
      EVP_RAND_instantiate(state->parent.get(), strength, 0, nullptr, 0, nullptr) != 1) {
    return OpenSslFailure("seeding TEST-RAND");
  }
  SKAP_ASSIGN_OR_RETURN(state->drbg, InstantiateCtrDrbg(state->parent.get(), personalization));
  return std::unique_ptr<CtrDrbg>(new CtrDrbg(std::move(state)));
}

Result<void> CtrDrbg::Reseed(std::span<const std::uint8_t> entropy,
                             std::span<const std::uint8_t> additional_input) {
  if (entropy.size() < kMinEntropyInput) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "DRBG reseed needs at least 32 bytes of entropy");
  }
  if (state_->parent) {
    // A seeded instance takes its reseed entropy from its TEST-RAND parent,
    // exactly as the CAVP procedure prescribes.
    const OSSL_PARAM params[] = {OctetParam(OSSL_RAND_PARAM_TEST_ENTROPY, entropy),
                                 OSSL_PARAM_construct_end()};
    if (EVP_RAND_CTX_set_params(state_->parent.get(), params) != 1 ||
        EVP_RAND_reseed(state_->drbg.get(), 0, nullptr, 0, additional_input.data(),
                        additional_input.size()) != 1) {
      return OpenSslFailure("reseeding CTR-DRBG");
    }
    return Ok();
  }
  // OpenSSL (outside FIPS mode) reseeds with the given entropy and then once
  // more from its own seed source: the caller's health-tested entropy is
  // always in the state, never replaced.
  if (EVP_RAND_reseed(state_->drbg.get(), 0, entropy.data(), entropy.size(),
                      additional_input.data(), additional_input.size()) != 1) {
    return OpenSslFailure("reseeding CTR-DRBG");
  }
  return Ok();
}

Result<void> CtrDrbg::Generate(std::span<std::uint8_t> out,
                               std::span<const std::uint8_t> additional_input) {
  const std::span<std::uint8_t> whole = out;
  while (!out.empty()) {
    const std::size_t chunk = std::min(out.size(), kMaxRequest);
    if (EVP_RAND_generate(state_->drbg.get(), out.data(), chunk, kSecurityStrength, 0,
                          additional_input.data(), additional_input.size()) != 1) {
      SecureWipe(whole.data(), whole.size());  // no partial output
      return OpenSslFailure("CTR-DRBG generate");
    }
    out = out.subspan(chunk);
  }
  return Ok();
}

}  // namespace skap::crypto
