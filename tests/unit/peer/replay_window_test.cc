#include "peer/replay_window.h"

#include <random>
#include <set>

#include <gtest/gtest.h>

namespace skap::peer {
namespace {

TEST(ReplayWindow, AcceptsEachCounterOnce) {
  ReplayWindow w;
  EXPECT_FALSE(w.IsNew(0)) << "counters start at 1";
  for (const std::uint64_t c : {1ULL, 2ULL, 5ULL, 3ULL, 4ULL, 70ULL, 69ULL, 7ULL}) {
    EXPECT_TRUE(w.IsNew(c)) << c;
    w.Mark(c);
    EXPECT_FALSE(w.IsNew(c)) << c;
  }
  EXPECT_FALSE(w.IsNew(6)) << "64 behind the highest is outside the window";
  EXPECT_TRUE(w.IsNew(8));
  EXPECT_TRUE(w.IsNew(1000));
  w.Mark(1000);
  EXPECT_FALSE(w.IsNew(70)) << "a jump far ahead closes the window behind it";
  EXPECT_TRUE(w.IsNew(999));
}

// Against a set that remembers everything: within the window the two agree,
// and the window never accepts twice.
TEST(ReplayWindow, AgreesWithFullMemoryWithinTheWindow) {
  std::mt19937_64 rng(7);
  ReplayWindow w;
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t base = w.highest > 40 ? w.highest - 40 : 1;
    const std::uint64_t c = base + rng() % 50;
    const bool fresh = !seen.contains(c);
    ASSERT_EQ(w.IsNew(c), fresh) << "counter " << c << " highest " << w.highest;
    if (fresh) {
      w.Mark(c);
      seen.insert(c);
    }
  }
}

}  // namespace
}  // namespace skap::peer
