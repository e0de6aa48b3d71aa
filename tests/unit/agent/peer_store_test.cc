// The peer channel's tables in a real agent.db.
#include "peer/peer_store.h"

#include <gtest/gtest.h>

#include "unit/agent/agent_store_fixture.h"

namespace skap::agent {
namespace {

class PeerStoreTest : public AgentStoreTest {
 protected:
  void HoldEpoch(std::uint64_t epoch) {
    ASSERT_TRUE(store_->db().Execute(
        "INSERT INTO peer_secrets (peer, epoch, wrapped_secret) VALUES ('b', $1, x'00')",
        {static_cast<std::int64_t>(epoch)}));
  }
};

TEST_F(PeerStoreTest, CountersNeverRepeatAcrossARestart) {
  std::uint64_t first = 0;
  {
    peer::PeerStore s(store_->db());
    EXPECT_EQ(*s.ReserveCounters("b", 1, 256, &first), 257U);
    EXPECT_EQ(first, 1U);
    EXPECT_EQ(*s.ReserveCounters("b", 1, 256, &first), 513U);
    EXPECT_EQ(first, 257U);
  }
  peer::PeerStore again(store_->db());
  EXPECT_EQ(*again.ReserveCounters("b", 1, 10, &first), 523U);
  EXPECT_EQ(first, 513U) << "a restart goes on past everything reserved";
  EXPECT_EQ(*again.ReserveCounters("b", 2, 10, &first), 11U);
  EXPECT_EQ(first, 1U) << "each epoch has its own counters (its own key)";
}

TEST_F(PeerStoreTest, OutboxKeepsUntilAcknowledgedOrExpired) {
  HoldEpoch(1);
  peer::PeerStore s(store_->db());
  ASSERT_TRUE(s.Enqueue({"b", 1, 5, {1, 2, 3}, now_ms_ + 1000}));
  ASSERT_TRUE(s.Enqueue({"b", 1, 6, {4}, now_ms_ + 5000}));
  ASSERT_TRUE(s.Enqueue({"b", 2, 1, {5}, now_ms_ + 5000}));  // an epoch not held
  EXPECT_FALSE(s.Enqueue({"b", 1, 5, {9}, now_ms_})) << "a counter is used once";
  EXPECT_EQ(*s.Pending("b"), 3);
  ASSERT_TRUE(s.Remove("b", 1, 5));
  auto left = s.Outbox("b");
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 2U);
  EXPECT_EQ((*left)[0].counter, 6U);
  EXPECT_EQ((*left)[0].body, std::vector<std::uint8_t>{4});
  EXPECT_EQ(*s.Expire(now_ms_ + 6000), 2);
  EXPECT_EQ(*s.Pending("b"), 0);
}

TEST_F(PeerStoreTest, WindowsAndIssuedRunsPersist) {
  HoldEpoch(3);
  peer::PeerStore s(store_->db());
  peer::ReplayWindow w;
  w.Mark(9);
  w.Mark(7);
  ASSERT_TRUE(s.SaveWindow("b", 3, w));
  auto loaded = s.LoadWindow("b", 3);
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->IsNew(7));
  EXPECT_TRUE(loaded->IsNew(8));
  EXPECT_EQ(s.LoadWindow("b", 4)->highest, 0U);

  ASSERT_TRUE(s.RecordIssued("b", {3, 1, 10, 5, "sae-a1", "sae-b1"}));
  ASSERT_TRUE(s.RecordIssued("b", {3, 1, 15, 2, "sae-a2", "sae-b2"}));
  EXPECT_FALSE(*s.FindIssued("b", 3, 1, 9));
  EXPECT_EQ((*s.FindIssued("b", 3, 1, 10))->slave_sae, "sae-b1");
  EXPECT_EQ((*s.FindIssued("b", 3, 1, 14))->slave_sae, "sae-b1");
  EXPECT_EQ((*s.FindIssued("b", 3, 1, 15))->master_sae, "sae-a2");
  EXPECT_FALSE(*s.FindIssued("b", 3, 1, 17));
  EXPECT_FALSE(*s.FindIssued("b", 3, 0, 12)) << "the other chain";
  EXPECT_FALSE(*s.FindIssued("c", 3, 1, 12)) << "another peer";
}

}  // namespace
}  // namespace skap::agent
