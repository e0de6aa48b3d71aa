// AEAD with a nonce policy that cannot repeat a nonce under one key.
//
// Both types produce the same self-describing format:
//   nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)
// and open it with the same rule, so a receiver needs no knowledge of the
// sender's policy.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/aes_gcm.h"
#include "crypto/rng.h"

namespace skap::crypto {

// kAeadOverhead is the number of bytes sealing adds (nonce and tag).
inline constexpr std::size_t kAeadOverhead = kGcmNonceSize + kGcmTagSize;

// CounterNonceAead seals with deterministic nonces (SP 800-38D §8.2.1):
// a 4-byte fixed field that names the sender ‖ a 64-bit big-endian counter.
// Meant for long-lived keys (channel and session keys). The counter only ever
// increases; the caller persists next_counter() before using a ciphertext, and
// restores it with the same fixed field after a restart.
class CounterNonceAead {
 public:
  using FixedField = std::array<std::uint8_t, 4>;

  // Create keys the AEAD. `fixed_field` must differ between all senders that
  // share `key` (for example one per direction); `next_counter` is where to
  // resume.
  static Result<CounterNonceAead> Create(std::span<const std::uint8_t> key, FixedField fixed_field,
                                         std::uint64_t next_counter = 0);

  // Seal returns nonce ‖ ciphertext ‖ tag. It fails with kLimitExceeded once
  // the 64-bit counter is spent; the key must then be replaced.
  Result<std::vector<std::uint8_t>> Seal(std::span<const std::uint8_t> aad,
                                         std::span<const std::uint8_t> plaintext);
  // Open authenticates and decrypts nonce ‖ ciphertext ‖ tag.
  Result<SecretBytes> Open(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed);

  // next_counter is the counter the next Seal will use.
  std::uint64_t next_counter() const { return next_counter_; }

 private:
  CounterNonceAead(AesGcmKey key, FixedField fixed_field, std::uint64_t next_counter)
      : key_(std::move(key)), fixed_field_(fixed_field), next_counter_(next_counter) {}
  AesGcmKey key_;
  FixedField fixed_field_;
  std::uint64_t next_counter_;
};

// RandomNonceAead seals with 96-bit random nonces, and only up to a per-key
// budget: with q seals the chance of any nonce repeating is about q^2 / 2^97.
// At the cap of 2^24 seals that is below 2^-49, far under the 2^-32 bound of
// SP 800-38D §8.3 (which allows up to 2^32 seals). Meant for short-lived keys
// where no counter can be kept.
class RandomNonceAead {
 public:
  // kMaxSeals is the hard cap on seals under one key.
  static constexpr std::uint64_t kMaxSeals = std::uint64_t{1} << 24;

  // Create keys the AEAD, drawing nonces from `rng` (which must outlive it).
  // `max_seals` may lower the budget below kMaxSeals, never raise it.
  static Result<RandomNonceAead> Create(std::span<const std::uint8_t> key, Rng& rng,
                                        std::uint64_t max_seals = kMaxSeals);

  // Seal returns nonce ‖ ciphertext ‖ tag, or kLimitExceeded when the budget
  // is spent.
  Result<std::vector<std::uint8_t>> Seal(std::span<const std::uint8_t> aad,
                                         std::span<const std::uint8_t> plaintext);
  // Open authenticates and decrypts nonce ‖ ciphertext ‖ tag.
  Result<SecretBytes> Open(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed);

  // seals_left is how many more Seal calls the budget allows.
  std::uint64_t seals_left() const { return max_seals_ - seals_; }

 private:
  RandomNonceAead(AesGcmKey key, Rng& rng, std::uint64_t max_seals)
      : key_(std::move(key)), rng_(&rng), max_seals_(max_seals) {}
  AesGcmKey key_;
  Rng* rng_;
  std::uint64_t max_seals_;
  std::uint64_t seals_ = 0;
};

}  // namespace skap::crypto
