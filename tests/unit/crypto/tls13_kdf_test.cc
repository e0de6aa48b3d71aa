#include "crypto/tls13_kdf.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/hash.h"

namespace skap::crypto {
namespace {

std::vector<std::uint8_t> H(std::string_view hex) { return *HexDecode(hex); }

// RFC 8448 §3 (Simple 1-RTT Handshake), the two "tls13 derived" steps:
// Derive-Secret(secret, "derived", "") = HKDF-Expand-Label(secret, "derived",
// SHA-256(""), 32).
TEST(HkdfExpandLabelTest, Rfc8448DerivedSecrets) {
  const auto empty_hash = *Digest(Hash::kSha256, {});
  struct {
    const char* secret;
    const char* expected;
  } const cases[] = {
      {"33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
       "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"},
      {"1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
       "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4"},
  };
  for (const auto& c : cases) {
    auto derived = HkdfExpandLabel(Hash::kSha256, H(c.secret), "derived", empty_hash, 32);
    ASSERT_TRUE(derived);
    EXPECT_EQ(HexEncode(derived->Expose()), c.expected);
  }
}

TEST(HkdfExpandLabelTest, RejectsOversizedFields) {
  const std::vector<std::uint8_t> secret(32, 1);
  EXPECT_FALSE(HkdfExpandLabel(Hash::kSha256, secret, std::string(250, 'x'), {}, 32));
  EXPECT_FALSE(HkdfExpandLabel(Hash::kSha256, secret, "l", std::vector<std::uint8_t>(256, 0), 32));
}

}  // namespace
}  // namespace skap::crypto
