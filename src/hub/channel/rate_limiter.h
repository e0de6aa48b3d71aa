// A token bucket per key (device id): `rate` units per second, at most
// `burst` saved up. Not thread-safe; the channel server uses it from its one
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace skap::hub {

// RateDecision says whether a request may go ahead, and if not, when it
// could.
struct RateDecision {
  bool allowed = false;
  std::int64_t retry_after_ms = 0;
};

class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst) : rate_(rate_per_second), burst_(burst) {}

  // Take spends `units` of `key`'s bucket at `now_ms` if it holds them. A
  // request larger than the burst can never go ahead.
  RateDecision Take(const std::string& key, double units, std::int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t updated_ms = 0;
  };
  double rate_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace skap::hub
