// The peer channel's tables in a real agent.db.
#include "agent/store/peer_store.h"

#include <gtest/gtest.h>

#include "unit/agent/store/agent_dir_fixture.h"

namespace skap::agent {
namespace {

class PeerStoreTest : public AgentDirTest {
 protected:
  void HoldEpoch(std::uint64_t epoch) {
    ASSERT_TRUE(store_->db().Execute(
        "INSERT INTO peer_secrets (peer, epoch, wrapped_secret) VALUES ('b', $1, x'00')",
        {static_cast<std::int64_t>(epoch)}));
  }
  static std::vector<std::uint8_t> Body(std::uint64_t id) {
    return {static_cast<std::uint8_t>(id)};
  }
};

TEST_F(PeerStoreTest, CountersNeverRepeatAcrossARestart) {
  std::uint64_t first = 0;
  {
    PeerStore s(store_->db());
    EXPECT_EQ(*s.ReserveCounters("b", 1, 256, &first), 257U);
    EXPECT_EQ(first, 1U);
    EXPECT_EQ(*s.ReserveCounters("b", 1, 256, &first), 513U);
    EXPECT_EQ(first, 257U);
  }
  PeerStore again(store_->db());
  EXPECT_EQ(*again.ReserveCounters("b", 1, 10, &first), 523U);
  EXPECT_EQ(first, 513U) << "a restart goes on past everything reserved";
  EXPECT_EQ(*again.ReserveCounters("b", 2, 10, &first), 11U);
  EXPECT_EQ(first, 1U) << "each epoch has its own counters (its own key)";
}

TEST_F(PeerStoreTest, MessageIdsAreNeverGivenTwiceEvenOnceAcknowledged) {
  HoldEpoch(1);
  PeerStore s(store_->db());
  EXPECT_EQ(*s.Enqueue("b", 1, Body, now_ms_ + 1000), 1U);
  std::uint64_t first = 0;
  ASSERT_TRUE(s.ReserveCounters("b", 1, 256, &first));  // shares the row
  EXPECT_EQ(*s.Enqueue("b", 1, Body, now_ms_ + 1000), 2U);
  ASSERT_TRUE(s.Remove({{"b", 1, 1}, {"b", 1, 2}}));
  EXPECT_EQ(*s.LowWater("b", 1), 3U) << "nothing waits: the next id";
  PeerStore again(store_->db());
  EXPECT_EQ(*again.Enqueue("b", 1, Body, now_ms_ + 1000), 3U);
  EXPECT_EQ(*again.ReserveCounters("b", 1, 1, &first), 258U) << "and the counters were kept";
}

TEST_F(PeerStoreTest, OutboxKeepsUntilAcknowledgedOrExpired) {
  HoldEpoch(1);
  PeerStore s(store_->db());
  ASSERT_TRUE(s.Enqueue("b", 1, Body, now_ms_ + 1000));   // id 1
  ASSERT_TRUE(s.Enqueue("b", 1, Body, now_ms_ + 5000));   // id 2
  ASSERT_TRUE(s.Enqueue("b", 1, Body, now_ms_ + 5000));   // id 3
  ASSERT_TRUE(s.Enqueue("b", 2, Body, now_ms_ + 50000));  // an epoch not held
  EXPECT_EQ(s.Outbox("b")->size(), 4U);
  // An ack's removal rides on the next message's commit.
  EXPECT_EQ(*s.Enqueue("b", 1, Body, now_ms_ + 5000, {{"b", 1, 2}}), 4U);
  EXPECT_EQ(s.Outbox("b")->size(), 4U) << "id 2 left, id 4 came";
  EXPECT_EQ(*s.LowWater("b", 1), 1U);
  ASSERT_TRUE(s.Remove({{"b", 1, 4}}));
  auto left = s.Outbox("b");
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 3U);  // epoch 1: ids 1 and 3; epoch 2: id 1
  EXPECT_EQ((*left)[1].message_id, 3U);
  EXPECT_EQ((*left)[1].body, std::vector<std::uint8_t>{3});
  EXPECT_EQ(*s.Expire(now_ms_ + 2000), 2) << "id 1 expired; epoch 2 is not held";
  EXPECT_EQ(s.Outbox("b")->size(), 1U);
  EXPECT_EQ(*s.LowWater("b", 1), 3U);
}

TEST_F(PeerStoreTest, DeliveryLogsAndIssuedRunsPersist) {
  HoldEpoch(3);
  PeerStore s(store_->db());
  DeliveryLog log;
  log.Accept(1);
  log.Accept(4);
  ASSERT_TRUE(store::InTransaction(store_->db(),
                                   [&] { return s.SaveLogInCurrentTransaction("b", 3, log); }));
  auto loaded = s.LoadLog("b", 3);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->through, 1U);
  EXPECT_TRUE(loaded->Seen(4));
  EXPECT_FALSE(loaded->Seen(2));
  EXPECT_EQ(s.LoadLog("b", 4)->through, 0U);

  ASSERT_TRUE(store::InTransaction(store_->db(), [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(
        s.RecordIssuedInCurrentTransaction("b", {3, 1, 10, 5, "sae-a1", "sae-b1"}));
    return s.RecordIssuedInCurrentTransaction("b", {3, 1, 15, 2, "sae-a2", "sae-b2"});
  }));
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
