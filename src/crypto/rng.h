// The randomness interface that key generation and secret sharing draw from.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"

namespace skap::crypto {

// Rng fills buffers with cryptographically strong random bytes. Implemented by
// CtrDrbg and by the entropy service (which adds health-tested reseeding).
class Rng {
 public:
  virtual ~Rng() = default;
  // Fill writes random bytes to all of `out`, or fails without output.
  virtual Result<void> Fill(std::span<std::uint8_t> out) = 0;
};

}  // namespace skap::crypto
