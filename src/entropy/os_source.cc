#include "entropy/os_source.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace skap::entropy {

Result<void> OsSource::Available() { return Ok(); }

Result<void> OsSource::Read(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    const ssize_t got = getrandom(out.data(), out.size(), 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Unexpected(ErrorCode::kIoError, std::string("getrandom: ") + ErrnoText(errno));
    }
    out = out.subspan(static_cast<std::size_t>(got));
  }
  return Ok();
}

}  // namespace skap::entropy
