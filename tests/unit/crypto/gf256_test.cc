#include "crypto/gf256.h"

#include <gtest/gtest.h>

namespace skap::crypto {
namespace {

// SlowMul is the schoolbook definition: carry-less product, then reduction
// modulo x^8 + x^4 + x^3 + x + 1 (0x11b), written with ordinary branches.
std::uint8_t SlowMul(std::uint8_t a, std::uint8_t b) {
  unsigned product = 0;
  for (int i = 0; i < 8; ++i) {
    if ((b >> i) & 1) product ^= static_cast<unsigned>(a) << i;
  }
  for (int bit = 14; bit >= 8; --bit) {
    if ((product >> bit) & 1) product ^= 0x11bu << (bit - 8);
  }
  return static_cast<std::uint8_t>(product);
}

TEST(Gf256Test, MulMatchesTheDefinitionForAllPairs) {
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      ASSERT_EQ(gf256::Mul(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)),
                SlowMul(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)))
          << a << " * " << b;
    }
  }
}

TEST(Gf256Test, Fips197Examples) {
  // FIPS 197 §4.2: {57} • {83} = {c1}; §4.2.1/§5.1.1: {53} and {ca} are inverses.
  EXPECT_EQ(gf256::Mul(0x57, 0x83), 0xc1);
  EXPECT_EQ(gf256::Inv(0x53), 0xca);
  EXPECT_EQ(gf256::Inv(0xca), 0x53);
}

TEST(Gf256Test, EveryNonzeroElementHasAnInverse) {
  for (unsigned a = 1; a < 256; ++a) {
    const auto x = static_cast<std::uint8_t>(a);
    ASSERT_EQ(gf256::Mul(x, gf256::Inv(x)), 1) << a;
    ASSERT_EQ(gf256::Div(gf256::Mul(x, 0x3d), x), 0x3d) << a;
  }
  EXPECT_EQ(gf256::Inv(0), 0);
}

}  // namespace
}  // namespace skap::crypto
