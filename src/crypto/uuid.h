// Identifiers in UUID form (RFC 9562).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/rng.h"

namespace skap::crypto {

using UuidBytes = std::array<std::uint8_t, 16>;

// NewUuid returns a version 4 (random) UUID in its canonical lowercase text
// form (RFC 9562 §5.4), drawn from `rng`.
Result<std::string> NewUuid(Rng& rng);

// FormatUuid renders 16 bytes in the canonical lowercase text form
// (8-4-4-4-12 hex digits); the caller has set the version and variant bits.
std::string FormatUuid(const UuidBytes& bytes);

// ParseUuid reads the canonical text form (either case); nullopt otherwise.
std::optional<UuidBytes> ParseUuid(std::string_view text);

// IsCanonicalUuid is true for the lowercase text form FormatUuid writes:
// the only form SKAP accepts as a device or hub id.
bool IsCanonicalUuid(std::string_view text);

}  // namespace skap::crypto
