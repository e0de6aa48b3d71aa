// Base64 (RFC 4648, section 4, with padding) of secret bytes, into wiping
// memory: the ETSI GS QKD 014 key container carries keys so.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::crypto {

// Base64EncodeSecret returns the base64 text of `bytes`.
Result<SecretBytes> Base64EncodeSecret(std::span<const std::uint8_t> bytes);

}  // namespace skap::crypto
