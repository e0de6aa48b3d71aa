// AES-KWP (RFC 5649) against every case of Wycheproof's aes_kwp_test.json.
// KEKs are AES-256 only: 256-bit cases must match Wycheproof exactly, and
// AES-128/192 cases must be refused with kInvalidArgument.
#include "crypto/key_wrap.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "unit/crypto/wycheproof.h"

namespace skap::crypto {
namespace {

TEST(KeyWrapWycheproofTest, EveryCase) {
  const std::string file = "aes_kwp_test.json";
  const auto cases = testing::LoadWycheproof(file);
  ASSERT_EQ(static_cast<int>(cases.size()), testing::ExpectedTestCount(file));
  int in_profile = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.Label());
    const auto kek = c.Bytes("key");
    const auto msg = c.Bytes("msg");
    const auto ct = c.Bytes("ct");
    auto unwrapped = UnwrapKey(kek, ct);
    if (kek.size() != kKekSize) {
      ASSERT_FALSE(unwrapped);
      EXPECT_EQ(unwrapped.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(WrapKey(kek, msg.empty() ? std::vector<std::uint8_t>{1} : msg).error().code,
                ErrorCode::kInvalidArgument);
      continue;
    }
    ++in_profile;
    if (c.result == "valid") {
      ASSERT_TRUE(unwrapped) << unwrapped.error().message;
      EXPECT_EQ(HexEncode(unwrapped->Expose()), HexEncode(msg));
      auto wrapped = WrapKey(kek, msg);
      ASSERT_TRUE(wrapped);
      EXPECT_EQ(HexEncode(*wrapped), HexEncode(ct));
    } else {
      ASSERT_EQ(c.result, "invalid");
      ASSERT_FALSE(unwrapped);
      EXPECT_EQ(unwrapped.error().code, ErrorCode::kAuthenticationFailed);
    }
  }
  RecordProperty("in_profile", in_profile);
  EXPECT_GE(in_profile, 90);  // the file has 94 AES-256 cases
}

TEST(KeyWrapTest, RoundTripAndTamper) {
  const std::vector<std::uint8_t> kek(32, 0x33);
  for (std::size_t size : {1u, 7u, 8u, 9u, 32u, 48u, 100u}) {
    SCOPED_TRACE(size);
    const std::vector<std::uint8_t> key(size, 0x5c);
    auto wrapped = WrapKey(kek, key);
    ASSERT_TRUE(wrapped);
    EXPECT_EQ(wrapped->size(), (size + 7) / 8 * 8 + 8);
    auto back = UnwrapKey(kek, *wrapped);
    ASSERT_TRUE(back);
    EXPECT_EQ(HexEncode(back->Expose()), HexEncode(key));
    auto bad = *wrapped;
    bad.back() ^= 1;
    EXPECT_EQ(UnwrapKey(kek, bad).error().code, ErrorCode::kAuthenticationFailed);
    EXPECT_EQ(UnwrapKey(std::vector<std::uint8_t>(32, 0x34), *wrapped).error().code,
              ErrorCode::kAuthenticationFailed);
  }
  EXPECT_EQ(WrapKey(kek, {}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(UnwrapKey(kek, std::vector<std::uint8_t>(12, 0)).error().code,
            ErrorCode::kAuthenticationFailed);
}

}  // namespace
}  // namespace skap::crypto
