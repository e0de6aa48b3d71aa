#include "hub/channel/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace skap::hub {

RateDecision RateLimiter::Take(const std::string& key, double units, std::int64_t now_ms) {
  if (units > burst_ || rate_ <= 0) {
    return {false, std::numeric_limits<std::int64_t>::max()};
  }
  // A key seen for the first time starts with a full bucket.
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now_ms});
  Bucket& b = it->second;
  if (!fresh && now_ms > b.updated_ms) {
    b.tokens =
        std::min(burst_, b.tokens + rate_ * static_cast<double>(now_ms - b.updated_ms) / 1000);
    b.updated_ms = now_ms;
  }
  if (b.tokens >= units) {
    b.tokens -= units;
    return {true, 0};
  }
  const double wait_ms = std::ceil((units - b.tokens) * 1000 / rate_);
  return {false, static_cast<std::int64_t>(wait_ms)};
}

}  // namespace skap::hub
