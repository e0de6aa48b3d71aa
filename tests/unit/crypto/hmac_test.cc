// HMAC-SHA-256/384 against every case of Wycheproof's hmac_sha256_test.json
// and hmac_sha384_test.json (tags truncated to the group's tagSize).
#include "crypto/hmac.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "unit/crypto/wycheproof.h"

namespace skap::crypto {
namespace {

void RunHmacVectors(Hash hash, const std::string& file) {
  const auto cases = testing::LoadWycheproof(file);
  ASSERT_EQ(static_cast<int>(cases.size()), testing::ExpectedTestCount(file));
  int valid = 0;
  int invalid = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.Label());
    const auto key = c.Bytes("key");
    const auto msg = c.Bytes("msg");
    const auto tag = c.Bytes("tag");
    ASSERT_EQ(tag.size() * 8, c.group.at("tagSize").get<std::size_t>());
    auto verified = HmacVerify(hash, key, msg, tag);
    auto full = HmacTag(hash, key, msg);
    ASSERT_TRUE(full);
    if (c.result == "valid") {
      ++valid;
      EXPECT_TRUE(verified) << verified.error().message;
      EXPECT_EQ(HexEncode(std::span(*full).first(tag.size())), HexEncode(tag));
    } else {
      ++invalid;
      ASSERT_EQ(c.result, "invalid");
      ASSERT_FALSE(verified);
      EXPECT_EQ(verified.error().code, ErrorCode::kAuthenticationFailed);
    }
  }
  EXPECT_GT(valid, 0);
  EXPECT_GT(invalid, 0);
}

TEST(HmacWycheproofTest, Sha256EveryCase) {
  RunHmacVectors(Hash::kSha256, "hmac_sha256_test.json");
}
TEST(HmacWycheproofTest, Sha384EveryCase) {
  RunHmacVectors(Hash::kSha384, "hmac_sha384_test.json");
}

TEST(HmacTest, RefusesEmptyKeysAndOddTagLengths) {
  const std::vector<std::uint8_t> key(32, 1);
  EXPECT_EQ(HmacTag(Hash::kSha384, {}, AsBytes("m")).error().code, ErrorCode::kInvalidArgument);
  auto tag = HmacTag(Hash::kSha384, key, AsBytes("m"));
  ASSERT_TRUE(tag);
  EXPECT_EQ(HmacVerify(Hash::kSha384, key, AsBytes("m"), std::span(*tag).first(15)).error().code,
            ErrorCode::kInvalidArgument);
  auto longer = *tag;
  longer.push_back(0);
  EXPECT_EQ(HmacVerify(Hash::kSha384, key, AsBytes("m"), longer).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(HmacVerify(Hash::kSha384, key, AsBytes("m"), *tag));
}

TEST(HmacTest, DeriveConcatenatesParts) {
  const std::vector<std::uint8_t> key(48, 3);
  auto whole = HmacTag(Hash::kSha384, key, AsBytes("abcdef"));
  auto parts = HmacDerive(Hash::kSha384, key, {AsBytes("ab"), AsBytes(""), AsBytes("cdef")});
  ASSERT_TRUE(whole && parts);
  EXPECT_EQ(HexEncode(*whole), HexEncode(parts->Expose()));
}

TEST(HmacTest, PairEqualsTwoSeparateHmacs) {
  const std::vector<std::uint8_t> key(48, 0x21);
  for (Hash hash : {Hash::kSha256, Hash::kSha384}) {
    auto pair = HmacDerivePair(hash, key, AsBytes("first"), AsBytes("second message"));
    ASSERT_TRUE(pair);
    EXPECT_EQ(HexEncode(pair->first.Expose()), HexEncode(*HmacTag(hash, key, AsBytes("first"))));
    EXPECT_EQ(HexEncode(pair->second.Expose()),
              HexEncode(*HmacTag(hash, key, AsBytes("second message"))));
  }
  EXPECT_EQ(HmacDerivePair(Hash::kSha384, {}, AsBytes("a"), AsBytes("b")).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace skap::crypto
