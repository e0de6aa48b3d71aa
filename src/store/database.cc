#include "store/database.h"

#include <string>

namespace skap::store {
namespace {

// SavepointName names the savepoint of nesting level `level` (1 for the
// first transaction begun inside the outermost one).
std::string SavepointName(std::size_t level) { return "skap_" + std::to_string(level); }

}  // namespace

bool Database::in_transaction() const {
  const std::lock_guard lock(state_);
  return !marks_.empty();
}

Result<void> Database::Begin() {
  std::size_t level = 0;
  {
    const std::lock_guard lock(state_);
    if (!marks_.empty() && owner_ != std::this_thread::get_id()) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "store: another thread's transaction is open on this connection");
    }
    level = marks_.size();
  }
  if (level == 0) {
    SKAP_RETURN_IF_ERROR(BeginTransaction());
  } else {
    SKAP_RETURN_IF_ERROR(ExecuteScript("SAVEPOINT " + SavepointName(level)));
  }
  const std::lock_guard lock(state_);
  if (level == 0) owner_ = std::this_thread::get_id();
  marks_.push_back(deferred_.size());
  return Ok();
}

Result<void> Database::Commit() {
  std::size_t level = 0;
  {
    const std::lock_guard lock(state_);
    if (marks_.empty() || owner_ != std::this_thread::get_id()) {
      return Unexpected(ErrorCode::kFailedPrecondition, "store: no transaction of this thread");
    }
    level = marks_.size() - 1;
  }
  if (level > 0) {
    // The savepoint's work joins the enclosing transaction, and so does
    // whatever it deferred.
    SKAP_RETURN_IF_ERROR(ExecuteScript("RELEASE SAVEPOINT " + SavepointName(level)));
    const std::lock_guard lock(state_);
    marks_.pop_back();
    return Ok();
  }
  // A failed commit leaves the transaction open: the caller rolls it back.
  SKAP_RETURN_IF_ERROR(CommitTransaction());
  std::vector<Deferred> done;
  {
    const std::lock_guard lock(state_);
    marks_.clear();
    done.swap(deferred_);
  }
  for (auto& d : done) {
    if (d.on_commit) d.on_commit();
  }
  return Ok();
}

Result<void> Database::Rollback() {
  std::size_t level = 0;
  std::size_t mark = 0;
  {
    const std::lock_guard lock(state_);
    if (marks_.empty() || owner_ != std::this_thread::get_id()) {
      return Unexpected(ErrorCode::kFailedPrecondition, "store: no transaction of this thread");
    }
    level = marks_.size() - 1;
    mark = marks_.back();
    marks_.pop_back();
  }
  // The level is closed whatever the engine says (SQLite has rolled back
  // by itself when a commit failed), and its deferred work is abandoned once
  // its changes are gone.
  Result<void> undone = Ok();
  if (level > 0) {
    const std::string name = SavepointName(level);
    undone = ExecuteScript("ROLLBACK TO SAVEPOINT " + name + "; RELEASE SAVEPOINT " + name);
  } else {
    undone = RollbackTransaction();
  }
  Abandon(mark);
  return undone;
}

void Database::AfterCommit(std::function<void()> on_commit, std::function<void()> on_abandon) {
  {
    const std::lock_guard lock(state_);
    if (!marks_.empty() && owner_ == std::this_thread::get_id()) {
      deferred_.push_back({std::move(on_commit), std::move(on_abandon)});
      return;
    }
  }
  if (on_commit) on_commit();
}

void Database::Abandon(std::size_t mark) {
  std::vector<Deferred> dropped;
  {
    const std::lock_guard lock(state_);
    if (mark >= deferred_.size()) return;
    dropped.assign(std::make_move_iterator(deferred_.begin() + static_cast<std::ptrdiff_t>(mark)),
                   std::make_move_iterator(deferred_.end()));
    deferred_.resize(mark);
  }
  for (auto& d : dropped) {
    if (d.on_abandon) d.on_abandon();
  }
}

Result<void> InTransaction(Database& db, const std::function<Result<void>()>& body) {
  SKAP_RETURN_IF_ERROR(db.Begin());
  if (auto result = body(); !result) {
    (void)db.Rollback();  // the body's error is the one worth reporting
    return result;
  }
  if (auto committed = db.Commit(); !committed) {
    (void)db.Rollback();
    return committed;
  }
  return Ok();
}

}  // namespace skap::store
