#include "hub/registry/audit_log.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "common/byte_writer.h"
#include "crypto/ctr_drbg.h"
#include "crypto/hmac.h"
#include "hub/registry/audit_checkpoint.h"
#include "keystore/file_keystore.h"
#include "unit/hub/test_hub_db.h"

namespace skap::hub {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_ = std::move(*crypto::CtrDrbg::Create({}));
    kek_ = std::move(*keystore::FileKeystore::Create(dir_.File("kek"), *rng_));
    db_ = OpenTestHubDb(dir_, *kek_);
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
  std::unique_ptr<crypto::CtrDrbg> rng_;
  std::unique_ptr<keystore::FileKeystore> kek_;
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

// CutAfter does what a database writer can: delete every entry after
// `keep` and rewind the head to entry `keep`, so the chain alone still checks.
void CutAfter(store::Database& db, std::int64_t keep) {
  ASSERT_TRUE(db.Execute("DELETE FROM audit_log WHERE seq > $1", {keep}));
  ASSERT_TRUE(db.Execute(
      "UPDATE audit_head SET seq = $1, mac = (SELECT mac FROM audit_log WHERE seq = $1)", {keep}));
}

TEST_F(AuditLogTest, ACutWithTheHeadRewoundIsCaughtOnlyByACheckpoint) {
  auto checkpoint = log_->Checkpoint("hub-1", 1);
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->seq, 5);
  ASSERT_TRUE(log_->Holds(*checkpoint));
  CutAfter(*db_, 3);
  EXPECT_TRUE(log_->Verify()->intact) << "the chain alone cannot tell (the limit it documents)";
  auto v = log_->Verify(std::nullopt, &*checkpoint);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_broken_seq, 4);
  EXPECT_NE(v->reason.find("recorded 5 entries"), std::string::npos) << v->reason;
  auto for_tenant = log_->Verify("tenant-a", &*checkpoint);
  EXPECT_FALSE(for_tenant->intact);
  EXPECT_FALSE(for_tenant->first_broken_seq) << "a tenant is not told the hub's count";
  auto holds = log_->Holds(*checkpoint);
  ASSERT_FALSE(holds);
  EXPECT_EQ(holds.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(AuditLogTest, ACutThenRegrownLogDoesNotHoldTheCheckpoint) {
  auto checkpoint = log_->Checkpoint("hub-1", 7);
  ASSERT_TRUE(checkpoint);
  CutAfter(*db_, 3);
  // The hub appends again (the cutter has no key): the chain is as long as
  // before and intact, but entry 5 is not the one the checkpoint recorded.
  ASSERT_TRUE(log_->Append({"alice", "device.revoke", "device-2"}));
  ASSERT_TRUE(log_->Append({"alice", "device.revoke", "device-3"}));
  EXPECT_TRUE(log_->Verify()->intact);
  auto v = log_->Verify(std::nullopt, &*checkpoint);
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_broken_seq, 5);
  EXPECT_NE(v->reason.find("checkpoint 7"), std::string::npos) << v->reason;
  EXPECT_FALSE(log_->Holds(*checkpoint));
  // A checkpoint of the log as it is now holds, and keeps holding as it grows.
  auto now = log_->Checkpoint("hub-1", 8);
  ASSERT_TRUE(log_->Append({"alice", "device.revoke", "device-4"}));
  EXPECT_TRUE(log_->Holds(*now));
  EXPECT_TRUE(log_->Verify(std::nullopt, &*now)->intact);
}

TEST_F(AuditLogTest, AForgedOrForeignCheckpointIsRefused) {
  auto checkpoint = log_->Checkpoint("hub-1", 1);
  ASSERT_TRUE(checkpoint);
  auto moved = *checkpoint;
  moved.seq = 3;  // to cover a cut to 3
  moved.head_mac = store::AsBlob((*db_->Query("SELECT mac FROM audit_log WHERE seq = 3"))[0][0])
                       .value_or(store::Blob{});
  auto v = log_->Verify(std::nullopt, &moved);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(log_->Holds(moved));
  AuditLog other_hub(*db_, SecretBytes::Copy(std::vector<std::uint8_t>(48, 0x22)), SystemClock());
  auto foreign = other_hub.Checkpoint("hub-1", 1);
  EXPECT_FALSE(log_->Verify(std::nullopt, &*foreign));
}

TEST_F(AuditLogTest, TheCheckpointFileFollowsTheChainAndStopsACutHub) {
  const std::string path = dir_.path() + "/audit.checkpoint";
  {
    AuditCheckpointFile file(*log_, "hub-1", path);
    ASSERT_TRUE(file.Open()) << "no file yet: a new count";
    auto first = file.Refresh();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->counter, 1);
    EXPECT_EQ(first->seq, 5);
    EXPECT_EQ(file.Refresh()->counter, 1) << "not rewritten while the chain stands still";
    ASSERT_TRUE(log_->Append({"alice", "device.revoke", "device-2"}));
    EXPECT_EQ(file.Refresh()->counter, 2);
  }
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = CheckpointFromJson(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->seq, 6);
  EXPECT_EQ(CheckpointToJson(*parsed), text) << "the file round-trips";
  {
    AuditCheckpointFile reopened(*log_, "hub-1", path);
    ASSERT_TRUE(reopened.Open());
    ASSERT_TRUE(log_->Append({"alice", "device.revoke", "device-3"}));
    EXPECT_EQ(reopened.Refresh()->counter, 3) << "the count goes on across restarts";
  }
  AuditCheckpointFile wrong_hub(*log_, "hub-2", path);
  EXPECT_EQ(wrong_hub.Open().error().code, ErrorCode::kFailedPrecondition);
  CutAfter(*db_, 5);
  AuditCheckpointFile after_cut(*log_, "hub-1", path);
  auto opened = after_cut.Open();
  ASSERT_FALSE(opened) << "a hub whose log was cut does not start";
  EXPECT_NE(opened.error().message.find("cut off the end"), std::string::npos);
}

TEST(AuditCheckpointJson, MalformedFilesAreRefusedByName) {
  for (const std::string text :
       {"", "[]", R"({"format":"skap audit checkpoint v0"})",
        R"({"format":"skap audit checkpoint v1","hub_id":"h","counter":1,"seq":-1,"at_ms":1})",
        R"({"format":"skap audit checkpoint v1","hub_id":"h","counter":1,"seq":1,"at_ms":1,)"
        R"("head_mac":"zz","mac":"00"})"}) {
    auto parsed = CheckpointFromJson(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kMalformedInput);
  }
}

}  // namespace
}  // namespace skap::hub
