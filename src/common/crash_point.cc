#include "common/crash_point.h"

#ifdef SKAP_CRASH_POINTS
#include <csignal>
#include <cstdlib>

namespace skap {

void CrashPoint(std::string_view name) {
  const char* wanted = std::getenv("SKAP_CRASH_AT");  // NOLINT(concurrency-mt-unsafe): read only
  if (wanted != nullptr && name == wanted) std::raise(SIGKILL);
}

}  // namespace skap
#endif
