#include "common/hex.h"

#include <gtest/gtest.h>

namespace skap {
namespace {

TEST(HexTest, RoundTrip) {
  const std::vector<std::uint8_t> bytes = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(HexEncode(bytes), "000fa5ff");
  EXPECT_EQ(*HexDecode("000FA5ff"), bytes);
  EXPECT_TRUE(HexDecode("")->empty());
}

TEST(HexTest, RejectsMalformed) {
  EXPECT_EQ(HexDecode("abc").error().code, ErrorCode::kMalformedInput);
  EXPECT_EQ(HexDecode("zz").error().code, ErrorCode::kMalformedInput);
  EXPECT_EQ(HexDecode("0g").error().code, ErrorCode::kMalformedInput);
}

}  // namespace
}  // namespace skap
