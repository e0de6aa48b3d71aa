// The one clock: wall-clock time in milliseconds since the Unix epoch.
// Every component that reads the time is handed a Clock, so tests set the
// time by hand and a whole daemon reads one source. Intervals that must not
// follow a step of the wall clock (retry delays) read the monotonic one.
#pragma once

#include <cstdint>
#include <functional>

namespace skap {

// Clock returns the time now, in milliseconds since the Unix epoch.
using Clock = std::function<std::int64_t()>;

// SystemNowMs reads the system's wall clock.
std::int64_t SystemNowMs();

// SystemClock is the Clock of a running daemon.
inline Clock SystemClock() { return SystemNowMs; }

// MonotonicNowMs reads a clock that only moves forward, for intervals that a
// step of the wall clock must not stretch or cut short (retry delays); its
// zero is arbitrary.
std::int64_t MonotonicNowMs();

}  // namespace skap
