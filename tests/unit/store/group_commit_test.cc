#include "store/group_commit.h"

#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_database.h"
#include "unit/temp_dir.h"

namespace skap::store {
namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    db_ = Open();
    ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  }
  std::unique_ptr<SqliteDatabase> Open() {
    auto db = SqliteDatabase::Open(dir_.File("hub.db"), true);
    EXPECT_TRUE(db) << db.error().message;
    return db ? std::move(*db) : nullptr;
  }
  Result<void> Insert(std::int64_t id) {
    return InTransaction(*db_, [&]() -> Result<void> {
      SKAP_RETURN_IF_ERROR(db_->Execute("INSERT INTO t (id) VALUES ($1)", {id}));
      return Ok();
    });
  }
  // Stored reads what another connection sees: only what is committed.
  std::vector<std::int64_t> Stored() {
    auto other = Open();
    auto rows = other->Query("SELECT id FROM t ORDER BY id");
    std::vector<std::int64_t> ids;
    for (const auto& r : *rows) ids.push_back(AsInt(r[0]).value_or(-1));
    return ids;
  }
  testing::TempDir dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(GroupCommitTest, ANestedTransactionIsASavepointOfTheOuterOne) {
  ASSERT_TRUE(db_->Begin());
  ASSERT_TRUE(Insert(1));
  EXPECT_TRUE(db_->in_transaction()) << "the inner commit did not end the outer transaction";
  auto failed = InTransaction(*db_, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(db_->Execute("INSERT INTO t (id) VALUES (2)"));
    return Unexpected(ErrorCode::kInvalidArgument, "changed its mind");
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(Insert(1).error().code, ErrorCode::kFailedPrecondition)
      << "a failed inner transaction leaves the outer one usable";
  ASSERT_TRUE(Insert(3));
  EXPECT_TRUE(Stored().empty()) << "nothing is visible before the outer commit";
  ASSERT_TRUE(db_->Commit());
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(Stored(), (std::vector<std::int64_t>{1, 3}))
      << "the rolled-back savepoint's row is gone";
}

TEST_F(GroupCommitTest, DeferredWorkRunsAfterTheOutermostCommitOnly) {
  std::vector<std::string> ran;
  db_->AfterCommit([&] { ran.emplace_back("outside"); });
  EXPECT_EQ(ran, std::vector<std::string>{"outside"}) << "outside a transaction it runs at once";
  ran.clear();
  ASSERT_TRUE(db_->Begin());
  ASSERT_TRUE(InTransaction(*db_, [&]() -> Result<void> {
    db_->AfterCommit([&] { ran.emplace_back("kept"); },
                     [&] { ran.emplace_back("kept abandoned"); });
    return Ok();
  }));
  (void)InTransaction(*db_, [&]() -> Result<void> {
    db_->AfterCommit([&] { ran.emplace_back("dropped"); },
                     [&] { ran.emplace_back("dropped abandoned"); });
    return Unexpected(ErrorCode::kInvalidArgument, "no");
  });
  EXPECT_EQ(ran, std::vector<std::string>{"dropped abandoned"})
      << "a rolled-back savepoint abandons only its own";
  db_->AfterCommit([&] { ran.emplace_back("outer"); });
  ran.clear();
  ASSERT_TRUE(db_->Commit());
  EXPECT_EQ(ran, (std::vector<std::string>{"kept", "outer"})) << "in order, after the commit";

  ran.clear();
  ASSERT_TRUE(db_->Begin());
  db_->AfterCommit([&] { ran.emplace_back("committed"); }, [&] { ran.emplace_back("abandoned"); });
  ASSERT_TRUE(db_->Rollback());
  EXPECT_EQ(ran, std::vector<std::string>{"abandoned"});
}

TEST_F(GroupCommitTest, AnotherThreadCannotJoinATransactionItDoesNotOwn) {
  ASSERT_TRUE(db_->Begin());
  auto other = std::async(std::launch::async, [&] { return db_->Begin(); }).get();
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(db_->Rollback());
}

TEST_F(GroupCommitTest, ABatchCommitsItsHandlersOnceAndReleasesTheirAnswersAfter) {
  GroupCommit batch(*db_, "test");
  std::vector<std::string> released;
  auto opened = batch.Join();
  ASSERT_TRUE(opened && *opened);
  EXPECT_FALSE(*batch.Join()) << "a second handler joins the open batch";
  for (std::int64_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(Insert(id));
    db_->AfterCommit([&released, id] { released.push_back("answer " + std::to_string(id)); });
  }
  EXPECT_TRUE(Stored().empty());
  EXPECT_TRUE(released.empty()) << "no answer before the batch is durable";
  // Another thread waits for the connection until the batch closes.
  auto waiter = std::async(std::launch::async, [&] {
    const auto held = db_->Hold();
    return db_->in_transaction();
  });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  ASSERT_TRUE(batch.Close());
  EXPECT_FALSE(waiter.get()) << "the waiting thread finds the batch committed";
  EXPECT_EQ(Stored(), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(released, (std::vector<std::string>{"answer 1", "answer 2", "answer 3"}));
  EXPECT_EQ(batch.batches(), 1u);

  // A batch that only read counts as no batch.
  ASSERT_TRUE(batch.Join());
  ASSERT_TRUE(db_->Query("SELECT COUNT(*) FROM t"));
  ASSERT_TRUE(batch.Close());
  EXPECT_EQ(batch.batches(), 1u);
}

TEST_F(GroupCommitTest, ABatchThatCannotCommitAbandonsEveryAnswer) {
  GroupCommit batch(*db_, "test");
  ASSERT_TRUE(batch.Join());
  ASSERT_TRUE(Insert(1));
  bool released = false;
  bool abandoned = false;
  db_->AfterCommit([&] { released = true; }, [&] { abandoned = true; });
  // A deferred foreign-key violation fails the COMMIT itself.
  ASSERT_TRUE(db_->ExecuteScript("PRAGMA defer_foreign_keys = ON"));
  ASSERT_TRUE(db_->ExecuteScript(
      "CREATE TABLE child (parent BIGINT REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED);"
      "INSERT INTO child (parent) VALUES (99)"));
  auto closed = batch.Close();
  ASSERT_FALSE(closed);
  EXPECT_FALSE(released);
  EXPECT_TRUE(abandoned);
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_TRUE(Stored().empty()) << "nothing of the failed batch is stored";
}

}  // namespace
}  // namespace skap::store
