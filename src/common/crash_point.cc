#include "common/crash_point.h"

#ifdef SKAP_CRASH_POINTS
#include <csignal>
#include <cstdlib>
#include <string>

namespace skap {

void CrashPoint(std::string_view name) {
  const char* wanted = std::getenv("SKAP_CRASH_AT");  // NOLINT(concurrency-mt-unsafe): read only
  if (wanted != nullptr && name == wanted) std::raise(SIGKILL);
}

bool TestHook(std::string_view name) {
  const char* hooks = std::getenv("SKAP_TEST_HOOKS");  // NOLINT(concurrency-mt-unsafe): read only
  if (hooks == nullptr) return false;
  const std::string list = std::string(",") + hooks + ",";
  return list.find("," + std::string(name) + ",") != std::string::npos;
}

}  // namespace skap
#endif
