// The continuous health tests of NIST SP 800-90B §4.4, on byte samples.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"

namespace skap::entropy {

// kFalsePositiveExponent: SKAP uses α = 2^-20 for both tests, the value
// SP 800-90B §4.4 recommends (between 2^-20 and 2^-40).
inline constexpr double kAlphaLog2 = -20.0;

// kAptWindow is the Adaptive Proportion Test window for non-binary samples
// (SP 800-90B §4.4.2: W = 512; 1024 is for binary sources).
inline constexpr std::size_t kAptWindow = 512;

// kStartupSamples is how many consecutive samples the start-up test runs both
// tests over (SP 800-90B §4.3, item 10: at least 1024).
inline constexpr std::size_t kStartupSamples = 1024;

// RepetitionCountCutoff returns C = 1 + ceil(-log2(α) / H) (§4.4.1).
// H must be in (0, 8].
Result<unsigned> RepetitionCountCutoff(double min_entropy_per_sample);

// AdaptiveProportionCutoff returns C = 1 + CRITBINOM(W, 2^-H, 1 - α)
// (§4.4.2): one more than the smallest count c with P(Binomial(W, 2^-H) > c)
// <= α. H must be in (0, 8].
Result<unsigned> AdaptiveProportionCutoff(double min_entropy_per_sample,
                                          std::size_t window = kAptWindow);

// BinomialUpperTail returns P(X >= c) for X ~ Binomial(n, p), summed in
// extended precision from the far tail so that tiny probabilities keep their
// digits. Exposed for the tests that check the cutoffs.
double BinomialUpperTail(std::size_t n, double p, std::size_t c);

// RepetitionCountTest detects a source stuck on one value: it fails when the
// same sample value appears C times in a row.
class RepetitionCountTest {
 public:
  explicit RepetitionCountTest(unsigned cutoff) : cutoff_(cutoff) {}
  // Feed tests one sample; false means the test failed on this sample.
  bool Feed(std::uint8_t sample);
  void Reset() { run_ = 0; }
  unsigned cutoff() const { return cutoff_; }

 private:
  unsigned cutoff_;
  std::uint8_t last_ = 0;
  unsigned run_ = 0;
};

// AdaptiveProportionTest detects a large loss of entropy: within each window
// of W samples it counts how often the window's first value recurs (the first
// sample included) and fails when the count reaches C.
class AdaptiveProportionTest {
 public:
  AdaptiveProportionTest(unsigned cutoff, std::size_t window) : cutoff_(cutoff), window_(window) {}
  // Feed tests one sample; false means the test failed on this sample.
  bool Feed(std::uint8_t sample);
  void Reset() { position_ = 0; }
  unsigned cutoff() const { return cutoff_; }
  std::size_t window() const { return window_; }

 private:
  unsigned cutoff_;
  std::size_t window_;
  std::uint8_t reference_ = 0;
  std::size_t position_ = 0;  // samples seen in the current window
  unsigned count_ = 0;
};

}  // namespace skap::entropy
