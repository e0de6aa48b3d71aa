// Test hooks for fault tests, built with SKAP_CRASH_POINTS (test builds
// only); release builds compile every hook to nothing.
//
// Crash points: a process started with SKAP_CRASH_AT=<name> in its
// environment kills itself with SIGKILL on reaching the point of that name:
// a real `kill -9` at an exact protocol step, which a timed kill from outside
// cannot hit reliably.
//
// Fault switches: a process started with SKAP_TEST_HOOKS=<name>[,<name>...]
// misbehaves as each named hook says (a hub that corrupts the shares it
// relays, say), so tests can show that the honest parties notice.
#pragma once

#include <string_view>

namespace skap {

#ifdef SKAP_CRASH_POINTS
void CrashPoint(std::string_view name);
bool TestHook(std::string_view name);
#else
inline void CrashPoint(std::string_view /*name*/) {}
inline bool TestHook(std::string_view /*name*/) { return false; }
#endif

}  // namespace skap
