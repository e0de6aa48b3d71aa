#include "entropy/health_tests.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace skap::entropy {
namespace {

TEST(CutoffTest, RepetitionCountFollowsTheFormula) {
  // SP 800-90B §4.4.1: C = 1 + ceil(20 / H) for alpha = 2^-20; its example
  // is H = 2.0 -> C = 11.
  EXPECT_EQ(*RepetitionCountCutoff(2.0), 11u);
  EXPECT_EQ(*RepetitionCountCutoff(1.0), 21u);
  EXPECT_EQ(*RepetitionCountCutoff(6.0), 5u);
  EXPECT_EQ(*RepetitionCountCutoff(8.0), 4u);
  EXPECT_EQ(*RepetitionCountCutoff(0.5), 41u);
}

TEST(CutoffTest, RejectsImpossibleEntropyClaims) {
  for (double h : {0.0, -1.0, 8.01, 9.0, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(RepetitionCountCutoff(h).error().code, ErrorCode::kInvalidArgument) << h;
    EXPECT_EQ(AdaptiveProportionCutoff(h).error().code, ErrorCode::kInvalidArgument) << h;
  }
}

// ForwardTail computes P(X >= c), X ~ Binomial(n, p), by a different route
// from the code under test: the pmf recurrence from j = 0 upwards, in long
// double, and 1 - P(X < c).
long double ForwardTail(std::size_t n, long double p, std::size_t c) {
  long double pmf = std::pow(1.0L - p, static_cast<long double>(n));  // P(X = 0)
  long double below = 0;
  for (std::size_t j = 0; j < c; ++j) {
    below += pmf;
    pmf *= static_cast<long double>(n - j) / static_cast<long double>(j + 1) * p / (1.0L - p);
  }
  return 1.0L - below;
}

// The APT cutoff is C = 1 + CRITBINOM(W, 2^-H, 1 - alpha): the smallest C
// whose tail P(X >= C) is at most alpha, while P(X >= C - 1) is above it.
TEST(CutoffTest, AdaptiveProportionIsTheCriticalBinomialValue) {
  const long double alpha = std::exp2(-20.0L);
  for (double h : {0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0}) {
    SCOPED_TRACE(h);
    auto cutoff = AdaptiveProportionCutoff(h, kAptWindow);
    ASSERT_TRUE(cutoff);
    const long double p = std::exp2(-static_cast<long double>(h));
    EXPECT_LE(ForwardTail(kAptWindow, p, *cutoff), alpha * (1 + 1e-6L));
    EXPECT_GT(ForwardTail(kAptWindow, p, *cutoff - 1), alpha);
    EXPECT_NEAR(static_cast<double>(ForwardTail(kAptWindow, p, *cutoff)),
                BinomialUpperTail(kAptWindow, static_cast<double>(p), *cutoff), 1e-12);
  }
  // Less entropy claimed, more repetition tolerated.
  EXPECT_GT(*AdaptiveProportionCutoff(1.0), *AdaptiveProportionCutoff(2.0));
  EXPECT_GT(*AdaptiveProportionCutoff(2.0), *AdaptiveProportionCutoff(8.0));
}

// NIST SP 800-90B (January 2018) §4.4.2, Table 2: example cutoffs of the
// Adaptive Proportion Test for alpha = 2^-20.
TEST(CutoffTest, AdaptiveProportionMatchesSp80090bTable2) {
  struct Row {
    double h;
    std::size_t window;
    unsigned cutoff;
  };
  const Row rows[] = {
      {0.2, 1024, 941}, {0.4, 1024, 840}, {0.6, 1024, 748}, {0.8, 1024, 664}, {1.0, 1024, 589},
      {0.5, 512, 410},  {1.0, 512, 311},  {2.0, 512, 177},  {4.0, 512, 62},   {8.0, 512, 13},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(*AdaptiveProportionCutoff(row.h, row.window), row.cutoff)
        << "H = " << row.h << ", W = " << row.window;
  }
}

TEST(RepetitionCountTest, TripsExactlyAtTheCutoff) {
  RepetitionCountTest rct(5);
  EXPECT_TRUE(rct.Feed(7));
  for (int i = 2; i <= 4; ++i) EXPECT_TRUE(rct.Feed(7)) << "run of " << i;
  EXPECT_FALSE(rct.Feed(7)) << "run of 5 must fail";
}

TEST(RepetitionCountTest, ARunBrokenByAnotherValueStartsOver) {
  RepetitionCountTest rct(3);
  for (int round = 0; round < 100; ++round) {
    EXPECT_TRUE(rct.Feed(1));
    EXPECT_TRUE(rct.Feed(1));
    EXPECT_TRUE(rct.Feed(2));
    EXPECT_TRUE(rct.Feed(2));
  }
}

TEST(AdaptiveProportionTest, TripsExactlyAtTheCutoffWithinAWindow) {
  AdaptiveProportionTest apt(10, 64);
  // The window's first sample (0xaa) is the reference; 8 more copies keep
  // the count at 9, below the cutoff.
  EXPECT_TRUE(apt.Feed(0xaa));
  for (int i = 1; i < 64; ++i) {
    const bool copy = (i % 7 == 0) && i <= 56;  // i = 7, 14, ..., 56: 8 copies
    EXPECT_TRUE(apt.Feed(copy ? 0xaa : static_cast<std::uint8_t>(i))) << i;
  }
  // Next window: the 10th occurrence fails on the spot.
  EXPECT_TRUE(apt.Feed(0xbb));
  for (int i = 1; i < 9; ++i) EXPECT_TRUE(apt.Feed(0xbb)) << i;
  EXPECT_FALSE(apt.Feed(0xbb));
}

TEST(AdaptiveProportionTest, CountsDoNotCarryAcrossWindows) {
  AdaptiveProportionTest apt(6, 16);
  // Five copies at the end of one window and five at the start of the next
  // are two windows of five, not one of ten.
  for (int i = 0; i < 11; ++i) EXPECT_TRUE(apt.Feed(static_cast<std::uint8_t>(100 + i)));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(apt.Feed(0x01));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(apt.Feed(0x01));
}

}  // namespace
}  // namespace skap::entropy
