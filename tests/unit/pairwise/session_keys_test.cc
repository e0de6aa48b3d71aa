// The session derivations (docs/protocol.md, "Session") against
// tests/vectors/pairwise_v2.json, computed by tests/vectors/pairwise_v2.py
// without any of this code.
#include "pairwise/session_keys.h"

#include <fstream>
#include <optional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/hex.h"

namespace skap::pairwise {
namespace {

nlohmann::json SessionVectors() {
  std::ifstream in(std::string(SKAP_SOURCE_DIR) + "/tests/vectors/pairwise_v2.json");
  EXPECT_TRUE(in) << "tests/vectors/pairwise_v2.json is missing";
  return nlohmann::json::parse(in)["session"];
}

std::vector<std::uint8_t> Hex(const nlohmann::json& value) {
  return *HexDecode(value.get<std::string>());
}

TEST(SessionKeysTest, RootChainKeysAndIdsMatchTheCheckedInVectors) {
  const auto epochs = SessionVectors();
  ASSERT_GE(epochs.size(), 2u);
  SecretBytes root;  // RK_0 is empty
  for (const auto& e : epochs) {
    const std::uint64_t epoch = e["epoch"];
    SCOPED_TRACE("epoch " + std::to_string(epoch));
    auto next = NextRootKey(root.Expose(), Hex(e["pair_key"]));
    ASSERT_TRUE(next);
    EXPECT_EQ(HexEncode(next->Expose()), e["root_key"]);
    root = std::move(*next);
    auto tag = DeriveKeyIdTag(root.Expose());
    ASSERT_TRUE(tag);
    EXPECT_EQ(HexEncode(*tag), e["key_id_tag"]);
    auto ppk = DerivePpk(root.Expose(), epoch);
    ASSERT_TRUE(ppk);
    EXPECT_EQ(HexEncode(ppk->Expose()), e["ppk"]);
    std::optional<SecretBytes> chain;
    int last_direction = -1;
    for (const auto& k : e["keys"]) {
      const int d = k["direction"];
      const auto direction = static_cast<ChainDirection>(d);
      if (d != last_direction) {  // each chain's keys are listed from index 0
        auto first = FirstChainKey(root.Expose(), epoch, direction);
        ASSERT_TRUE(first);
        chain = std::move(*first);
        last_direction = d;
      }
      auto step = ChainStep(chain->Expose());
      ASSERT_TRUE(step);
      EXPECT_EQ(HexEncode(step->consumer_key.Expose()), k["key"]);
      const std::uint32_t index = k["index"];
      const std::string id = FormatKeyId(*tag, {epoch, direction, index});
      EXPECT_EQ(id, k["key_id"]);
      auto parsed = ParseKeyId(id);
      ASSERT_TRUE(parsed);
      EXPECT_EQ(parsed->epoch, epoch);
      EXPECT_EQ(parsed->direction, direction);
      EXPECT_EQ(parsed->index, index);
      EXPECT_TRUE(KeyIdMatches(id, *tag));
      *chain = std::move(step->next_chain_key);
    }
    EXPECT_EQ(last_direction, 1) << "the vectors cover both chains";
  }
}

TEST(SessionKeysTest, KeyIdsOfAnotherSessionOrFormAreRefused) {
  const KeyIdTag tag = {1, 2, 3, 4, 5, 6, 7, 8};
  const KeyIdTag other = {1, 2, 3, 4, 5, 6, 7, 9};
  const std::string id =
      FormatKeyId(tag, {kMaxSessionEpoch, ChainDirection::kHigherIssues, kMaxChainIndex});
  auto parsed = ParseKeyId(id);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->epoch, kMaxSessionEpoch);
  EXPECT_EQ(parsed->direction, ChainDirection::kHigherIssues);
  EXPECT_EQ(parsed->index, kMaxChainIndex);
  EXPECT_FALSE(KeyIdMatches(id, other));
  // A random (version 4) UUID is not a key id.
  EXPECT_FALSE(ParseKeyId("919108f7-52d1-4320-9bac-f847db4148a8"));
  EXPECT_FALSE(ParseKeyId("not-a-key-id"));
}

TEST(SessionKeysTest, BadInputIsRefused) {
  const std::vector<std::uint8_t> short_root(32, 1);
  EXPECT_FALSE(NextRootKey(short_root, short_root));
  const std::vector<std::uint8_t> root(48, 1);
  EXPECT_FALSE(FirstChainKey(root, 0, ChainDirection::kLowerIssues));
  EXPECT_FALSE(FirstChainKey(root, kMaxSessionEpoch + 1, ChainDirection::kLowerIssues));
  EXPECT_FALSE(ChainStep(short_root));
}

TEST(SessionKeysTest, TheTwoEndpointsIssueFromDifferentChains) {
  const std::string low = "11111111-0000-4000-8000-000000000000";
  const std::string high = "22222222-0000-4000-8000-000000000000";
  EXPECT_EQ(IssuingDirection(low, high), ChainDirection::kLowerIssues);
  EXPECT_EQ(IssuingDirection(high, low), ChainDirection::kHigherIssues);
  const std::vector<std::uint8_t> root(48, 7);
  auto lower = FirstChainKey(root, 1, ChainDirection::kLowerIssues);
  auto higher = FirstChainKey(root, 1, ChainDirection::kHigherIssues);
  ASSERT_TRUE(lower && higher);
  EXPECT_NE(HexEncode(lower->Expose()), HexEncode(higher->Expose()));
}

}  // namespace
}  // namespace skap::pairwise
