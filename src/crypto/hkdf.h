// HKDF (RFC 5869) over SHA-256 and SHA-384.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/hash.h"

namespace skap::crypto {

// HkdfExtract returns PRK = HMAC-`hash`(salt, ikm) (RFC 5869 §2.2). An empty
// salt stands for DigestSize(hash) zero bytes, as the RFC specifies.
Result<SecretBytes> HkdfExtract(Hash hash, std::span<const std::uint8_t> salt,
                                std::span<const std::uint8_t> ikm);

// HkdfExpand returns `length` bytes of OKM from `prk` and `info` (RFC 5869
// §2.3). `length` must be between 1 and 255 * DigestSize(hash).
Result<SecretBytes> HkdfExpand(Hash hash, std::span<const std::uint8_t> prk,
                               std::span<const std::uint8_t> info, std::size_t length);

// Hkdf is HkdfExpand(HkdfExtract(salt, ikm), info, length).
Result<SecretBytes> Hkdf(Hash hash, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> info,
                         std::size_t length);

}  // namespace skap::crypto
