// AES-256-GCM (NIST SP 800-38D) with a key scheduled once and reused.
//
// This is the raw primitive: the caller supplies the nonce. Outside src/crypto
// use CounterNonceAead or RandomNonceAead (aead.h), whose types make a nonce
// repeat impossible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::crypto {

inline constexpr std::size_t kAes256KeySize = 32;
inline constexpr std::size_t kGcmNonceSize = 12;  // 96 bits, SP 800-38D §8.2
inline constexpr std::size_t kGcmTagSize = 16;

// AesGcmKey holds an AES-256-GCM key, expanded once for sealing and once for
// opening. Not safe for concurrent use; one per thread or behind a lock.
class AesGcmKey {
 public:
  // Create expands `key`, which must be exactly 32 bytes. Only AES-256 and
  // 96-bit nonces are offered: SKAP rests on AES-256, and other nonce lengths
  // go through GHASH and invite mistakes.
  static Result<AesGcmKey> Create(std::span<const std::uint8_t> key);

  AesGcmKey(AesGcmKey&&) noexcept;
  AesGcmKey& operator=(AesGcmKey&&) noexcept;
  ~AesGcmKey();

  // Seal encrypts `plaintext` under `nonce` (12 bytes) binding `aad`, and
  // writes ciphertext ‖ tag (plaintext.size() + 16 bytes) into `out`.
  Result<void> Seal(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                    std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out);

  // Open checks and decrypts ciphertext ‖ tag into `out`
  // (ciphertext_and_tag.size() - 16 bytes). On kAuthenticationFailed `out` is
  // wiped: no unauthenticated plaintext is ever released.
  Result<void> Open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                    std::span<const std::uint8_t> ciphertext_and_tag, std::span<std::uint8_t> out);

 private:
  struct Contexts;
  explicit AesGcmKey(std::unique_ptr<Contexts> contexts);
  std::unique_ptr<Contexts> contexts_;
};

}  // namespace skap::crypto
