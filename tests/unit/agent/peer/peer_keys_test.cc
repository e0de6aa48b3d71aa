// The peer channel's keys and sealing (docs/peer.md) against
// tests/vectors/pairwise_v2.json, computed by tests/vectors/pairwise_v2.py
// independently of this code; then what Open must refuse.
#include "agent/peer/peer_keys.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "crypto/aes_gcm.h"
#include "pairwise/session_keys.h"

namespace skap::peer {
namespace {

nlohmann::json Epochs() {
  std::ifstream in(std::string(SKAP_SOURCE_DIR) + "/tests/vectors/pairwise_v2.json");
  EXPECT_TRUE(in) << "tests/vectors/pairwise_v2.json is missing";
  return nlohmann::json::parse(in)["session"];
}

std::vector<std::uint8_t> Hex(const nlohmann::json& value) {
  return *HexDecode(value.get<std::string>());
}

TEST(PeerKeys, MatchTheIndependentVectors) {
  for (const auto& e : Epochs()) {
    const auto& v = e["peer"];
    const auto epoch = e["epoch"].get<std::uint64_t>();
    auto secret = pairwise::DerivePeerSecret(Hex(e["root_key"]), epoch);
    ASSERT_TRUE(secret);
    EXPECT_EQ(HexEncode(secret->Expose()), v["secret"]);
    auto a = DeriveEpochKeys(secret->Expose(), epoch, v["a"], v["b"]);
    ASSERT_TRUE(a);
    EXPECT_EQ(HexEncode(a->seal_key.Expose()), v["seal_key"]);
    EXPECT_EQ(HexEncode(a->direct_psk.Expose()), v["direct_psk"]);
    EXPECT_EQ(a->inbox_self, v["inbox_a"]);
    EXPECT_EQ(a->inbox_peer, v["inbox_b"]);
    EXPECT_EQ(HexEncode(a->identity_self), v["identity_a"]);
    EXPECT_EQ(HexEncode(a->identity_peer), v["identity_b"]);

    // What a seals is nonce ‖ AES-256-GCM(SK_e, nonce, aad, message), with
    // the vector's nonce and associated data.
    const std::string text = "a ratchet notice";
    const std::span<const std::uint8_t> message = AsBytes(text);
    const auto counter = v["counter"].get<std::uint64_t>();
    auto sealed = Seal(*a, counter, message);
    ASSERT_TRUE(sealed);
    auto gcm = crypto::AesGcmKey::Create(Hex(v["seal_key"]));
    ASSERT_TRUE(gcm);
    std::vector<std::uint8_t> want = Hex(v["nonce_a"]);
    std::vector<std::uint8_t> body(message.size() + crypto::kGcmTagSize);
    ASSERT_TRUE(gcm->Seal(Hex(v["nonce_a"]), Hex(v["aad_a"]), message, body));
    want.insert(want.end(), body.begin(), body.end());
    EXPECT_EQ(HexEncode(*sealed), HexEncode(want));

    // b derives the same keys seen from its side, and opens it.
    auto b = DeriveEpochKeys(secret->Expose(), epoch, v["b"], v["a"]);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->inbox_self, v["inbox_b"]);
    auto opened = Open(*b, *sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->counter, counter);
    EXPECT_EQ(std::string(opened->plaintext.Expose().begin(), opened->plaintext.Expose().end()),
              text);
    // b's own messages carry its direction in the nonce.
    auto from_b = Seal(*b, counter, message);
    ASSERT_TRUE(from_b);
    EXPECT_EQ(HexEncode(std::span(*from_b).first(12)), v["nonce_b"]);
  }
}

class PeerSealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<std::uint8_t> secret(32, 0x5a);
    a_ = *DeriveEpochKeys(secret, 3, "device-a", "device-b");
    b_ = *DeriveEpochKeys(secret, 3, "device-b", "device-a");
    sealed_ = *Seal(a_, 41, AsBytes("confirmation tags"));
  }
  EpochKeys a_, b_;
  std::vector<std::uint8_t> sealed_;
};

TEST_F(PeerSealTest, RefusesEveryAlteredByte) {
  for (std::size_t i = 0; i < sealed_.size(); ++i) {
    auto altered = sealed_;
    altered[i] ^= 0x01;
    EXPECT_FALSE(Open(b_, altered)) << "byte " << i;
  }
  EXPECT_FALSE(Open(b_, std::span(sealed_).first(sealed_.size() - 1)));
  EXPECT_FALSE(Open(b_, std::span(sealed_).first(kSealedOverhead - 1)));
}

TEST_F(PeerSealTest, RefusesItsOwnMessagesReflectedBack) {
  auto opened = Open(a_, sealed_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kAuthenticationFailed);
}

TEST_F(PeerSealTest, RefusesAnotherEpochOrPairOrSender) {
  const std::vector<std::uint8_t> secret(32, 0x5a);
  EXPECT_FALSE(Open(*DeriveEpochKeys(secret, 4, "device-b", "device-a"), sealed_));
  EXPECT_FALSE(Open(*DeriveEpochKeys(secret, 3, "device-b", "device-c"), sealed_));
  const std::vector<std::uint8_t> other(32, 0x5b);
  EXPECT_FALSE(Open(*DeriveEpochKeys(other, 3, "device-b", "device-a"), sealed_));
}

TEST_F(PeerSealTest, PseudonymsDifferPerDeviceAndEpoch) {
  EXPECT_NE(a_.inbox_self, a_.inbox_peer);
  EXPECT_NE(a_.identity_self, a_.identity_peer);
  const std::vector<std::uint8_t> next(32, 0x77);
  EXPECT_NE(DeriveEpochKeys(next, 4, "device-a", "device-b")->inbox_self, a_.inbox_self);
  EXPECT_EQ(a_.inbox_self.find("device"), std::string::npos);
  EXPECT_FALSE(DeriveEpochKeys(next, 4, "device-a", "device-a"));
}

}  // namespace
}  // namespace skap::peer
