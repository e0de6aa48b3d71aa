// AES-256-GCM against every case of Wycheproof's aes_gcm_test.json.
//
// SKAP's GCM takes AES-256 keys and 96-bit nonces only. Cases in that
// profile must give exactly Wycheproof's result (valid: same ciphertext and
// tag both ways; invalid: refused on open). Cases outside it (AES-128/192,
// other nonce lengths, including the zero-length-IV attacks) must be refused
// with kInvalidArgument before any cryptography runs.
#include "crypto/aes_gcm.h"

#include <gtest/gtest.h>

#include "unit/crypto/wycheproof.h"

namespace skap::crypto {
namespace {

TEST(AesGcmWycheproofTest, EveryCase) {
  const std::string file = "aes_gcm_test.json";
  const auto cases = testing::LoadWycheproof(file);
  ASSERT_EQ(static_cast<int>(cases.size()), testing::ExpectedTestCount(file));
  int in_profile = 0;
  int refused = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.Label());
    const auto key = c.Bytes("key");
    const auto iv = c.Bytes("iv");
    const auto aad = c.Bytes("aad");
    const auto msg = c.Bytes("msg");
    auto ct_and_tag = c.Bytes("ct");
    const auto tag = c.Bytes("tag");
    ct_and_tag.insert(ct_and_tag.end(), tag.begin(), tag.end());
    ASSERT_EQ(c.group.at("tagSize").get<int>(), 128);

    auto gcm = AesGcmKey::Create(key);
    if (key.size() != kAes256KeySize) {
      ASSERT_FALSE(gcm);
      EXPECT_EQ(gcm.error().code, ErrorCode::kInvalidArgument);
      ++refused;
      continue;
    }
    ASSERT_TRUE(gcm) << gcm.error().message;
    std::vector<std::uint8_t> sealed(msg.size() + kGcmTagSize);
    std::vector<std::uint8_t> opened(msg.size());
    if (iv.size() != kGcmNonceSize) {
      auto seal = gcm->Seal(iv, aad, msg, sealed);
      auto open = gcm->Open(iv, aad, ct_and_tag, opened);
      ASSERT_FALSE(seal);
      ASSERT_FALSE(open);
      EXPECT_EQ(seal.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(open.error().code, ErrorCode::kInvalidArgument);
      ++refused;
      continue;
    }
    ++in_profile;
    auto open = gcm->Open(iv, aad, ct_and_tag, opened);
    if (c.result == "valid") {
      ASSERT_TRUE(gcm->Seal(iv, aad, msg, sealed));
      EXPECT_EQ(sealed, ct_and_tag);
      ASSERT_TRUE(open) << open.error().message;
      EXPECT_EQ(opened, msg);
    } else {
      ASSERT_EQ(c.result, "invalid");
      ASSERT_FALSE(open);
      EXPECT_EQ(open.error().code, ErrorCode::kAuthenticationFailed);
      EXPECT_EQ(opened, std::vector<std::uint8_t>(msg.size(), 0)) << "plaintext released";
    }
  }
  RecordProperty("in_profile", in_profile);
  RecordProperty("refused_out_of_profile", refused);
  EXPECT_EQ(in_profile + refused, static_cast<int>(cases.size()));
  EXPECT_GE(in_profile, 60);  // the file has 66 AES-256 / 96-bit cases
}

TEST(AesGcmTest, RejectsWrongBufferSizesAndShortInput) {
  const std::vector<std::uint8_t> key(32, 7), nonce(12, 1), msg(10, 2);
  auto gcm = AesGcmKey::Create(key);
  ASSERT_TRUE(gcm);
  std::vector<std::uint8_t> small(msg.size());
  EXPECT_EQ(gcm->Seal(nonce, {}, msg, small).error().code, ErrorCode::kInvalidArgument);
  std::vector<std::uint8_t> out(0);
  const std::vector<std::uint8_t> short_input(15, 0);
  EXPECT_EQ(gcm->Open(nonce, {}, short_input, out).error().code, ErrorCode::kAuthenticationFailed);
}

}  // namespace
}  // namespace skap::crypto
