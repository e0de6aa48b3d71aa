// CPU time of another process on this machine, from /proc/PID/stat: what the
// benchmarks divide by the work done to get CPU time per operation, for
// skapd and for its baselines alike (krb5kdc). Linux only, like the rest of
// bench/.
#pragma once

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace skap::bench {

// CpuSeconds returns the user + system CPU seconds `pid` has used so far,
// or a negative number if it cannot be read.
inline double CpuSeconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  // The command name (field 2) is in parentheses and may hold spaces: the
  // fields counted from 3 start after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  double utime = 0;
  double stime = 0;
  if (!(fields >> utime >> stime)) return -1;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace skap::bench
