#include "store/group_commit.h"

#include <string>
#include <utility>

#include "common/crash_point.h"

namespace skap::store {

GroupCommit::GroupCommit(Database& db, const std::string& name)
    : db_(db),
      before_commit_(name + ".batch.before-commit"),
      after_commit_(name + ".batch.after-commit") {}

GroupCommit::~GroupCommit() { (void)Close(); }

Result<bool> GroupCommit::Join() {
  if (open()) return false;
  auto held = db_.Hold();
  SKAP_RETURN_IF_ERROR(db_.Begin());
  held_ = std::move(held);
  changes_at_open_ = db_.changes();
  // First in line, so it runs before any answer the batch releases.
  db_.AfterCommit([this] {
    if (db_.changes() == changes_at_open_) return;
    ++batches_;
    CrashPoint(after_commit_);
  });
  return true;
}

Result<void> GroupCommit::Close() {
  if (!open()) return Ok();
  if (db_.changes() != changes_at_open_) CrashPoint(before_commit_);
  auto committed = db_.Commit();
  if (!committed) (void)db_.Rollback();
  held_ = {};
  return committed;
}

}  // namespace skap::store
