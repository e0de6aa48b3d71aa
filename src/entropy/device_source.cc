#include "entropy/device_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace skap::entropy {

DeviceSource::~DeviceSource() {
  if (fd_ >= 0) close(fd_);
}

Result<void> DeviceSource::Open() {
  if (fd_ >= 0) return Ok();
  fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    return Unexpected(errno == ENOENT ? ErrorCode::kUnavailable : ErrorCode::kIoError,
                      path_ + ": " + ErrnoText(errno));
  }
  return Ok();
}

Result<void> DeviceSource::Available() { return Open(); }

Result<void> DeviceSource::Read(std::span<std::uint8_t> out) {
  SKAP_RETURN_IF_ERROR(Open());
  while (!out.empty()) {
    const ssize_t got = read(fd_, out.data(), out.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return Unexpected(ErrorCode::kIoError,
                        path_ + ": " + (got == 0 ? std::string("end of file") : ErrnoText(errno)));
    }
    out = out.subspan(static_cast<std::size_t>(got));
  }
  return Ok();
}

}  // namespace skap::entropy
