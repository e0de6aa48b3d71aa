// DirectoryLock makes one process the only user of an agent's data
// directory: the daemon, or a one-off command while it is stopped. Two at
// once could both ratchet a channel key, or both hand out one consumer key.
#pragma once

#include <string>

#include "common/result.h"

namespace skap::agent {

class DirectoryLock {
 public:
  // TryAcquire takes an exclusive lock on `lock_path` (created 0600), or
  // fails with kFailedPrecondition at once if another process holds it.
  static Result<DirectoryLock> TryAcquire(const std::string& lock_path);
  ~DirectoryLock();
  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace skap::agent
