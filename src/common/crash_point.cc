#include "common/crash_point.h"

#ifdef SKAP_CRASH_POINTS
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

namespace skap {

void CrashPoint(std::string_view name) {
  const char* env = std::getenv("SKAP_CRASH_AT");  // NOLINT(concurrency-mt-unsafe): read only
  if (env == nullptr) return;
  const std::string_view wanted(env);
  // NAME#N: the N-th time the point is reached (a point that many steps
  // pass, such as a group commit's, is killed at a later step).
  const auto hash = wanted.rfind('#');
  if (wanted.substr(0, hash) != name) return;
  long nth = 1;
  if (hash != std::string_view::npos)
    nth = std::strtol(std::string(wanted.substr(hash + 1)).c_str(), nullptr, 10);
  static std::atomic<long> reached{0};
  if (++reached >= nth) std::raise(SIGKILL);
}

}  // namespace skap
#endif
