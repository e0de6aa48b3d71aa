// HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1), used by the external PSK
// importer (RFC 9258).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/hash.h"

namespace skap::crypto {

// HkdfExpandLabel returns HKDF-Expand(secret, HkdfLabel, length) where
//   struct { uint16 length; opaque label<7..255> = "tls13 " + label;
//            opaque context<0..255>; } HkdfLabel;
Result<SecretBytes> HkdfExpandLabel(Hash hash, std::span<const std::uint8_t> secret,
                                    std::string_view label, std::span<const std::uint8_t> context,
                                    std::size_t length);

}  // namespace skap::crypto
