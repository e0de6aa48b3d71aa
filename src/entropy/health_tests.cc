#include "entropy/health_tests.h"

#include <cmath>

namespace skap::entropy {
namespace {

Result<void> CheckEntropy(double h) {
  if (!(h > 0.0 && h <= 8.0)) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "declared min-entropy per byte sample must be in (0, 8] bits");
  }
  return Ok();
}

}  // namespace

Result<unsigned> RepetitionCountCutoff(double min_entropy_per_sample) {
  SKAP_RETURN_IF_ERROR(CheckEntropy(min_entropy_per_sample));
  return 1u + static_cast<unsigned>(std::ceil(-kAlphaLog2 / min_entropy_per_sample));
}

double BinomialUpperTail(std::size_t n, double p, std::size_t c) {
  if (c == 0) return 1.0;
  if (c > n) return 0.0;
  const long double log_p = std::log(static_cast<long double>(p));
  const long double log_q = std::log1p(-static_cast<long double>(p));
  const long double log_n_factorial = std::lgamma(static_cast<long double>(n) + 1);
  long double tail = 0;
  for (std::size_t j = n + 1; j-- > c;) {
    const auto jl = static_cast<long double>(j);
    const long double log_pmf = log_n_factorial - std::lgamma(jl + 1) -
                                std::lgamma(static_cast<long double>(n - j) + 1) + jl * log_p +
                                static_cast<long double>(n - j) * log_q;
    tail += std::exp(log_pmf);
  }
  return static_cast<double>(tail);
}

Result<unsigned> AdaptiveProportionCutoff(double min_entropy_per_sample, std::size_t window) {
  SKAP_RETURN_IF_ERROR(CheckEntropy(min_entropy_per_sample));
  if (window < 2) {
    return Unexpected(ErrorCode::kInvalidArgument, "APT window must hold 2 samples or more");
  }
  const double p = std::exp2(-min_entropy_per_sample);
  const double alpha = std::exp2(kAlphaLog2);
  // CRITBINOM(W, p, 1 - α) is the smallest c with P(X <= c) >= 1 - α, that is
  // P(X >= c + 1) <= α.
  std::size_t c = 0;
  while (c < window && BinomialUpperTail(window, p, c + 1) > alpha) ++c;
  return static_cast<unsigned>(1 + c);
}

bool RepetitionCountTest::Feed(std::uint8_t sample) {
  if (run_ != 0 && sample == last_) {
    ++run_;
  } else {
    last_ = sample;
    run_ = 1;
  }
  return run_ < cutoff_;
}

bool AdaptiveProportionTest::Feed(std::uint8_t sample) {
  if (position_ == 0) {
    reference_ = sample;
    count_ = 1;
  } else if (sample == reference_) {
    ++count_;
  }
  position_ = (position_ + 1 == window_) ? 0 : position_ + 1;
  return count_ < cutoff_;
}

}  // namespace skap::entropy
