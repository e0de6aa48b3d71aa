// Short public fingerprints of keys, for people to compare.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace skap::crypto {

// KeyFingerprint returns the first 64 bits of
//   SHA-256("skap key fingerprint v1" ‖ key)
// as 16 hex digits in groups of four ("1a2b-3c4d-5e6f-7a8b"). Two parties
// holding the same key see the same fingerprint; the fingerprint reveals
// nothing useful about a 256-bit key.
Result<std::string> KeyFingerprint(std::span<const std::uint8_t> key);

}  // namespace skap::crypto
