#include "agent/store/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace skap::agent {

Result<DirectoryLock> DirectoryLock::TryAcquire(const std::string& lock_path) {
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(ErrorCode::kIoError, lock_path + ": " + ErrnoText(errno));
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int saved = errno;
    ::close(fd);
    if (saved == EWOULDBLOCK) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "another skap-agent process is using this data directory (" + lock_path +
                            "); while the agent runs, use its commands instead");
    }
    return Unexpected(ErrorCode::kIoError, lock_path + ": " + ErrnoText(saved));
  }
  return DirectoryLock(fd);
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace skap::agent
