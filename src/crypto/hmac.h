// HMAC (RFC 2104) over SHA-256 and SHA-384.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/hash.h"

namespace skap::crypto {

// kMinHmacTagSize is the shortest tag HmacVerify accepts: 128 bits, the floor
// NIST SP 800-107 sets for truncated HMAC.
inline constexpr std::size_t kMinHmacTagSize = 16;

// HmacTag returns HMAC-`hash`(key, message) in full. The key must not be
// empty. Use it for tags, which are public; use HmacDerive for key material.
Result<std::vector<std::uint8_t>> HmacTag(Hash hash, std::span<const std::uint8_t> key,
                                          std::span<const std::uint8_t> message);

// HmacDerive returns HMAC-`hash`(key, concatenation of `parts`) as a secret.
Result<SecretBytes> HmacDerive(Hash hash, std::span<const std::uint8_t> key,
                               std::initializer_list<std::span<const std::uint8_t>> parts);

// HmacPair is two HMACs under one key.
struct HmacPair {
  SecretBytes first;
  SecretBytes second;
};

// HmacDerivePair returns HMAC-`hash`(key, first_message) and
// HMAC-`hash`(key, second_message), keying HMAC once for both.
Result<HmacPair> HmacDerivePair(Hash hash, std::span<const std::uint8_t> key,
                                std::span<const std::uint8_t> first_message,
                                std::span<const std::uint8_t> second_message);

// HmacVerify checks `tag` against HMAC-`hash`(key, message) in constant time.
// A tag shorter than the digest is compared with the digest's prefix (a
// truncated tag); tags shorter than kMinHmacTagSize or longer than the digest
// are refused. Any mismatch is kAuthenticationFailed, without detail.
Result<void> HmacVerify(Hash hash, std::span<const std::uint8_t> key,
                        std::span<const std::uint8_t> message, std::span<const std::uint8_t> tag);

}  // namespace skap::crypto
