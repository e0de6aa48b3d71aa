#include "hub/registry/audit_log.h"

#include <gtest/gtest.h>

#include "unit/hub/test_hub_db.h"

namespace skap::hub {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestHubDb(dir_);
    ASSERT_TRUE(db_);
    log_ = std::make_unique<AuditLog>(*db_, SecretBytes::Copy(std::vector<std::uint8_t>(48, 0x11)),
                                      SystemClock());
    for (int i = 1; i <= 5; ++i) {
      AuditRecord r{"alice", "device.provision", "device-" + std::to_string(i), "ok",
                    R"({"network":"plant-1"})"};
      if (i == 4)
        r = AuditRecord{"bob", "device.admit", "device-1", "refused:separation-of-duties"};
      ASSERT_EQ(*log_->Append(r), i);
    }
  }
  testing::TempDir dir_;
  std::unique_ptr<store::SqliteDatabase> db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, IntactChainVerifies) {
  auto v = log_->Verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->intact) << v->reason;
  EXPECT_EQ(v->entries, 5);
}

TEST_F(AuditLogTest, AlteredEntryIsNamed) {
  ASSERT_TRUE(db_->Execute("UPDATE audit_log SET outcome = 'ok' WHERE seq = 4"));
  auto v = log_->Verify();
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_broken_seq, 4);
}

TEST_F(AuditLogTest, RecomputedMacWithoutTheKeyDoesNotHelp) {
  // Someone with database access but not the key rewrites entry 2 and its
  // mac with a guessed key: the chain breaks at 2.
  AuditLog forger(*db_, SecretBytes::Copy(std::vector<std::uint8_t>(48, 0x22)), SystemClock());
  ASSERT_TRUE(db_->Execute("DELETE FROM audit_log"));
  ASSERT_TRUE(db_->Execute("DELETE FROM audit_head"));
  ASSERT_TRUE(forger.Append({"mallory", "device.admit", "device-9"}));
  auto v = log_->Verify();
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_broken_seq, 1);
}

TEST_F(AuditLogTest, DeletedEntryIsNamed) {
  ASSERT_TRUE(db_->Execute("DELETE FROM audit_log WHERE seq = 2"));
  auto v = log_->Verify();
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_broken_seq, 2);
  EXPECT_NE(v->reason.find("missing"), std::string::npos);
}

TEST_F(AuditLogTest, EntriesCutOffTheEndAreDetected) {
  ASSERT_TRUE(db_->Execute("DELETE FROM audit_log WHERE seq = 5"));
  auto v = log_->Verify();
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_broken_seq, 5);
}

TEST_F(AuditLogTest, AnEntryRollsBackWithItsAction) {
  auto failed = store::InTransaction(*db_, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(
        log_->AppendInCurrentTransaction({"alice", "device.revoke", "device-2"}, 1));
    return Unexpected(ErrorCode::kIoError, "the action failed");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(log_->Verify()->entries, 5);
  EXPECT_TRUE(log_->Verify()->intact);
}

TEST_F(AuditLogTest, ListFilters) {
  auto all = log_->List({});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 5u);
  auto bob = log_->List({.actor = "bob"});
  ASSERT_TRUE(bob && bob->size() == 1);
  EXPECT_EQ((*bob)[0].record.outcome, "refused:separation-of-duties");
  auto device1 = log_->List({.target = "device-1"});
  EXPECT_EQ(device1->size(), 2u);
  auto none = log_->List({.since_ms = (*all)[4].at_ms + 1});
  EXPECT_TRUE(none->empty());
  auto limited = log_->List({.limit = 2});
  EXPECT_EQ(limited->size(), 2u);
}

}  // namespace
}  // namespace skap::hub
