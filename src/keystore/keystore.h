// Where the hub's key-encryption key (KEK) lives. Every key the hub stores is
// wrapped under it (RFC 5649); the KEK itself never leaves the keystore
// object (and, with a PKCS#11 token, never leaves the token).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::keystore {

// Keystore wraps and unwraps keys under the KEK it holds.
class Keystore {
 public:
  virtual ~Keystore() = default;
  // Describe names the keystore for logs and status ("file:/var/lib/skap/kek").
  virtual std::string Describe() const = 0;
  // Wrap returns `key` wrapped under the KEK (AES-256 KWP).
  virtual Result<std::vector<std::uint8_t>> Wrap(std::span<const std::uint8_t> key) = 0;
  // Unwrap checks and unwraps; any failure is kAuthenticationFailed.
  virtual Result<SecretBytes> Unwrap(std::span<const std::uint8_t> wrapped) = 0;
};

}  // namespace skap::keystore
