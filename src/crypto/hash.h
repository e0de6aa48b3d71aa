// The hash functions SKAP uses, and one-shot digests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace skap::crypto {

// Hash names a SHA-2 function. SHA-384 is the default everywhere the design
// says HMAC/HKDF; SHA-256 exists for interoperable formats and the vectors.
enum class Hash { kSha256, kSha384 };

// DigestSize returns the output length of `hash` in bytes.
constexpr std::size_t DigestSize(Hash hash) { return hash == Hash::kSha256 ? 32 : 48; }

// Digest returns the hash of `data`.
Result<std::vector<std::uint8_t>> Digest(Hash hash, std::span<const std::uint8_t> data);

}  // namespace skap::crypto
