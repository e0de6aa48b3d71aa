#include "crypto/share_codec.h"

#include <gtest/gtest.h>

#include "common/ct.h"
#include "crypto/hash.h"
#include "unit/crypto/test_rng.h"

namespace skap::crypto {
namespace {

std::string Text(const SecretBytes& text) { return {text.Expose().begin(), text.Expose().end()}; }

class ShareCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_ = testing::SeededRng("codec");
    const std::vector<std::uint8_t> secret(32, 0x5a);
    auto shares = SplitSecret(secret, 3, 5, *rng_);
    ASSERT_TRUE(shares);
    share_ = (*shares)[3].Clone();
  }
  std::unique_ptr<CtrDrbg> rng_;
  Share share_;
};

TEST_F(ShareCodecTest, BinaryRoundTrip) {
  auto encoded = EncodeShare(share_);
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->size(), 13u + 32u + 4u);
  auto decoded = DecodeShare(encoded->Expose());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->index, 4);
  EXPECT_EQ(decoded->threshold, 3);
  EXPECT_EQ(decoded->set_id, share_.set_id);
  EXPECT_TRUE(ct::Equal(decoded->value.Expose(), share_.value.Expose()));
}

TEST_F(ShareCodecTest, TextRoundTripIsForgiving) {
  auto text = ShareToText(share_);
  ASSERT_TRUE(text);
  const std::string s = Text(*text);
  EXPECT_EQ(s.rfind("SKAPSHARE1-", 0), 0u);
  EXPECT_EQ(s.find_first_not_of("SKAPHRE1-0123456789ABCDEF"), std::string::npos);
  std::string sloppy;
  for (char c : s) sloppy += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  sloppy = "  " + sloppy + "\n";
  sloppy.insert(20, " ");
  auto decoded = ShareFromText(sloppy);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(ct::Equal(decoded->value.Expose(), share_.value.Expose()));
}

TEST_F(ShareCodecTest, EveryFlippedBitIsCaught) {
  auto encoded = EncodeShare(share_);
  ASSERT_TRUE(encoded);
  const auto bytes = encoded->Expose();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<std::uint8_t> bad(bytes.begin(), bytes.end());
      bad[i] ^= static_cast<std::uint8_t>(1u << bit);
      auto decoded = DecodeShare(bad);
      ASSERT_FALSE(decoded) << "byte " << i << " bit " << bit;
      EXPECT_EQ(decoded.error().code, ErrorCode::kMalformedInput);
    }
  }
}

TEST_F(ShareCodecTest, MalformedInputsAreRefusedWithReasons) {
  auto encoded = EncodeShare(share_);
  ASSERT_TRUE(encoded);
  const auto bytes = encoded->Expose();
  std::vector<std::uint8_t> good(bytes.begin(), bytes.end());

  EXPECT_NE(DecodeShare(std::span(good).first(10)).error().message.find("too short"),
            std::string::npos);
  EXPECT_NE(DecodeShare(std::span(good).first(good.size() - 1)).error().message.find("length"),
            std::string::npos);
  auto trailing = good;
  trailing.push_back(0);
  EXPECT_NE(DecodeShare(trailing).error().message.find("length"), std::string::npos);
  auto version = good;
  version[0] = 2;
  EXPECT_NE(DecodeShare(version).error().message.find("version"), std::string::npos);
  auto typo = good;
  typo[20] ^= 1;
  EXPECT_NE(DecodeShare(typo).error().message.find("check value"), std::string::npos);

  EXPECT_NE(ShareFromText("hello").error().message.find("SKAPSHARE1-"), std::string::npos);
  EXPECT_NE(ShareFromText("SKAPSHARE1-ZZ").error().message.find("hex"), std::string::npos);
  EXPECT_NE(ShareFromText("SKAPSHARE1-ABC").error().message.find("odd"), std::string::npos);
}

TEST_F(ShareCodecTest, InvalidFieldsWithValidChecksumAreRefused) {
  // Build encodings whose check value is right but whose fields are not, to
  // reach the field checks behind the checksum.
  auto reencode = [&](std::uint8_t threshold, std::uint8_t index) {
    Share s = share_.Clone();
    s.threshold = 3;
    s.index = 1;
    auto encoded = EncodeShare(s);
    std::vector<std::uint8_t> bytes(encoded->Expose().begin(), encoded->Expose().end());
    bytes[9] = threshold;
    bytes[10] = index;
    auto digest = Digest(Hash::kSha256, std::span(bytes).first(bytes.size() - 4));
    std::copy_n(digest->begin(), 4, bytes.end() - 4);
    return bytes;
  };
  EXPECT_NE(DecodeShare(reencode(1, 1)).error().message.find("threshold"), std::string::npos);
  EXPECT_NE(DecodeShare(reencode(3, 0)).error().message.find("index 0"), std::string::npos);
  EXPECT_TRUE(DecodeShare(reencode(3, 2)));
}

}  // namespace
}  // namespace skap::crypto
