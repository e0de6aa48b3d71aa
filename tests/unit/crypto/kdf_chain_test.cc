#include "crypto/kdf_chain.h"

#include <set>

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/hash.h"

namespace skap::crypto {
namespace {

// ReferenceHmacSha384 builds HMAC from its definition (RFC 2104 §2) on top of
// the plain SHA-384 digest, independently of the EVP_MAC path under test:
// H((K ^ opad) ‖ H((K ^ ipad) ‖ m)), with the 128-byte SHA-384 block.
std::vector<std::uint8_t> ReferenceHmacSha384(std::span<const std::uint8_t> key,
                                              std::span<const std::uint8_t> message) {
  constexpr std::size_t kBlock = 128;
  std::vector<std::uint8_t> k(key.begin(), key.end());
  k.resize(kBlock, 0);  // keys here are shorter than a block
  std::vector<std::uint8_t> inner(kBlock), outer(kBlock);
  for (std::size_t i = 0; i < kBlock; ++i) {
    inner[i] = k[i] ^ 0x36;
    outer[i] = k[i] ^ 0x5c;
  }
  inner.insert(inner.end(), message.begin(), message.end());
  auto inner_digest = *Digest(Hash::kSha384, inner);
  outer.insert(outer.end(), inner_digest.begin(), inner_digest.end());
  return *Digest(Hash::kSha384, outer);
}

TEST(KdfChainTest, MatchesTheDefinition) {
  std::vector<std::uint8_t> chain_key(48);
  for (std::size_t i = 0; i < chain_key.size(); ++i) chain_key[i] = static_cast<std::uint8_t>(i);
  auto step = KdfChainStep(chain_key);
  ASSERT_TRUE(step);
  const std::uint8_t one[] = {0x01};
  const std::uint8_t two[] = {0x02};
  EXPECT_EQ(HexEncode(step->message_key.Expose()), HexEncode(ReferenceHmacSha384(chain_key, one)));
  EXPECT_EQ(HexEncode(step->next_chain_key.Expose()),
            HexEncode(ReferenceHmacSha384(chain_key, two)));
}

TEST(KdfChainTest, ChainNeverRepeatsAKey) {
  SecretBytes chain_key(48);
  std::set<std::string> seen;
  for (int j = 0; j < 1000; ++j) {
    auto step = KdfChainStep(chain_key.Expose());
    ASSERT_TRUE(step);
    EXPECT_TRUE(seen.insert(HexEncode(step->message_key.Expose())).second);
    EXPECT_TRUE(seen.insert(HexEncode(step->next_chain_key.Expose())).second);
    chain_key = std::move(step->next_chain_key);
  }
}

TEST(KdfChainTest, RejectsWrongChainKeySize) {
  EXPECT_EQ(KdfChainStep(std::vector<std::uint8_t>(32, 0)).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace skap::crypto
