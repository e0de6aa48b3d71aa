// A token bucket per key (a device id, a claimed identity, a source): `rate`
// units per second, at most `burst` saved up. Not thread-safe; each user
// keeps its own, on its one thread.
#pragma once

#include <cstddef>
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
  // Holds is whether `key`'s bucket holds `units` at `now_ms`, spending nothing.
  bool Holds(const std::string& key, double units, std::int64_t now_ms) const;
  // ForgetIdle drops the buckets full again at `now_ms` (as a new key's
  // would be); Clear drops every one. size is how many are kept.
  void ForgetIdle(std::int64_t now_ms);
  void Clear() { buckets_.clear(); }
  std::size_t size() const { return buckets_.size(); }

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
