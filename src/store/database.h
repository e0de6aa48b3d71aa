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
#include <thread>
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
  // another thread's. The thread that holds it may hold it again (a group
  // commit holds it for a whole turn of an event loop, whose handlers hold
  // it around their own work).
  [[nodiscard]] std::unique_lock<std::recursive_mutex> Hold() { return std::unique_lock(hold_); }

  // Execute runs a statement that returns no rows and returns how many rows
  // it changed. Constraint violations are kFailedPrecondition.
  virtual Result<std::int64_t> Execute(std::string_view sql,
                                       std::initializer_list<Value> params = {}) = 0;

  // Query runs a statement and returns all its rows.
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         std::initializer_list<Value> params = {}) = 0;

  // ExecuteScript runs several statements without parameters (schema).
  virtual Result<void> ExecuteScript(std::string_view sql) = 0;

  // Begin, Commit and Rollback delimit a transaction. Commit of the
  // outermost transaction returns only once it is durable. A transaction
  // begun inside another (by the same thread) is a savepoint of it: its
  // Commit makes its changes part of the enclosing transaction, durable only
  // when that commits, and its Rollback undoes only its own changes. A
  // thread other than the one that began the outermost transaction is
  // refused (kFailedPrecondition): it should have held the connection.
  Result<void> Begin();
  Result<void> Commit();
  Result<void> Rollback();
  // in_transaction says whether a transaction is open on this connection.
  [[nodiscard]] bool in_transaction() const;

  // AfterCommit defers work that must wait for durability (an answer that
  // says "stored", a crash point after a commit) until the outermost
  // transaction open now has committed: `on_commit` runs then, in the order
  // of registration, on the committing thread. If the transaction, or the
  // savepoint open when this was called, is rolled back instead,
  // `on_abandon` runs (if given) and `on_commit` never. Outside a
  // transaction `on_commit` runs at once.
  void AfterCommit(std::function<void()> on_commit, std::function<void()> on_abandon = {});

  // changes counts the rows this connection's statements have changed since
  // it opened (committed or not): two readings tell whether work between
  // them wrote anything.
  [[nodiscard]] virtual std::int64_t changes() = 0;

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

 protected:
  // The engine's own top-level transaction. CommitTransaction returns once
  // the transaction is durable. Savepoints use portable SQL (SAVEPOINT,
  // RELEASE, ROLLBACK TO) through ExecuteScript.
  virtual Result<void> BeginTransaction() = 0;
  virtual Result<void> CommitTransaction() = 0;
  virtual Result<void> RollbackTransaction() = 0;

 private:
  struct Deferred {
    std::function<void()> on_commit;
    std::function<void()> on_abandon;
  };
  // Abandon runs and drops the deferred work registered since `mark`.
  void Abandon(std::size_t mark);

  std::recursive_mutex hold_;
  // Transaction state: read and changed by the thread that owns the
  // transaction, and read by others (to refuse them), so under its own lock.
  mutable std::mutex state_;
  std::thread::id owner_;
  // One mark per open level: how many deferred entries were registered
  // before that level began (the outermost level's mark is 0).
  std::vector<std::size_t> marks_;
  std::vector<Deferred> deferred_;
};

// InTransaction runs `body` inside a transaction: committed if it succeeds,
// rolled back if it fails (its error is returned). Inside another
// transaction it is a savepoint of that one (Begin).
Result<void> InTransaction(Database& db, const std::function<Result<void>()>& body);

}  // namespace skap::store
