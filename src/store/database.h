// The storage interface every hub component talks to. SQLite implements it
// now; PostgreSQL will, with the same SQL: statements use only portable SQL
// and $1, $2, ... placeholders (which both engines accept).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/value.h"

namespace skap::store {

// Database is one connection. Calls are serialised by the implementation, so
// an object may be shared between threads; transactions belong to the
// connection, so a thread that runs one holds the connection meanwhile
// (Hold).
class Database {
 public:
  Database() = default;
  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Hold gives the calling thread the connection until the lock it returns
  // is released: every thread sharing one connection (the hub's admin API
  // and its device channel share the hub's) holds it around each piece of
  // work whose transaction, or whose reads, must not interleave with
  // another thread's.
  [[nodiscard]] std::unique_lock<std::mutex> Hold() { return std::unique_lock(hold_); }

  // Execute runs a statement that returns no rows and returns how many rows
  // it changed. Constraint violations are kFailedPrecondition.
  virtual Result<std::int64_t> Execute(std::string_view sql,
                                       std::initializer_list<Value> params = {}) = 0;

  // Query runs a statement and returns all its rows.
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         std::initializer_list<Value> params = {}) = 0;

  // ExecuteScript runs several statements without parameters (schema).
  virtual Result<void> ExecuteScript(std::string_view sql) = 0;

  // Begin, Commit and Rollback delimit a transaction. Commit returns only
  // once the transaction is durable.
  virtual Result<void> Begin() = 0;
  virtual Result<void> Commit() = 0;
  virtual Result<void> Rollback() = 0;

  // ScrubLog makes sure nothing a committed transaction overwrote or
  // deleted (a share delivered, a chain key ratcheted past, a key handed
  // out) survives in the engine's log: with SQLite, old page images stay in
  // the WAL file until a checkpoint rewrites it. The implementation scrubs
  // by itself after a commit at most once per kScrubInterval (a scrub costs
  // about two commits); daemons call ScrubLog on a timer of that period so
  // a store that goes quiet is scrubbed too. Only outside a transaction;
  // a no-op if nothing was committed since the last scrub.
  static constexpr std::chrono::milliseconds kScrubInterval{1000};
  virtual Result<void> ScrubLog() = 0;

 private:
  std::mutex hold_;
};

// InTransaction runs `body` inside a transaction: committed if it succeeds,
// rolled back if it fails (its error is returned).
Result<void> InTransaction(Database& db, const std::function<Result<void>()>& body);

}  // namespace skap::store
