// Crash points for the crash tests, built with SKAP_CRASH_POINTS (test
// builds only); release builds compile every point to nothing.
//
// A process started with SKAP_CRASH_AT=<name> in its environment kills
// itself with SIGKILL on reaching the point of that name (with
// SKAP_CRASH_AT=<name>#<n>, on reaching it the n-th time): a real `kill -9`
// at an exact protocol step, which a timed kill from outside cannot hit
// reliably. (Other misbehaviour a test needs, a hub that lies say, lives
// behind a seam under tests/, never here.)
#pragma once

#include <string_view>

namespace skap {

#ifdef SKAP_CRASH_POINTS
void CrashPoint(std::string_view name);
#else
inline void CrashPoint(std::string_view /*name*/) {}
#endif

}  // namespace skap
