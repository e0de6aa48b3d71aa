#include "crypto/shamir.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <gtest/gtest.h>

#include "common/ct.h"
#include "common/hex.h"
#include "unit/crypto/test_rng.h"

namespace skap::crypto {
namespace {

std::vector<Share> Pick(const std::vector<Share>& all, const std::vector<std::size_t>& indices) {
  std::vector<Share> out;
  for (std::size_t i : indices) out.push_back(all[i].Clone());
  return out;
}

// ForEachSubset calls f with every subset of {0..n-1} of size m.
template <typename F>
void ForEachSubset(std::size_t n, std::size_t m, F f) {
  std::vector<bool> mask(n, false);
  std::fill(mask.begin(), mask.begin() + static_cast<std::ptrdiff_t>(m), true);
  do {
    std::vector<std::size_t> chosen;
    for (std::size_t i = 0; i < n; ++i)
      if (mask[i]) chosen.push_back(i);
    f(chosen);
  } while (std::prev_permutation(mask.begin(), mask.end()));
}

TEST(ShamirTest, EverySubsetOfAtLeastKSharesRecovers) {
  auto rng = testing::SeededRng("every subset");
  std::vector<std::uint8_t> secret(32);
  ASSERT_TRUE(rng->Fill(secret));
  for (unsigned n = 2; n <= 7; ++n) {
    for (unsigned k = 2; k <= n; ++k) {
      auto shares = SplitSecret(secret, k, n, *rng);
      ASSERT_TRUE(shares);
      ASSERT_EQ(shares->size(), n);
      for (std::size_t m = k; m <= n; ++m) {
        ForEachSubset(n, m, [&](const std::vector<std::size_t>& chosen) {
          auto picked = Pick(*shares, chosen);
          std::reverse(picked.begin(), picked.end());  // order must not matter
          auto rebuilt = CombineShares(picked);
          ASSERT_TRUE(rebuilt) << rebuilt.error().message;
          ASSERT_TRUE(ct::Equal(rebuilt->Expose(), secret)) << k << "-of-" << n;
        });
      }
    }
  }
}

TEST(ShamirTest, FewerThanKSharesAreRefused) {
  auto rng = testing::SeededRng("too few");
  const std::vector<std::uint8_t> secret(16, 0x77);
  auto shares = SplitSecret(secret, 4, 6, *rng);
  ASSERT_TRUE(shares);
  auto rebuilt = CombineShares(std::span(*shares).first(3));
  ASSERT_FALSE(rebuilt);
  EXPECT_EQ(rebuilt.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(rebuilt.error().message, "need 4 shares, got 3");
}

TEST(ShamirTest, SplitRejectsBadParameters) {
  auto rng = testing::SeededRng("params");
  const std::vector<std::uint8_t> secret(32, 1);
  EXPECT_EQ(SplitSecret(secret, 1, 3, *rng).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(SplitSecret(secret, 4, 3, *rng).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(SplitSecret(secret, 2, 256, *rng).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(SplitSecret({}, 2, 3, *rng).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(SplitSecret(secret, 255, 255, *rng));
}

TEST(ShamirTest, CombineRejectsMixedAndRepeatedShares) {
  auto rng = testing::SeededRng("mixed");
  const std::vector<std::uint8_t> secret(8, 0x10);
  auto a = SplitSecret(secret, 2, 3, *rng);
  auto b = SplitSecret(secret, 2, 3, *rng);
  auto c = SplitSecret(secret, 3, 3, *rng);
  ASSERT_TRUE(a && b && c);

  std::vector<Share> duplicate = Pick(*a, {0, 0});
  EXPECT_EQ(CombineShares(duplicate).error().message, "share 1 given twice");

  std::vector<Share> mixed = Pick(*a, {0});
  mixed.push_back((*b)[1].Clone());
  auto mixed_result = CombineShares(mixed);
  ASSERT_FALSE(mixed_result);
  EXPECT_NE(mixed_result.error().message.find("different split"), std::string::npos);

  std::vector<Share> thresholds = Pick(*a, {0});
  thresholds.push_back((*c)[1].Clone());
  thresholds.back().set_id = thresholds.front().set_id;
  EXPECT_NE(CombineShares(thresholds).error().message.find("threshold"), std::string::npos);

  std::vector<Share> lengths = Pick(*a, {0, 1});
  lengths[1].value.Resize(7);
  EXPECT_NE(CombineShares(lengths).error().message.find("length"), std::string::npos);

  std::vector<Share> zero = Pick(*a, {0, 1});
  zero[1].index = 0;
  EXPECT_FALSE(CombineShares(zero));

  EXPECT_EQ(CombineShares({}).error().code, ErrorCode::kInvalidArgument);
}

TEST(ShamirTest, ExtraSharesMustAgree) {
  auto rng = testing::SeededRng("corrupt");
  const std::vector<std::uint8_t> secret(32, 0x42);
  auto shares = SplitSecret(secret, 2, 4, *rng);
  ASSERT_TRUE(shares);
  auto all = Pick(*shares, {0, 1, 2, 3});
  EXPECT_TRUE(CombineShares(all));
  all[3].value.MutableExpose()[5] ^= 0x01;
  auto result = CombineShares(all);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInconsistentShares);
  EXPECT_NE(result.error().message.find("share 4"), std::string::npos);
}

// Chi-square statistic of observed counts against a uniform expectation.
double ChiSquare(const std::vector<std::uint64_t>& counts) {
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double expected = total / static_cast<double>(counts.size());
  double chi = 0;
  for (auto c : counts)
    chi += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return chi;
}

// Upper critical value of chi-square with `df` degrees of freedom at
// z standard deviations (Wilson-Hilferty); z = 4.75 is p ~ 1e-6.
double ChiSquareCritical(double df, double z = 4.75) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// k - 1 shares carry no information: for any fixed secret their joint
// distribution is uniform. Checked on one-byte secrets (a small field
// sample) for k = 2 (one share, 256 cells) and k = 3 (two shares, 65536
// cells), for two very different secrets. A reproducible DRBG keeps the
// statistic fixed from run to run.
TEST(ShamirTest, FewerThanKSharesAreUniform) {
  auto rng = testing::SeededRng("uniformity");
  for (std::uint8_t secret_byte : {std::uint8_t{0x00}, std::uint8_t{0xff}}) {
    const std::uint8_t secret[] = {secret_byte};
    {
      std::vector<std::uint64_t> counts(256, 0);
      for (int trial = 0; trial < 256 * 200; ++trial) {
        auto shares = SplitSecret(secret, 2, 2, *rng);
        ASSERT_TRUE(shares);
        ++counts[(*shares)[1].value.Expose()[0]];
      }
      EXPECT_LT(ChiSquare(counts), ChiSquareCritical(255)) << "k=2, secret " << int{secret_byte};
    }
    {
      std::vector<std::uint64_t> counts(65536, 0);
      for (int trial = 0; trial < 65536 * 12; ++trial) {
        auto shares = SplitSecret(secret, 3, 3, *rng);
        ASSERT_TRUE(shares);
        const unsigned y1 = (*shares)[0].value.Expose()[0];
        const unsigned y3 = (*shares)[2].value.Expose()[0];
        ++counts[(y1 << 8) | y3];
      }
      EXPECT_LT(ChiSquare(counts), ChiSquareCritical(65535)) << "k=3, secret " << int{secret_byte};
    }
  }
}

// The statistic is sharp enough to see a leak: if the shares did depend on
// the secret (here: share 1 of a k=2 split conditioned to be even), the test
// above would fail.
TEST(ShamirTest, UniformityCheckDetectsBias) {
  std::vector<std::uint64_t> counts(256, 0);
  for (unsigned i = 0; i < 256 * 200; ++i) ++counts[(i * 2) % 256];
  EXPECT_GT(ChiSquare(counts), ChiSquareCritical(255));
}

}  // namespace
}  // namespace skap::crypto

namespace skap::crypto {
namespace {

TEST(ShamirTest, InterpolationGivesTheSecretAtZeroAndTheOtherSharesElsewhere) {
  auto rng = testing::SeededRng("interpolate");
  const std::vector<std::uint8_t> secret = {1, 2, 3, 4, 5, 6, 7, 8};
  auto shares = SplitSecret(secret, 3, 5, *rng);
  ASSERT_TRUE(shares);
  std::vector<Share> basis;
  for (std::size_t i : {std::size_t{4}, std::size_t{0}, std::size_t{2}}) {
    const Share& s = (*shares)[i];
    basis.push_back(Share{s.set_id, s.threshold, s.index, s.value.Clone()});
  }
  auto at_zero = InterpolateShares(basis, 0);
  ASSERT_TRUE(at_zero);
  EXPECT_TRUE(ct::Equal(at_zero->Expose(), secret));
  for (const std::uint8_t x : {std::uint8_t{2}, std::uint8_t{4}}) {
    auto y = InterpolateShares(basis, x);
    ASSERT_TRUE(y);
    EXPECT_TRUE(ct::Equal(y->Expose(), (*shares)[x - 1].value.Expose())) << int{x};
  }
  EXPECT_FALSE(InterpolateShares(std::span(basis).first(2), 1)) << "fewer than k";
}

}  // namespace
}  // namespace skap::crypto
