#include "common/ct.h"

#include <vector>

#include <gtest/gtest.h>

namespace skap {
namespace {

TEST(CtEqualTest, ComparesContentsAndLengths) {
  const std::vector<std::uint8_t> a = {1, 2, 3};
  const std::vector<std::uint8_t> b = {1, 2, 3};
  const std::vector<std::uint8_t> c = {1, 2, 4};
  const std::vector<std::uint8_t> d = {1, 2};
  EXPECT_TRUE(ct::Equal(a, b));
  EXPECT_FALSE(ct::Equal(a, c));
  EXPECT_FALSE(ct::Equal(a, d));
  EXPECT_TRUE(ct::Equal({}, {}));
}

TEST(CtEqualTest, EveryByteCounts) {
  std::vector<std::uint8_t> a(100, 0x5a);
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::vector<std::uint8_t> b = a;
    b[i] ^= 0x01;
    EXPECT_FALSE(ct::Equal(a, b)) << i;
  }
}

}  // namespace
}  // namespace skap
