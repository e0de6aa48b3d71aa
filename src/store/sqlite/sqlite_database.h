// The embedded store: SQLite in WAL mode with full fsync.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/database.h"

struct sqlite3;
struct sqlite3_stmt;

namespace skap::store {

// SqliteDatabase is a Database on one SQLite file. It runs in WAL mode with
// synchronous=FULL (a committed transaction survives power loss), enforces
// foreign keys, overwrites deleted content (secure_delete), truncates the
// WAL after a checkpoint (journal_size_limit = 0, and ScrubLog), and keeps
// the file private to its owner (mode 0600). Prepared statements are cached.
class SqliteDatabase final : public Database {
 public:
  // Open opens (creating if `create`) the database at `path`.
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path, bool create);

  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  Result<std::int64_t> Execute(std::string_view sql,
                               std::initializer_list<Value> params = {}) override;
  Result<std::vector<Row>> Query(std::string_view sql,
                                 std::initializer_list<Value> params = {}) override;
  Result<void> ExecuteScript(std::string_view sql) override;
  Result<void> ScrubLog() override;
  std::int64_t changes() override;

 protected:
  Result<void> BeginTransaction() override;
  Result<void> CommitTransaction() override;
  Result<void> RollbackTransaction() override;

 private:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  // Run prepares (or reuses) `sql`, binds `params`, steps it to the end and
  // collects rows if `rows` is not null.
  Result<std::int64_t> Run(std::string_view sql, std::initializer_list<Value> params,
                           std::vector<Row>* rows);
  Result<sqlite3_stmt*> Prepare(std::string_view sql);
  Unexpected Failure(int code, std::string_view what);
  // ScrubLocked checkpoints the WAL into the database file and truncates
  // it to nothing (secure_delete has zeroed what was deleted there).
  Result<void> ScrubLocked();

  std::mutex mutex_;
  sqlite3* db_;
  bool unscrubbed_ = false;  // a write committed since the last scrub
  std::chrono::steady_clock::time_point scrubbed_at_{};
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace skap::store
