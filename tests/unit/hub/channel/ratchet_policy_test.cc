#include "hub/channel/ratchet_policy.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace skap::hub
