#include "hub/registry/audit_log.h"

#include <gtest/gtest.h>

#include "common/byte_writer.h"
#include "crypto/hmac.h"
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

// Each tenant reads and verifies its own entries; the tenant is bound into
// each entry's MAC, so moving an entry into another tenant's view breaks
// the chain.
TEST_F(AuditLogTest, TenantsSeeAndVerifyTheirOwnEntriesOnly) {
  ASSERT_TRUE(log_->Append({"olga", "network.create", "n-1", "ok", "{}", "tenant-b"}));
  ASSERT_TRUE(log_->Append({"alice", "network.create", "n-2", "ok", "{}", "tenant-a"}));
  ASSERT_TRUE(log_->Append({"olga", "device.revoke", "d-9", "ok", "{}", "tenant-b"}));
  EXPECT_EQ(log_->List({.tenant = "tenant-b"})->size(), 2u);
  EXPECT_EQ(log_->List({.tenant = "tenant-a"})->size(), 1u);
  EXPECT_EQ(log_->List({})->size(), 8u) << "the hub sees all, its own five included";
  auto mine = log_->Verify("tenant-a");
  ASSERT_TRUE(mine);
  EXPECT_TRUE(mine->intact);
  EXPECT_EQ(mine->entries, 1);
  EXPECT_EQ(log_->Verify()->entries, 8);
  // Moving tenant b's entry into tenant a's view is detected. It now reads
  // as tenant a's, so tenant a is told where; tenant b only that the chain
  // broke at an entry not its own.
  ASSERT_TRUE(db_->Execute("UPDATE audit_log SET tenant_id = 'tenant-a' WHERE seq = 6"));
  auto for_a = log_->Verify("tenant-a");
  EXPECT_FALSE(for_a->intact);
  EXPECT_EQ(for_a->first_broken_seq, 6);
  auto for_b = log_->Verify("tenant-b");
  EXPECT_FALSE(for_b->intact);
  EXPECT_FALSE(for_b->first_broken_seq) << "another tenant's entry: no seq";
  EXPECT_EQ(log_->Verify()->first_broken_seq, 6);
  ASSERT_TRUE(db_->Execute("UPDATE audit_log SET tenant_id = 'tenant-b' WHERE seq = 6"));
  EXPECT_TRUE(log_->Verify()->intact);
  // Declaring an entry v1 (no tenant bound) is detected too.
  ASSERT_TRUE(db_->Execute("UPDATE audit_log SET mac_version = 1 WHERE seq = 7"));
  EXPECT_EQ(log_->Verify()->first_broken_seq, 7);
}

// An entry from before the tenant (mac_version 1): the documented v1 MAC,
// computed here independently, still verifies, and is the hub's alone.
TEST_F(AuditLogTest, EntriesFromBeforeTenantsStillVerify) {
  ASSERT_TRUE(db_->Execute("DELETE FROM audit_log"));
  ASSERT_TRUE(db_->Execute("DELETE FROM audit_head"));
  const std::vector<std::uint8_t> key(48, 0x11);
  std::vector<std::uint8_t> message;
  const std::string label = "skap audit v1";
  message.insert(message.end(), label.begin(), label.end());
  message.insert(message.end(), 48, 0);  // mac_0
  AppendU64(message, 1);                 // seq
  AppendU64(message, 1234);              // at_ms
  for (const std::string f : {"alice", "device.admit", "d-1", "ok", "{}"})
    AppendField32(message, f);
  auto mac = crypto::HmacTag(crypto::Hash::kSha384, key, message);
  ASSERT_TRUE(mac);
  ASSERT_TRUE(db_->Execute(
      "INSERT INTO audit_log (seq, at_ms, actor, action, target, outcome, detail, mac,"
      " mac_version) VALUES (1, 1234, 'alice', 'device.admit', 'd-1', 'ok', '{}', $1, 1)",
      {store::Blob(*mac)}));
  ASSERT_TRUE(
      db_->Execute("INSERT INTO audit_head (id, seq, mac) VALUES (1, 1, $1)", {store::Blob(*mac)}));
  ASSERT_TRUE(log_->Append({"alice", "device.revoke", "d-1", "ok", "{}", "tenant-a"}));
  auto v = log_->Verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->intact) << v->reason;
  EXPECT_EQ(v->entries, 2);
  EXPECT_EQ(log_->Verify("tenant-a")->entries, 1) << "the v1 entry is no tenant's";
  ASSERT_TRUE(db_->Execute("UPDATE audit_log SET tenant_id = 'tenant-a' WHERE seq = 1"));
  EXPECT_EQ(log_->Verify()->first_broken_seq, 1) << "a v1 entry given a tenant";
}

}  // namespace
}  // namespace skap::hub
