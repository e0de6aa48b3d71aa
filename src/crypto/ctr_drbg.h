// CTR_DRBG (NIST SP 800-90A Rev. 1 §10.2) with AES-256 and the derivation
// function, from OpenSSL's EVP_RAND.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/result.h"
#include "crypto/rng.h"

namespace skap::crypto {

// CtrDrbg is a deterministic random bit generator. It does no reseeding of
// its own: OpenSSL's automatic reseed is switched off, and the owner (the
// entropy service) reseeds it with health-tested entropy on its own schedule.
// Not safe for concurrent use.
class CtrDrbg : public Rng {
 public:
  // kSecurityStrength is the strength requested at instantiation, in bits.
  static constexpr unsigned kSecurityStrength = 256;
  // kMinEntropyInput is the least entropy input Reseed accepts, in bytes.
  static constexpr std::size_t kMinEntropyInput = 32;
  // kMaxRequest is the most bytes one generate call of SP 800-90A returns;
  // Generate splits larger requests.
  static constexpr std::size_t kMaxRequest = std::size_t{1} << 16;

  // Create instantiates a DRBG from the operating system's seed source (as
  // OpenSSL does for its own DRBGs), with `personalization` mixed in. The
  // owner reseeds it with health-tested entropy before first use.
  static Result<std::unique_ptr<CtrDrbg>> Create(std::span<const std::uint8_t> personalization);

  // CreateFromSeed instantiates from caller-given entropy input and nonce
  // instead of the operating system: for known-answer self-tests (NIST CAVP
  // vectors) and reproducible tests, never for keys.
  static Result<std::unique_ptr<CtrDrbg>> CreateFromSeed(
      std::span<const std::uint8_t> entropy, std::span<const std::uint8_t> nonce,
      std::span<const std::uint8_t> personalization);

  ~CtrDrbg() override;
  CtrDrbg(const CtrDrbg&) = delete;
  CtrDrbg& operator=(const CtrDrbg&) = delete;

  // Reseed mixes in `entropy` (at least kMinEntropyInput bytes) and
  // `additional_input` (SP 800-90A §9.2). On an instance from Create, OpenSSL
  // follows it with a second reseed from the operating system's seed source,
  // so the state depends on both; on an instance from CreateFromSeed the
  // entropy goes through the TEST-RAND parent and nothing else is mixed in.
  Result<void> Reseed(std::span<const std::uint8_t> entropy,
                      std::span<const std::uint8_t> additional_input = {});

  // Generate fills `out`, mixing `additional_input` into every internal
  // request (SP 800-90A §9.3).
  Result<void> Generate(std::span<std::uint8_t> out,
                        std::span<const std::uint8_t> additional_input = {});

  // Fill is Generate without additional input.
  Result<void> Fill(std::span<std::uint8_t> out) override { return Generate(out); }

 private:
  struct State;
  explicit CtrDrbg(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace skap::crypto
