#include "agent/store/delivery_log.h"

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace skap::agent {
namespace {

TEST(DeliveryLog, ActsOnEachIdOnceInAnyOrder) {
  DeliveryLog log;
  EXPECT_TRUE(log.Seen(0)) << "0 is no message's id";
  for (const std::uint64_t id : {3ULL, 1ULL, 2ULL, 200ULL, 5ULL}) {
    EXPECT_FALSE(log.Seen(id)) << id;
    log.Accept(id);
    EXPECT_TRUE(log.Seen(id)) << id;
  }
  EXPECT_EQ(log.through, 3U);
  EXPECT_EQ(log.above, (std::set<std::uint64_t>{5, 200}));
  EXPECT_FALSE(log.Seen(4)) << "a message far behind the newest is still new";
  log.Accept(4);
  EXPECT_EQ(log.through, 5U);
}

TEST(DeliveryLog, TheSendersLowWaterForgetsWhatItGaveUp) {
  DeliveryLog log;
  log.Accept(1);
  log.Accept(7);
  log.GiveUpBelow(6);  // the sender holds nothing below 6: 2..5 expired
  EXPECT_EQ(log.through, 5U);
  EXPECT_EQ(log.above, std::set<std::uint64_t>{7});
  EXPECT_TRUE(log.Seen(4));
  EXPECT_FALSE(log.Seen(6)) << "6 may still come";
  log.GiveUpBelow(3);  // an older mark changes nothing
  EXPECT_EQ(log.through, 5U);
  log.Accept(6);
  EXPECT_EQ(log.through, 7U);
  EXPECT_TRUE(log.above.empty());
}

// Messages 1..n, each delivered 1 to 3 times in a random order, long after
// one another: each is acted on exactly once.
TEST(DeliveryLog, ResendsAndReplaysAreActedOnOnce) {
  std::mt19937_64 rng(11);
  std::vector<std::uint64_t> arrivals;
  constexpr std::uint64_t kMessages = 5000;
  for (std::uint64_t id = 1; id <= kMessages; ++id) {
    for (std::uint64_t copies = 1 + rng() % 3; copies > 0; --copies) arrivals.push_back(id);
  }
  std::shuffle(arrivals.begin(), arrivals.end(), rng);
  DeliveryLog log;
  std::vector<int> acted(kMessages + 1, 0);
  for (const auto id : arrivals) {
    if (!log.Seen(id)) {
      log.Accept(id);
      ++acted[id];
    }
  }
  EXPECT_EQ(std::count(acted.begin() + 1, acted.end(), 1), static_cast<long>(kMessages));
  EXPECT_EQ(log.through, kMessages);
  EXPECT_TRUE(log.above.empty());
}

}  // namespace
}  // namespace skap::agent
