// AuthFailures keeps an unauthenticated flood of failed handshakes from
// filling the audit log or holding the hub's database: each listener counts
// its failures per claimed identity and source, and per source, in token
// buckets. Once either is spent, attempts of that claim (or from that
// source) are refused before any lookup and are only counted; the next
// failure audited for that claim carries the count. Not thread-safe: one
// per listener, used from its thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "hub/guard/rate_limiter.h"

namespace skap::hub {

struct AuthFailureLimits {
  // Failures a claimed identity may cause from one source: a burst, then
  // one a minute (a device with a stale key retries well inside this).
  double per_claim_burst = 5;
  double per_claim_per_s = 1.0 / 60;
  // Failures from one source (an IPv4 address, an IPv6 /64) under any
  // identities: a burst, then one every two seconds.
  double per_source_burst = 30;
  double per_source_per_s = 0.5;
  // Failures audited one by one on the whole listener, from all sources
  // together: a burst, then one a second; past it they are counted under
  // their claims.
  double audited_burst = 100;
  double audited_per_s = 1;
  // Buckets kept; past it the idle (refilled) ones are dropped, and if all
  // are busy every one is (memory stays bounded; limiting starts afresh).
  std::size_t max_tracked = 4096;
};

// AuthFailureVerdict is what to do with one failed attempt.
struct AuthFailureVerdict {
  bool audit = false;  // audit this failure
  // attempts of this claim refused, or left unaudited, since it was last audited
  std::int64_t suppressed = 0;
};

class AuthFailures {
 public:
  explicit AuthFailures(AuthFailureLimits limits = {});

  // Spent is true when `identity` from `source`, or `source` itself, has no
  // failure left: refuse the attempt without looking anything up.
  bool Spent(std::string_view source, std::string_view identity, std::int64_t now_ms);
  // Failed records a failed attempt (a spent one included) and says whether
  // to audit it, with the count of the ones not audited before it.
  AuthFailureVerdict Failed(std::string_view source, std::string_view identity,
                            std::int64_t now_ms);
  // tracked is how many buckets and counts are kept (bounded by max_tracked each).
  std::size_t tracked() const {
    return std::max({claims_.size(), sources_.size(), suppressed_.size()});
  }

 private:
  // ClaimKey is the key of `identity` from the source whose key is `source_key`.
  static std::string ClaimKey(const std::string& source_key, std::string_view identity);
  bool SpentKeys(const std::string& source_key, const std::string& claim_key,
                 std::int64_t now_ms) const;
  void Bound(std::int64_t now_ms);

  AuthFailureLimits limits_;
  RateLimiter claims_;
  RateLimiter sources_;
  RateLimiter listener_;
  std::unordered_map<std::string, std::int64_t> suppressed_;  // by claim key
};

}  // namespace skap::hub
