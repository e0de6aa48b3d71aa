#include "hub/guard/auth_failures.h"

namespace skap::hub {

AuthFailures::AuthFailures(AuthFailureLimits limits)
    : limits_(limits),
      claims_(limits.per_claim_per_s, limits.per_claim_burst),
      sources_(limits.per_source_per_s, limits.per_source_burst) {}

std::string AuthFailures::ClaimKey(std::string_view source, std::string_view identity) {
  // '\n' is in neither an address nor a parsed identity.
  std::string key(source);
  key += '\n';
  key += identity;
  return key;
}

bool AuthFailures::Spent(std::string_view source, std::string_view identity, std::int64_t now_ms) {
  return !sources_.Holds(std::string(source), 1, now_ms) ||
         !claims_.Holds(ClaimKey(source, identity), 1, now_ms);
}

AuthFailureVerdict AuthFailures::Failed(std::string_view source, std::string_view identity,
                                        std::int64_t now_ms) {
  Bound(now_ms);
  const std::string claim = ClaimKey(source, identity);
  if (Spent(source, identity, now_ms)) {
    ++suppressed_[claim];
    return {};
  }
  (void)sources_.Take(std::string(source), 1, now_ms);
  (void)claims_.Take(claim, 1, now_ms);
  AuthFailureVerdict out{true, 0};
  if (const auto it = suppressed_.find(claim); it != suppressed_.end()) {
    out.suppressed = it->second;
    suppressed_.erase(it);
  }
  return out;
}

void AuthFailures::Bound(std::int64_t now_ms) {
  for (RateLimiter* limiter : {&claims_, &sources_}) {
    if (limiter->size() < limits_.max_tracked) continue;
    limiter->ForgetIdle(now_ms);
    if (limiter->size() >= limits_.max_tracked) limiter->Clear();
  }
  // Counts of claims no longer tracked would never be reported: dropped too.
  if (suppressed_.size() >= limits_.max_tracked) suppressed_.clear();
}

}  // namespace skap::hub
