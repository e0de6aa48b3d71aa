// X25519 against RFC 7748 §6.1 and every case of Wycheproof's
// x25519_test.json.
#include "crypto/x25519.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/ctr_drbg.h"
#include "unit/crypto/wycheproof.h"

namespace skap::crypto {
namespace {

std::vector<std::uint8_t> H(std::string_view hex) { return *HexDecode(hex); }

TEST(X25519Test, Rfc7748DiffieHellmanExample) {
  // RFC 7748 §6.1: Alice's and Bob's keys and their shared secret.
  const auto alice = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto alice_public = H("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const auto bob = H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const auto bob_public = H("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const std::string shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  EXPECT_EQ(HexEncode(*X25519PublicKey(alice)), HexEncode(alice_public));
  EXPECT_EQ(HexEncode(*X25519PublicKey(bob)), HexEncode(bob_public));
  EXPECT_EQ(HexEncode(X25519(alice, bob_public)->Expose()), shared);
  EXPECT_EQ(HexEncode(X25519(bob, alice_public)->Expose()), shared);
}

TEST(X25519Test, WycheproofEveryCase) {
  const std::string file = "x25519_test.json";
  const auto cases = testing::LoadWycheproof(file);
  ASSERT_EQ(static_cast<int>(cases.size()), testing::ExpectedTestCount(file));
  int refused = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.Label());
    auto shared = X25519(c.Bytes("private"), c.Bytes("public"));
    const std::string expected = HexEncode(c.Bytes("shared"));
    const bool zero = expected == std::string(64, '0');
    if (zero) {
      // Small-order peer keys ("acceptable" to Wycheproof) are refused.
      ASSERT_FALSE(shared);
      EXPECT_EQ(shared.error().code, ErrorCode::kAuthenticationFailed);
      ++refused;
      continue;
    }
    ASSERT_TRUE(c.result == "valid" || c.result == "acceptable");
    ASSERT_TRUE(shared) << shared.error().message;
    EXPECT_EQ(HexEncode(shared->Expose()), expected);
  }
  EXPECT_GT(refused, 0);
}

TEST(X25519Test, FreshPairsAgreeAndBadSizesAreRefused) {
  auto rng = CtrDrbg::Create({});
  ASSERT_TRUE(rng);
  auto a = GenerateX25519(**rng);
  auto b = GenerateX25519(**rng);
  ASSERT_TRUE(a && b);
  auto ab = X25519(a->private_key.Expose(), b->public_key);
  auto ba = X25519(b->private_key.Expose(), a->public_key);
  ASSERT_TRUE(ab && ba);
  EXPECT_EQ(HexEncode(ab->Expose()), HexEncode(ba->Expose()));
  EXPECT_EQ(X25519(a->private_key.Expose(), std::vector<std::uint8_t>(31, 9)).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(X25519PublicKey(std::vector<std::uint8_t>(33, 1)).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace skap::crypto
