// HKDF against RFC 5869 Appendix A (the SHA-256 cases 1-3) and every case of
// Wycheproof's hkdf_sha256_test.json and hkdf_sha384_test.json.
#include "crypto/hkdf.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "unit/crypto/wycheproof.h"

namespace skap::crypto {
namespace {

std::vector<std::uint8_t> H(std::string_view hex) { return *HexDecode(hex); }

struct Rfc5869Case {
  const char* name;
  const char* ikm;
  const char* salt;
  const char* info;
  const char* prk;
  const char* okm;
};

// RFC 5869, Appendix A.1-A.3.
const Rfc5869Case kRfc5869[] = {
    {"A.1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9", "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    {"A.2",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d"
     "2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d"
     "8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdd"
     "dedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e5"
     "90e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {"A.3", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

TEST(HkdfRfc5869Test, ExtractExpandAndOneShot) {
  for (const auto& v : kRfc5869) {
    SCOPED_TRACE(v.name);
    const auto okm = H(v.okm);
    auto prk = HkdfExtract(Hash::kSha256, H(v.salt), H(v.ikm));
    ASSERT_TRUE(prk);
    EXPECT_EQ(HexEncode(prk->Expose()), v.prk);
    auto expanded = HkdfExpand(Hash::kSha256, prk->Expose(), H(v.info), okm.size());
    ASSERT_TRUE(expanded);
    EXPECT_EQ(HexEncode(expanded->Expose()), v.okm);
    auto one_shot = Hkdf(Hash::kSha256, H(v.salt), H(v.ikm), H(v.info), okm.size());
    ASSERT_TRUE(one_shot);
    EXPECT_EQ(HexEncode(one_shot->Expose()), v.okm);
  }
}

void RunHkdfVectors(Hash hash, const std::string& file) {
  const auto cases = testing::LoadWycheproof(file);
  ASSERT_EQ(static_cast<int>(cases.size()), testing::ExpectedTestCount(file));
  int invalid = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.Label());
    const auto size = c.test.at("size").get<std::size_t>();
    auto okm = Hkdf(hash, c.Bytes("salt"), c.Bytes("ikm"), c.Bytes("info"), size);
    if (c.result == "valid") {
      ASSERT_TRUE(okm) << okm.error().message;
      EXPECT_EQ(HexEncode(okm->Expose()), HexEncode(c.Bytes("okm")));
    } else {
      ASSERT_EQ(c.result, "invalid");
      ++invalid;
      ASSERT_FALSE(okm);
      EXPECT_EQ(okm.error().code, ErrorCode::kInvalidArgument);
    }
  }
  EXPECT_GT(invalid, 0);
}

TEST(HkdfWycheproofTest, Sha256EveryCase) {
  RunHkdfVectors(Hash::kSha256, "hkdf_sha256_test.json");
}
TEST(HkdfWycheproofTest, Sha384EveryCase) {
  RunHkdfVectors(Hash::kSha384, "hkdf_sha384_test.json");
}

TEST(HkdfTest, ExpandLengthBounds) {
  const std::vector<std::uint8_t> prk(48, 9);
  EXPECT_FALSE(HkdfExpand(Hash::kSha384, prk, {}, 0));
  EXPECT_TRUE(HkdfExpand(Hash::kSha384, prk, {}, 255 * 48));
  EXPECT_EQ(HkdfExpand(Hash::kSha384, prk, {}, 255 * 48 + 1).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace skap::crypto
