#include "hub/guard/auth_failures.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace skap::hub {
namespace {

// SourceOf is the key of an address: an IPv4 address as it is (also when
// it comes IPv4-mapped), an IPv6 one by its /64, the least one network is
// given (else one host could draw from 2^64 buckets).
std::string SourceOf(std::string_view address) {
  std::array<unsigned char, 16> v6{};
  // A link-local address may carry its scope ("fe80::1%eth0"): one host.
  const std::string text(address.substr(0, address.find('%')));
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return text;
  std::array<char, INET6_ADDRSTRLEN> out{};
  constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), v6.begin())) {
    return inet_ntop(AF_INET, v6.data() + 12, out.data(), out.size()) != nullptr ? out.data()
                                                                                 : text;
  }
  std::fill(v6.begin() + 8, v6.end(), 0);
  if (inet_ntop(AF_INET6, v6.data(), out.data(), out.size()) == nullptr) return text;
  return std::string(out.data()) + "/64";
}

// kMaxClaimBytes: a claim longer than any identity (255 bytes) is junk;
// past it the key keeps only the start, so junk cannot grow the tables.
constexpr std::size_t kMaxClaimBytes = 256;

}  // namespace

AuthFailures::AuthFailures(AuthFailureLimits limits)
    : limits_(limits),
      claims_(limits.per_claim_per_s, limits.per_claim_burst),
      sources_(limits.per_source_per_s, limits.per_source_burst),
      listener_(limits.audited_per_s, limits.audited_burst) {}

std::string AuthFailures::ClaimKey(const std::string& source_key, std::string_view identity) {
  // The source's key first: no address holds '\n'.
  std::string key = source_key;
  key += '\n';
  key += identity.substr(0, kMaxClaimBytes);
  return key;
}

bool AuthFailures::SpentKeys(const std::string& source_key, const std::string& claim_key,
                             std::int64_t now_ms) const {
  return !sources_.Holds(source_key, 1, now_ms) || !claims_.Holds(claim_key, 1, now_ms);
}

bool AuthFailures::Spent(std::string_view source, std::string_view identity, std::int64_t now_ms) {
  const std::string source_key = SourceOf(source);
  return SpentKeys(source_key, ClaimKey(source_key, identity), now_ms);
}

AuthFailureVerdict AuthFailures::Failed(std::string_view source, std::string_view identity,
                                        std::int64_t now_ms) {
  Bound(now_ms);
  const std::string source_key = SourceOf(source);
  const std::string claim = ClaimKey(source_key, identity);
  if (SpentKeys(source_key, claim, now_ms)) {
    ++suppressed_[claim];
    return {};
  }
  (void)sources_.Take(source_key, 1, now_ms);
  (void)claims_.Take(claim, 1, now_ms);
  // Many sources together are bounded too: past the listener's allowance a
  // failure is counted under its claim, not audited, as a spent one is.
  if (!listener_.Take("", 1, now_ms).allowed) {
    ++suppressed_[claim];
    return {};
  }
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
