// StateLock serialises the processes that change one device state file (an
// agent and a one-off command, say): two ratchets at once could leave the
// device holding a key the hub has already replaced.
#pragma once

#include <string>

#include "common/result.h"

namespace skap::agent {

class StateLock {
 public:
  // Acquire takes an exclusive lock on "<state_path>.lock", waiting for it.
  static Result<StateLock> Acquire(const std::string& state_path);
  ~StateLock();
  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&&) = delete;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace skap::agent
