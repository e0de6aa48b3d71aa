// A reproducible Rng for tests: CTR_DRBG instantiated from a fixed seed.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/ctr_drbg.h"

namespace skap::testing {

// SeededRng returns a CtrDrbg seeded from `label`, so a statistical test sees
// the same stream on every run and cannot flake.
inline std::unique_ptr<crypto::CtrDrbg> SeededRng(std::string_view label) {
  std::vector<std::uint8_t> entropy(48, 0x42);
  const std::vector<std::uint8_t> nonce(16, 0x24);
  auto drbg = crypto::CtrDrbg::CreateFromSeed(entropy, nonce, AsBytes(label));
  EXPECT_TRUE(drbg) << drbg.error().message;
  return std::move(drbg).value();
}

}  // namespace skap::testing
