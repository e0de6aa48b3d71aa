// Text armor for secret binary blobs that people copy by hand or scan: a
// prefix, then uppercase hex in groups of 8 joined by '-'. Uppercase hex,
// digits and '-' all fall in the QR code alphanumeric set.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap {

// ArmorEncode returns `prefix` followed by the grouped hex of `bytes`.
SecretBytes ArmorEncode(std::string_view prefix, std::span<const std::uint8_t> bytes);

// ArmorDecode parses what ArmorEncode produced, ignoring case, white space
// and '-' after the prefix (which is matched without regard to case).
// Failures are kMalformedInput, with `what` naming the thing in the message.
Result<SecretBytes> ArmorDecode(std::string_view prefix, std::string_view text,
                                std::string_view what);

}  // namespace skap
