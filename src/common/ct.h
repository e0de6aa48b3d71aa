// Constant-time helpers for comparing secrets.
#pragma once

#include <cstdint>
#include <span>

namespace skap::ct {

// Equal reports whether `a` and `b` hold the same bytes. The time taken
// depends only on the lengths (which are not secret), never on the contents.
bool Equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace skap::ct
