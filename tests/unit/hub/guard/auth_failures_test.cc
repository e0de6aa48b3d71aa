// The guards against floods: token buckets, and failed authentications
// counted per claim and source, refused once spent and audited in aggregate.
#include "hub/guard/auth_failures.h"

#include <gtest/gtest.h>

#include "hub/guard/rate_limiter.h"

namespace skap::hub {
namespace {

TEST(RateLimiterTest, BurstThenSustainedRatePerKey) {
  RateLimiter limiter(100, 300);  // 100 units/s, 300 saved up
  EXPECT_TRUE(limiter.Take("a", 300, 0).allowed);
  auto refused = limiter.Take("a", 50, 0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ms, 500);
  EXPECT_TRUE(limiter.Take("b", 300, 0).allowed) << "keys have their own buckets";
  EXPECT_FALSE(limiter.Take("a", 50, 499).allowed);
  EXPECT_TRUE(limiter.Take("a", 50, 500).allowed);
  EXPECT_TRUE(limiter.Take("a", 300, 1'000'000).allowed) << "refills up to the burst only";
  EXPECT_FALSE(limiter.Take("a", 1, 1'000'000).allowed);
  EXPECT_FALSE(limiter.Take("c", 301, 0).allowed) << "more than the burst never goes";
}

TEST(RateLimiterTest, HoldsSpendsNothingAndIdleBucketsAreForgotten) {
  RateLimiter limiter(1, 2);
  EXPECT_TRUE(limiter.Holds("a", 2, 0)) << "a new key starts full";
  EXPECT_EQ(limiter.size(), 0u);
  ASSERT_TRUE(limiter.Take("a", 2, 0).allowed);
  ASSERT_TRUE(limiter.Take("b", 1, 0).allowed);
  EXPECT_FALSE(limiter.Holds("a", 1, 999));
  EXPECT_TRUE(limiter.Holds("a", 1, 1000));
  limiter.ForgetIdle(1000);  // b is full again at 1 s, a is not
  EXPECT_EQ(limiter.size(), 1u);
  EXPECT_FALSE(limiter.Holds("a", 2, 1000));
}

TEST(AuthFailuresTest, AClaimIsAuditedAFewTimesThenRefusedAndCounted) {
  AuthFailures failures({.per_claim_burst = 3,
                         .per_claim_per_s = 1.0 / 60,
                         .per_source_burst = 100,
                         .per_source_per_s = 1,
                         .audited_burst = 100,
                         .audited_per_s = 1,
                         .max_tracked = 4096});
  std::int64_t now = 1'000'000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(failures.Spent("192.0.2.1", "dev-a", now));
    const auto v = failures.Failed("192.0.2.1", "dev-a", now);
    EXPECT_TRUE(v.audit);
    EXPECT_EQ(v.suppressed, 0);
  }
  // Spent: refused before any lookup, counted, not audited.
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(failures.Spent("192.0.2.1", "dev-a", now));
    EXPECT_FALSE(failures.Failed("192.0.2.1", "dev-a", now).audit);
  }
  // The same claim from another source, and another claim from this one,
  // are their own.
  EXPECT_FALSE(failures.Spent("192.0.2.2", "dev-a", now));
  EXPECT_FALSE(failures.Spent("192.0.2.1", "dev-b", now));
  // A minute on, one more is audited, saying how many were refused unaudited.
  now += 60'000;
  EXPECT_FALSE(failures.Spent("192.0.2.1", "dev-a", now));
  const auto later = failures.Failed("192.0.2.1", "dev-a", now);
  EXPECT_TRUE(later.audit);
  EXPECT_EQ(later.suppressed, 10);
  EXPECT_TRUE(failures.Spent("192.0.2.1", "dev-a", now));
}

TEST(AuthFailuresTest, ASourceTryingManyClaimsIsRefusedForAll) {
  AuthFailures failures({.per_claim_burst = 5,
                         .per_claim_per_s = 1.0 / 60,
                         .per_source_burst = 4,
                         .per_source_per_s = 0.5,
                         .audited_burst = 100,
                         .audited_per_s = 1,
                         .max_tracked = 4096});
  const std::int64_t now = 5'000;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(failures.Failed("198.51.100.7", "claim-" + std::to_string(i), now).audit);
  }
  EXPECT_TRUE(failures.Spent("198.51.100.7", "a-fresh-claim", now));
  EXPECT_FALSE(failures.Failed("198.51.100.7", "a-fresh-claim", now).audit);
  EXPECT_FALSE(failures.Spent("198.51.100.8", "a-fresh-claim", now)) << "another source is not";
  EXPECT_FALSE(failures.Spent("198.51.100.7", "claim-0", now + 2'000)) << "two seconds refill one";
}

TEST(AuthFailuresTest, AnIpv6NetworkIsOneSourceAndAMappedIpv4AddressItsAddress) {
  AuthFailures failures({.per_claim_burst = 100,
                         .per_claim_per_s = 1,
                         .per_source_burst = 2,
                         .per_source_per_s = 1.0 / 60,
                         .audited_burst = 100,
                         .audited_per_s = 1,
                         .max_tracked = 4096});
  EXPECT_TRUE(failures.Failed("2001:db8:0:7::1", "a", 0).audit);
  EXPECT_TRUE(failures.Failed("2001:db8:0:7:ffff::2", "b", 0).audit);
  EXPECT_TRUE(failures.Spent("2001:db8:0:7:1234::9", "c", 0)) << "the same /64";
  EXPECT_FALSE(failures.Spent("2001:db8:0:8::1", "c", 0)) << "another /64";
  EXPECT_TRUE(failures.Failed("::ffff:192.0.2.9", "a", 0).audit);
  EXPECT_TRUE(failures.Failed("192.0.2.9", "b", 0).audit);
  EXPECT_TRUE(failures.Spent("::ffff:192.0.2.9", "c", 0)) << "one address, however written";
  EXPECT_TRUE(failures.Failed("fe80::1%eth0", "a", 0).audit);
  EXPECT_TRUE(failures.Failed("fe80::2%eth1", "b", 0).audit);
  EXPECT_TRUE(failures.Spent("fe80::3", "c", 0)) << "a scope names no other network";
}

TEST(AuthFailuresTest, ManySourcesTogetherAreAuditedWithinTheListenersAllowance) {
  AuthFailures failures({.per_claim_burst = 5,
                         .per_claim_per_s = 1.0 / 60,
                         .per_source_burst = 5,
                         .per_source_per_s = 1.0 / 60,
                         .audited_burst = 3,
                         .audited_per_s = 1,
                         .max_tracked = 4096});
  int audited = 0;
  for (int i = 0; i < 10; ++i) {
    audited += failures.Failed("198.51.100." + std::to_string(i), "x", 0).audit ? 1 : 0;
  }
  EXPECT_EQ(audited, 3);
  // Each claim's next audited failure counts its own unaudited ones.
  const auto later = failures.Failed("198.51.100.9", "x", 1000);
  EXPECT_TRUE(later.audit);
  EXPECT_EQ(later.suppressed, 1);
}

TEST(AuthFailuresTest, MemoryStaysBoundedUnderAFloodOfClaims) {
  AuthFailures failures({.per_claim_burst = 1,
                         .per_claim_per_s = 1.0 / 60,
                         .per_source_burst = 1e9,
                         .per_source_per_s = 1e9,
                         .audited_burst = 1e9,
                         .audited_per_s = 1e9,
                         .max_tracked = 64});
  for (int i = 0; i < 10'000; ++i) (void)failures.Failed("203.0.113.9", std::to_string(i), 0);
  // Bounded: the limiter started afresh when full, so a claim it forgot may
  // fail once more, audited.
  EXPECT_LE(failures.tracked(), 64u);
}

}  // namespace
}  // namespace skap::hub
