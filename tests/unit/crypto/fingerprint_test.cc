#include "crypto/fingerprint.h"

#include <algorithm>
#include <cstddef>

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/hash.h"

namespace skap::crypto {
namespace {

TEST(FingerprintTest, IsTheLabelledDigestPrefix) {
  const std::vector<std::uint8_t> key(32, 0xee);
  // The label, then the key, written into place: GCC 12 at -O2 warns
  // falsely (-Warray-bounds) about vector::insert of one after the other.
  constexpr std::string_view kLabel = "skap key fingerprint v1";
  std::vector<std::uint8_t> input(kLabel.size() + key.size());
  std::copy(kLabel.begin(), kLabel.end(), input.begin());
  std::copy(key.begin(), key.end(), input.begin() + static_cast<std::ptrdiff_t>(kLabel.size()));
  const std::string hex = HexEncode(*Digest(Hash::kSha256, input)).substr(0, 16);
  auto fp = KeyFingerprint(key);
  ASSERT_TRUE(fp);
  EXPECT_EQ(*fp, hex.substr(0, 4) + "-" + hex.substr(4, 4) + "-" + hex.substr(8, 4) + "-" +
                     hex.substr(12, 4));
  EXPECT_NE(*fp, *KeyFingerprint(std::vector<std::uint8_t>(32, 0xef)));
}

}  // namespace
}  // namespace skap::crypto
