// docs/protocol.md's derivations against tests/vectors/pairwise_v2.json,
// which tests/vectors/pairwise_v2.py computes without any of this code.
#include "pairwise/agreement_params.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/ct.h"
#include "common/hex.h"
#include "crypto/shamir.h"
#include "pairwise/hub_shares.h"

namespace skap::pairwise {
namespace {

nlohmann::json Vectors() {
  std::ifstream in(std::string(SKAP_SOURCE_DIR) + "/tests/vectors/pairwise_v2.json");
  EXPECT_TRUE(in) << "tests/vectors/pairwise_v2.json is missing";
  return nlohmann::json::parse(in);
}

std::vector<std::uint8_t> Hex(const nlohmann::json& value) {
  return *HexDecode(value.get<std::string>());
}

AgreementParams ParamsOf(const nlohmann::json& c) {
  AgreementParams p;
  const auto sid = Hex(c["sid"]);
  std::copy(sid.begin(), sid.end(), p.sid.begin());
  p.initiator = c["initiator"];
  p.responder = c["responder"];
  p.hub_set = c["hub_set"].get<std::vector<std::string>>();
  p.threshold = c["threshold"];
  p.expires_at_ms = c["expires_at_ms"];
  p.session_epoch = c["session_epoch"];
  if (c.contains("initiator_x25519")) p.initiator_x25519 = Hex(c["initiator_x25519"]);
  return p;
}

TEST(AgreementParamsTest, DerivationsMatchTheCheckedInVectors) {
  const auto vectors = Vectors();
  ASSERT_GE(vectors["cases"].size(), 3u);
  for (const auto& c : vectors["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto params = ParamsOf(c);
    ASSERT_TRUE(params.Validate());
    EXPECT_EQ(HexEncode(PairInfo(params)), c["info"]);
    auto th = TranscriptHash(params);
    ASSERT_TRUE(th);
    EXPECT_EQ(HexEncode(*th), c["transcript_hash"]);
    auto key = DerivePairKey(params, Hex(c["initiator_secret"]), Hex(c["responder_secret"]));
    ASSERT_TRUE(key);
    EXPECT_EQ(HexEncode(key->Expose()), c["pair_key"]);
    std::vector<std::uint8_t> responder_public;
    if (params.hybrid()) {
      // Hybrid mode over RFC 7748 §6.1's key pairs and shared secret.
      responder_public = Hex(c["responder_x25519"]);
      auto hybrid = HybridPairKey(key->Expose(), Hex(c["x25519_shared"]), params.initiator_x25519,
                                  responder_public);
      ASSERT_TRUE(hybrid);
      EXPECT_EQ(HexEncode(hybrid->Expose()), c["hybrid_key"]);
      key = std::move(hybrid);
    }
    EXPECT_EQ(HexEncode(*ConfirmTag(key->Expose(), Role::kInitiator, *th, responder_public)),
              c["initiator_tag"]);
    EXPECT_EQ(HexEncode(*ConfirmTag(key->Expose(), Role::kResponder, *th, responder_public)),
              c["responder_tag"]);
  }
}

TEST(AgreementParamsTest, ShamirSharesFromAnIndependentFieldRebuild) {
  const auto shamir = Vectors()["shamir"];
  std::vector<crypto::Share> shares;
  for (const auto& [x, y] : shamir["shares"].items()) {
    crypto::Share s;
    s.threshold = shamir["threshold"];
    s.index = static_cast<std::uint8_t>(std::stoi(x));
    s.value = SecretBytes::Copy(Hex(y));
    shares.push_back(std::move(s));
  }
  ASSERT_EQ(shares.size(), 5u);
  auto all = crypto::CombineShares(shares);
  ASSERT_TRUE(all);
  EXPECT_EQ(HexEncode(all->Expose()), shamir["secret"]);
  std::vector<crypto::Share> three;
  for (int i : {4, 1, 2}) three.push_back(shares[static_cast<std::size_t>(i)].Clone());
  EXPECT_EQ(HexEncode(crypto::CombineShares(three)->Expose()), shamir["secret"]);
}

TEST(AgreementParamsTest, TheRefusalMacMatchesTheCheckedInVector) {
  const auto v = Vectors()["refusal"];
  const auto kind = static_cast<RefusalKind>(v["kind"].get<int>());
  auto mac = RefusalMac(Hex(v["peer_secret"]), Hex(v["refused_transcript"]), v["responder_epoch"],
                        kind, v["reason"].get<std::string>());
  ASSERT_TRUE(mac);
  EXPECT_EQ(HexEncode(*mac), v["mac"]);
  // Every field is bound: the epoch, the kind and the reason.
  EXPECT_NE(*RefusalMac(Hex(v["peer_secret"]), Hex(v["refused_transcript"]), 2, kind,
                        v["reason"].get<std::string>()),
            *mac);
  EXPECT_NE(*RefusalMac(Hex(v["peer_secret"]), Hex(v["refused_transcript"]), v["responder_epoch"],
                        RefusalKind::kConcurrent, v["reason"].get<std::string>()),
            *mac);
  EXPECT_NE(*RefusalMac(Hex(v["peer_secret"]), Hex(v["refused_transcript"]), v["responder_epoch"],
                        kind, "another reason"),
            *mac);
}

TEST(AgreementParamsTest, TheShareMacMatchesTheCheckedInVector) {
  const auto v = Vectors()["share_mac"];
  auto key = ShareMacKey(Hex(v["previous_peer_secret"]));
  ASSERT_TRUE(key);
  const Role sender = v["sender"] == "initiator" ? Role::kInitiator : Role::kResponder;
  auto mac =
      ShareMac(key->Expose(), sender, Hex(v["transcript_hash"]), v["index"], Hex(v["share"]));
  ASSERT_TRUE(mac);
  EXPECT_EQ(HexEncode(*mac), v["mac"]);
}

TEST(AgreementParamsTest, TheShareChecksMatchTheCheckedInVector) {
  const auto v = Vectors()["share_checks"];
  AgreementParams params;
  const auto sid = Hex(v["sid"]);
  ASSERT_EQ(sid.size(), params.sid.size());
  std::copy(sid.begin(), sid.end(), params.sid.begin());
  ASSERT_EQ(v["checks"].size(), 5u);
  for (const auto& [x, y] : v["shares"].items()) {
    auto check = ShareCheck(params, static_cast<unsigned>(std::stoi(x)), Hex(y));
    ASSERT_TRUE(check);
    EXPECT_EQ(HexEncode(*check), v["checks"][x]) << "hub " << x;
  }
}

TEST(AgreementParamsTest, ThePairKeyBindsTheEpochAndTheExpiry) {
  // Protocol version 2: the same contributions under a header that differs
  // only in its epoch or expiry give another K_AB, not only another th.
  const auto c = Vectors()["cases"][1];
  const auto params = ParamsOf(c);
  const auto s_a = Hex(c["initiator_secret"]);
  const auto s_b = Hex(c["responder_secret"]);
  const auto key = DerivePairKey(params, s_a, s_b);
  ASSERT_TRUE(key);
  auto other = params;
  other.session_epoch += 1;
  EXPECT_FALSE(ct::Equal(DerivePairKey(other, s_a, s_b)->Expose(), key->Expose()));
  other = params;
  other.expires_at_ms += 1;
  EXPECT_FALSE(ct::Equal(DerivePairKey(other, s_a, s_b)->Expose(), key->Expose()));
}

TEST(AgreementParamsTest, BadParametersAreRefused) {
  AgreementParams p;
  p.initiator = "a";
  p.responder = "b";
  p.hub_set = {"h1", "h2", "h3"};
  p.threshold = 2;
  EXPECT_TRUE(p.Validate());
  EXPECT_EQ(p.HubIndex("h2"), 2u);
  EXPECT_EQ(p.HubIndex("h9"), 0u);
  auto bad = p;
  bad.threshold = 4;
  EXPECT_FALSE(bad.Validate()) << "k > n";
  bad = p;
  bad.threshold = 0;
  EXPECT_FALSE(bad.Validate()) << "k = 0";
  bad = p;
  bad.hub_set = {"h2", "h1"};
  EXPECT_FALSE(bad.Validate()) << "unsorted hub set";
  bad = p;
  bad.hub_set = {"h1", "h1"};
  EXPECT_FALSE(bad.Validate()) << "repeated hub";
  bad = p;
  bad.hub_set.clear();
  for (int i = 0; i < 17; ++i) bad.hub_set.push_back("h" + std::to_string(100 + i));
  EXPECT_FALSE(bad.Validate()) << "n > 16";
  bad = p;
  bad.responder = "a";
  EXPECT_FALSE(bad.Validate()) << "agreeing with oneself";
  EXPECT_FALSE(DerivePairKey(p, std::vector<std::uint8_t>(31), std::vector<std::uint8_t>(32)));
}

}  // namespace
}  // namespace skap::pairwise
