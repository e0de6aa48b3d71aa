#include "hub/guard/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace skap::hub {

namespace {

double Refilled(double tokens, std::int64_t since_ms, std::int64_t now_ms, double rate,
                double burst) {
  if (now_ms <= since_ms) return tokens;
  return std::min(burst, tokens + rate * static_cast<double>(now_ms - since_ms) / 1000);
}

}  // namespace

bool RateLimiter::Holds(const std::string& key, double units, std::int64_t now_ms) const {
  if (units > burst_ || rate_ <= 0) return false;
  const auto it = buckets_.find(key);
  if (it == buckets_.end()) return true;  // a new key starts full
  return Refilled(it->second.tokens, it->second.updated_ms, now_ms, rate_, burst_) >= units;
}

void RateLimiter::ForgetIdle(std::int64_t now_ms) {
  std::erase_if(buckets_, [&](const auto& entry) {
    return Refilled(entry.second.tokens, entry.second.updated_ms, now_ms, rate_, burst_) >= burst_;
  });
}

RateDecision RateLimiter::Take(const std::string& key, double units, std::int64_t now_ms) {
  if (units > burst_ || rate_ <= 0) {
    return {false, std::numeric_limits<std::int64_t>::max()};
  }
  // A key seen for the first time starts with a full bucket.
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now_ms});
  Bucket& b = it->second;
  if (!fresh && now_ms > b.updated_ms) {
    b.tokens = Refilled(b.tokens, b.updated_ms, now_ms, rate_, burst_);
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
