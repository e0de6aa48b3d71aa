#include "hub/channel/ratchet_policy.h"

#include <gtest/gtest.h>

#include "hub/channel/rate_limiter.h"

namespace skap::hub {
namespace {

TEST(RatchetPolicyTest, DueByOperatorAgeOrSessions) {
  const RatchetPolicy policy{std::chrono::seconds(60), 3};
  EpochSchedule schedule{4, 1'000'000, false};
  EXPECT_FALSE(RatchetDueReason(policy, schedule, 2, 1'059'999));
  EXPECT_EQ(MillisUntilAgeDue(policy, schedule, 1'059'999), 1);
  EXPECT_EQ(RatchetDueReason(policy, schedule, 2, 1'060'000), "age");
  EXPECT_EQ(MillisUntilAgeDue(policy, schedule, 2'000'000), 0);
  EXPECT_EQ(RatchetDueReason(policy, schedule, 3, 1'000'000), "sessions");
  schedule.operator_requested = true;
  EXPECT_EQ(RatchetDueReason(policy, schedule, 0, 1'000'000), "operator");
}

TEST(RatchetPolicyTest, ZeroSessionsMeansNoSessionBound) {
  const RatchetPolicy policy{std::chrono::seconds(60), 0};
  EXPECT_FALSE(RatchetDueReason(policy, {1, 0, false}, 1'000'000, 1));
}

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

}  // namespace
}  // namespace skap::hub
