#include "crypto/aead.h"

#include <limits>

namespace skap::crypto {
namespace {

// SealWithNonce writes nonce ‖ ciphertext ‖ tag.
Result<std::vector<std::uint8_t>> SealWithNonce(AesGcmKey& key, std::span<const std::uint8_t> nonce,
                                                std::span<const std::uint8_t> aad,
                                                std::span<const std::uint8_t> plaintext) {
  std::vector<std::uint8_t> out(kAeadOverhead + plaintext.size());
  std::copy(nonce.begin(), nonce.end(), out.begin());
  SKAP_RETURN_IF_ERROR(key.Seal(nonce, aad, plaintext, std::span(out).subspan(kGcmNonceSize)));
  return out;
}

Result<SecretBytes> OpenSealed(AesGcmKey& key, std::span<const std::uint8_t> aad,
                               std::span<const std::uint8_t> sealed) {
  if (sealed.size() < kAeadOverhead) {
    return Unexpected(ErrorCode::kAuthenticationFailed, "authentication failed");
  }
  SecretBytes plaintext(sealed.size() - kAeadOverhead);
  SKAP_RETURN_IF_ERROR(key.Open(sealed.first(kGcmNonceSize), aad, sealed.subspan(kGcmNonceSize),
                                plaintext.MutableExpose()));
  return plaintext;
}

}  // namespace

Result<CounterNonceAead> CounterNonceAead::Create(std::span<const std::uint8_t> key,
                                                  FixedField fixed_field,
                                                  std::uint64_t next_counter) {
  SKAP_ASSIGN_OR_RETURN(auto gcm, AesGcmKey::Create(key));
  return CounterNonceAead(std::move(gcm), fixed_field, next_counter);
}

Result<std::vector<std::uint8_t>> CounterNonceAead::Seal(std::span<const std::uint8_t> aad,
                                                         std::span<const std::uint8_t> plaintext) {
  // The last counter value is kept unused so that next_counter_ never wraps.
  if (next_counter_ == std::numeric_limits<std::uint64_t>::max()) {
    return Unexpected(ErrorCode::kLimitExceeded, "nonce counter spent; replace the key");
  }
  std::array<std::uint8_t, kGcmNonceSize> nonce{};
  std::copy(fixed_field_.begin(), fixed_field_.end(), nonce.begin());
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[4 + i] = static_cast<std::uint8_t>(next_counter_ >> (56 - 8 * i));
  }
  // Spend the counter before sealing: a failed seal must not free its nonce.
  ++next_counter_;
  return SealWithNonce(key_, nonce, aad, plaintext);
}

Result<SecretBytes> CounterNonceAead::Open(std::span<const std::uint8_t> aad,
                                           std::span<const std::uint8_t> sealed) {
  return OpenSealed(key_, aad, sealed);
}

Result<RandomNonceAead> RandomNonceAead::Create(std::span<const std::uint8_t> key, Rng& rng,
                                                std::uint64_t max_seals) {
  if (max_seals == 0 || max_seals > kMaxSeals) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "random-nonce seal budget must be between 1 and 2^24");
  }
  SKAP_ASSIGN_OR_RETURN(auto gcm, AesGcmKey::Create(key));
  return RandomNonceAead(std::move(gcm), rng, max_seals);
}

Result<std::vector<std::uint8_t>> RandomNonceAead::Seal(std::span<const std::uint8_t> aad,
                                                        std::span<const std::uint8_t> plaintext) {
  if (seals_ >= max_seals_) {
    return Unexpected(ErrorCode::kLimitExceeded, "random-nonce seal budget spent; replace the key");
  }
  std::array<std::uint8_t, kGcmNonceSize> nonce{};
  SKAP_RETURN_IF_ERROR(rng_->Fill(nonce));
  ++seals_;
  return SealWithNonce(key_, nonce, aad, plaintext);
}

Result<SecretBytes> RandomNonceAead::Open(std::span<const std::uint8_t> aad,
                                          std::span<const std::uint8_t> sealed) {
  return OpenSealed(key_, aad, sealed);
}

}  // namespace skap::crypto
