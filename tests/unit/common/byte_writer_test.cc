#include "common/byte_writer.h"

#include <gtest/gtest.h>

#include "common/hex.h"

namespace skap {
namespace {

TEST(ByteWriterTest, BigEndianAndLengthPrefixed) {
  std::vector<std::uint8_t> out;
  AppendU64(out, 0x0102030405060708ULL);
  AppendField16(out, "ab");
  AppendField32(out, "xyz");
  AppendField16(out, "");
  EXPECT_EQ(HexEncode(out),
            "0102030405060708"
            "00026162"
            "0000000378797a"
            "0000");
}

}  // namespace
}  // namespace skap
