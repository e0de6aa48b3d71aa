// AES key wrap with padding (RFC 5649, NIST SP 800-38F KWP) for keys at rest.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::crypto {

// kKekSize is the size of a key-encryption key: AES-256 only.
inline constexpr std::size_t kKekSize = 32;

// WrapKey wraps `key` (1 byte or more) under the 32-byte `kek`. The result is
// 8 bytes longer than `key` rounded up to a multiple of 8.
Result<std::vector<std::uint8_t>> WrapKey(std::span<const std::uint8_t> kek,
                                          std::span<const std::uint8_t> key);

// UnwrapKey checks the integrity value and padding of `wrapped` and returns
// the key. Every failed check is kAuthenticationFailed, without detail.
Result<SecretBytes> UnwrapKey(std::span<const std::uint8_t> kek,
                              std::span<const std::uint8_t> wrapped);

}  // namespace skap::crypto
