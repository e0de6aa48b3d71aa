#include "crypto/fingerprint.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/hash.h"

namespace skap::crypto {
namespace {

TEST(FingerprintTest, IsTheLabelledDigestPrefix) {
  const std::vector<std::uint8_t> key(32, 0xee);
  // One view of the label: two literals need not be one object, so their
  // begin and end must not be mixed.
  constexpr std::string_view kLabel = "skap key fingerprint v1";
  std::vector<std::uint8_t> input(kLabel.begin(), kLabel.end());
  input.insert(input.end(), key.begin(), key.end());
  const std::string hex = HexEncode(*Digest(Hash::kSha256, input)).substr(0, 16);
  auto fp = KeyFingerprint(key);
  ASSERT_TRUE(fp);
  EXPECT_EQ(*fp, hex.substr(0, 4) + "-" + hex.substr(4, 4) + "-" + hex.substr(8, 4) + "-" +
                     hex.substr(12, 4));
  EXPECT_NE(*fp, *KeyFingerprint(std::vector<std::uint8_t>(32, 0xef)));
}

}  // namespace
}  // namespace skap::crypto
