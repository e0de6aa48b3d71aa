// Test hook for crash tests. Built with SKAP_CRASH_POINTS (test builds only),
// a process started with SKAP_CRASH_AT=<name> in its environment kills itself
// with SIGKILL on reaching the point of that name: a real `kill -9` at an
// exact protocol step, which a timed kill from outside cannot hit reliably.
// Release builds compile every point to nothing.
#pragma once

#include <string_view>

namespace skap {

#ifdef SKAP_CRASH_POINTS
void CrashPoint(std::string_view name);
#else
inline void CrashPoint(std::string_view /*name*/) {}
#endif

}  // namespace skap
