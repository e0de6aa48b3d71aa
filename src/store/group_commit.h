// Group commit: the work of one turn of an event loop in one durable
// transaction, and what it answers released only once that is durable.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "common/result.h"
#include "store/database.h"

namespace skap::store {

// GroupCommit batches the transactions of a single-threaded event loop: the
// first handler of a turn joins (Join opens the batch: it holds the
// connection and begins a transaction), the handlers' own transactions
// become savepoints of it, and the loop closes the batch once the turn's
// ready handlers have run (Close commits: one fsync for all of them).
// Whatever a handler must not say before its work is durable (a reply, a
// push, a crash point after a commit) waits in Database::AfterCommit and is
// released by Close, or abandoned if the batch fails to commit.
//
// A process killed between a handler's work and Close loses the whole
// batch, and nothing of it was answered: every sender still holds what it
// sent and sends it again.
//
// Crash points (test builds): NAME.batch.before-commit and
// NAME.batch.after-commit, on batches that changed rows only (a turn that
// only read, a handshake say, is not a step of any protocol).
class GroupCommit {
 public:
  GroupCommit(Database& db, const std::string& name);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Join opens a batch on the calling thread if none is open and returns
  // true if it did: the caller then arranges for Close at the end of the
  // turn. An error (the store busy or failing) leaves no batch open: the
  // handlers' transactions then commit one by one, as without batching.
  Result<bool> Join();
  [[nodiscard]] bool open() const { return held_.owns_lock(); }
  // Close commits the open batch (a no-op if none), then releases the
  // connection. After a failed commit the batch is rolled back and its
  // deferred answers abandoned; the error is returned.
  Result<void> Close();

  // batches counts the batches that changed rows and committed.
  [[nodiscard]] std::uint64_t batches() const { return batches_; }

 private:
  Database& db_;
  std::string before_commit_;
  std::string after_commit_;
  std::unique_lock<std::recursive_mutex> held_;
  std::int64_t changes_at_open_ = 0;
  std::uint64_t batches_ = 0;
};

}  // namespace skap::store
