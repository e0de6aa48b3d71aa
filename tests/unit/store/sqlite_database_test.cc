#include "store/sqlite/sqlite_database.h"

#include <sys/stat.h>

#include <array>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "unit/temp_dir.h"

namespace skap::store {
namespace {

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto db = SqliteDatabase::Open(path(), true);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    ASSERT_TRUE(db_->ExecuteScript(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BLOB)"));
  }
  std::string path() const { return dir_.File("hub.db"); }
  testing::TempDir dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(SqliteDatabaseTest, RoundTripsEveryValueType) {
  const Blob blob = {0, 1, 2, 255};
  ASSERT_TRUE(db_->Execute("INSERT INTO t (id, name, data) VALUES ($1, $2, $3)",
                           {std::int64_t{7}, std::string("seven"), blob}));
  ASSERT_TRUE(db_->Execute("INSERT INTO t (id, name, data) VALUES ($1, $2, $3)",
                           {std::int64_t{8}, std::string("eight"), Null{}}));
  ASSERT_TRUE(db_->Execute("INSERT INTO t (id, name, data) VALUES ($1, $2, $3)",
                           {std::int64_t{9}, std::string("nine"), Blob{}}));
  auto rows = db_->Query("SELECT id, name, data FROM t ORDER BY id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(AsInt((*rows)[0][0]), 7);
  EXPECT_EQ(AsText((*rows)[0][1]), "seven");
  EXPECT_EQ(AsBlob((*rows)[0][2]), blob);
  EXPECT_TRUE(std::holds_alternative<Null>((*rows)[1][2]));
  EXPECT_EQ(AsBlob((*rows)[2][2]), Blob{}) << "an empty blob stays a blob";
}

TEST_F(SqliteDatabaseTest, ParametersAreBoundByNumberNotPosition) {
  ASSERT_TRUE(db_->Execute("INSERT INTO t (name, id) VALUES ($2, $1)",
                           {std::int64_t{1}, std::string("one")}));
  auto rows = db_->Query("SELECT name FROM t WHERE id = $1", {std::int64_t{1}});
  ASSERT_TRUE(rows && rows->size() == 1);
  EXPECT_EQ(AsText((*rows)[0][0]), "one");
}

TEST_F(SqliteDatabaseTest, BadStatementsAndParametersAreClearErrors) {
  EXPECT_EQ(
      db_->Execute("INSERT INTO t (id, name) VALUES ($1, $2)", {std::int64_t{1}}).error().code,
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(db_->Query("SELECT nope FROM t").error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(db_->Execute("INSERT INTO t (id, name) VALUES ($1, $2)",
                           {std::int64_t{1}, std::string("x")}));
  auto duplicate =
      db_->Execute("INSERT INTO t (id, name) VALUES ($1, $2)", {std::int64_t{2}, std::string("x")});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(SqliteDatabaseTest, ExecuteCountsChangedRows) {
  for (std::int64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(db_->Execute("INSERT INTO t (id, name) VALUES ($1, $2)", {i, std::to_string(i)}));
  }
  auto changed = db_->Execute("DELETE FROM t WHERE id >= $1", {std::int64_t{3}});
  ASSERT_TRUE(changed);
  EXPECT_EQ(*changed, 2);
}

TEST_F(SqliteDatabaseTest, FailedTransactionsLeaveNoTrace) {
  auto result = InTransaction(*db_, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(db_->Execute("INSERT INTO t (id, name) VALUES ($1, $2)",
                                      {std::int64_t{1}, std::string("a")}));
    return Unexpected(ErrorCode::kFailedPrecondition, "changed my mind");
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "changed my mind");
  EXPECT_TRUE(db_->Query("SELECT id FROM t")->empty());
}

TEST_F(SqliteDatabaseTest, CommittedDataSurvivesReopeningAndFileIsPrivate) {
  ASSERT_TRUE(InTransaction(*db_, [&]() -> Result<void> {
    return db_->Execute("INSERT INTO t (id, name) VALUES ($1, $2)",
                        {std::int64_t{1}, std::string("kept")})
               ? Ok()
               : Unexpected(ErrorCode::kIoError, "insert");
  }));
  db_.reset();
  struct stat st {};
  ASSERT_EQ(stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto reopened = SqliteDatabase::Open(path(), false);
  ASSERT_TRUE(reopened);
  auto rows = (*reopened)->Query("SELECT name FROM t");
  ASSERT_TRUE(rows && rows->size() == 1);
  EXPECT_EQ(AsText((*rows)[0][0]), "kept");
  auto mode = (*reopened)->Query("PRAGMA journal_mode");
  EXPECT_EQ(AsText((*mode)[0][0]), "wal");
}

// Contains is true if the file at `path` holds `needle` anywhere.
bool Contains(const std::string& path, const Blob& needle) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.find(std::string(needle.begin(), needle.end())) != std::string::npos;
}

TEST_F(SqliteDatabaseTest, WhatWasOverwrittenOrDeletedLeavesEveryFileOnceScrubbed) {
  const Blob overwritten(48, 0xa7), deleted(48, 0x5c), kept(48, 0x3e);
  const auto write = [&](std::string_view sql, std::initializer_list<Value> params) {
    ASSERT_TRUE(InTransaction(*db_, [&]() -> Result<void> {
      SKAP_RETURN_IF_ERROR(db_->Execute(sql, params));
      return Ok();
    }));
  };
  write("INSERT INTO t (id, name, data) VALUES (1, 'a', $1), (2, 'b', $2)", {overwritten, deleted});
  // Within one scrub interval of the last scrub, the old pages may still be
  // in the WAL or, not yet checkpointed over, in the database file.
  write("UPDATE t SET data = $1 WHERE id = 1", {kept});
  write("DELETE FROM t WHERE id = 2", {});
  ASSERT_TRUE(db_->ScrubLog());
  for (const auto& file : {path(), path() + "-wal"}) {
    EXPECT_FALSE(Contains(file, overwritten)) << file << " holds an overwritten value";
    EXPECT_FALSE(Contains(file, deleted)) << file << " holds a deleted value";
  }
  EXPECT_TRUE(Contains(path(), kept)) << "the checkpoint wrote the current value";
  struct stat st {};
  EXPECT_TRUE(stat((path() + "-wal").c_str(), &st) != 0 || st.st_size == 0)
      << "the WAL is truncated";
  EXPECT_EQ(AsBlob((*db_->Query("SELECT data FROM t WHERE id = 1"))[0][0]), kept);
  // Not inside a transaction: it would not complete.
  ASSERT_TRUE(db_->Begin());
  ASSERT_TRUE(db_->Execute("UPDATE t SET data = $1 WHERE id = 1", {overwritten}));
  EXPECT_FALSE(db_->ScrubLog());
  ASSERT_TRUE(db_->Rollback());
}

TEST_F(SqliteDatabaseTest, AScrubThatAnotherConnectionHoldsUpIsTriedAgainLater) {
  // A write outside a transaction commits by itself and leaves a scrub due.
  ASSERT_TRUE(db_->Execute("INSERT INTO t (id, name) VALUES (7, 'x')"));
  auto other = SqliteDatabase::Open(path(), false);
  ASSERT_TRUE(other);
  ASSERT_TRUE((*other)->Begin());  // a one-off command holding the write lock
  // The scrub gives way at once rather than wait for it (busy_timeout 0).
  auto held_up = db_->ScrubLog();
  ASSERT_FALSE(held_up);
  EXPECT_EQ(held_up.error().code, ErrorCode::kUnavailable);
  ASSERT_TRUE((*other)->Rollback());
  ASSERT_TRUE(db_->ScrubLog()) << "once the lock is gone, the next try scrubs";
  struct stat st {};
  EXPECT_TRUE(stat((path() + "-wal").c_str(), &st) != 0 || st.st_size == 0);
}

TEST(SqliteOpenTest, MissingDatabaseIsNotCreatedUnlessAsked) {
  testing::TempDir dir;
  EXPECT_EQ(SqliteDatabase::Open(dir.File("absent.db"), false).error().code, ErrorCode::kIoError);
}

const std::array kTwoSteps = {
    Migration{1, "create a", "CREATE TABLE a (x BIGINT);", nullptr},
    Migration{2, "create b", "CREATE TABLE b (y BIGINT); INSERT INTO b (y) VALUES (42);", nullptr},
};

TEST(MigrationsTest, AppliesInOrderOnceAndRefusesNewerSchemas) {
  testing::TempDir dir;
  auto db = SqliteDatabase::Open(dir.File("m.db"), true);
  ASSERT_TRUE(db);
  EXPECT_EQ(*SchemaVersion(**db), 0);
  ASSERT_TRUE(Migrate(**db, std::span(kTwoSteps).first(1), SystemClock()));
  EXPECT_EQ(*SchemaVersion(**db), 1);
  ASSERT_TRUE(Migrate(**db, kTwoSteps, SystemClock()));
  ASSERT_TRUE(Migrate(**db, kTwoSteps, SystemClock())) << "a second run is a no-op";
  EXPECT_EQ(*SchemaVersion(**db), 2);
  EXPECT_EQ((*db)->Query("SELECT y FROM b")->size(), 1u);
  auto older_program = Migrate(**db, std::span(kTwoSteps).first(1), SystemClock());
  ASSERT_FALSE(older_program);
  EXPECT_EQ(older_program.error().code, ErrorCode::kFailedPrecondition);
}

TEST(MigrationsTest, AFailingStepIsRolledBackWhole) {
  testing::TempDir dir;
  auto db = SqliteDatabase::Open(dir.File("m.db"), true);
  ASSERT_TRUE(db);
  const std::array kBroken = {
      Migration{1, "good", "CREATE TABLE a (x BIGINT);", nullptr},
      Migration{2, "half", "CREATE TABLE c (z BIGINT); CREATE TABLE a (x BIGINT);", nullptr},
  };
  auto result = Migrate(**db, kBroken, SystemClock());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("migration 2 (half)"), std::string::npos);
  EXPECT_EQ(*SchemaVersion(**db), 1);
  EXPECT_FALSE((*db)->Query("SELECT z FROM c")) << "table c must have been rolled back";
}

TEST(MigrationsTest, AConversionRunsInItsStepsTransaction) {
  testing::TempDir dir;
  auto db = SqliteDatabase::Open(dir.File("m.db"), true);
  ASSERT_TRUE(db);
  const auto text_to_number = [](Database& d) -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto rows, d.Query("SELECT t FROM a"));
    for (const auto& row : rows) {
      const auto text = AsText(row[0]).value_or("");
      SKAP_RETURN_IF_ERROR(d.Execute("UPDATE a SET n = $1 WHERE t = $2",
                                     {static_cast<std::int64_t>(text.size()), text}));
    }
    return Ok();
  };
  const std::array kSteps = {
      Migration{1, "text", "CREATE TABLE a (t TEXT); INSERT INTO a (t) VALUES ('four');", nullptr},
      Migration{2, "number", "ALTER TABLE a ADD COLUMN n BIGINT;", text_to_number},
  };
  ASSERT_TRUE(Migrate(**db, kSteps, SystemClock()));
  EXPECT_EQ(AsInt((*(*db)->Query("SELECT n FROM a"))[0][0]), 4);

  // A conversion that fails takes its step's SQL with it.
  auto failing = SqliteDatabase::Open(dir.File("f.db"), true);
  ASSERT_TRUE(failing);
  const std::array kFailing = {
      kSteps[0],
      Migration{2, "number", "ALTER TABLE a ADD COLUMN n BIGINT;",
                [](Database&) -> Result<void> {
                  return Unexpected(ErrorCode::kMalformedInput, "a row that does not convert");
                }},
  };
  auto result = Migrate(**failing, kFailing, SystemClock());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("migration 2 (number): a row that does not convert"),
            std::string::npos);
  EXPECT_EQ(*SchemaVersion(**failing), 1);
  EXPECT_FALSE((*failing)->Query("SELECT n FROM a")) << "the column must have been rolled back";
}

}  // namespace
}  // namespace skap::store
