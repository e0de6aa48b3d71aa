// An entropy source under continuous SP 800-90B health testing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/result.h"
#include "entropy/health_tests.h"
#include "entropy/source.h"

namespace skap::entropy {

// SourceState is where a monitored source stands.
enum class SourceState {
  kUnavailable,  // not present on this machine; never read
  kUntested,     // present, start-up test not run yet
  kHealthy,      // passed its start-up test and every sample since
  kFailed,       // a health test failed: taken out until a new start-up test passes
};

// SourceStateName returns "unavailable", "untested", "healthy" or "failed".
const char* SourceStateName(SourceState state);

// SourceStatus is one line of the health report.
struct SourceStatus {
  std::string name;
  double min_entropy_per_sample = 0;
  unsigned rct_cutoff = 0;
  unsigned apt_cutoff = 0;
  std::size_t apt_window = 0;
  SourceState state = SourceState::kUntested;
  std::uint64_t samples_tested = 0;
  std::uint64_t startup_tests = 0;
  std::uint64_t rct_failures = 0;
  std::uint64_t apt_failures = 0;
  std::uint64_t read_errors = 0;
  std::string last_failure;  // empty if none; never contains sample values
};

// MonitoredSource wraps a source with the Repetition Count and Adaptive
// Proportion tests, cut off for the source's declared min-entropy. Every
// sample it hands out has passed both tests; a failing read hands out nothing
// and takes the source out.
class MonitoredSource {
 public:
  // Create computes the cutoffs; fails if the declared min-entropy is invalid.
  static Result<MonitoredSource> Create(std::unique_ptr<EntropySource> source);

  // StartUp checks availability and runs the start-up test (both tests over
  // kStartupSamples consecutive samples, which are then discarded). Also the
  // way back in for a failed source.
  Result<void> StartUp();

  // Read fills `out` with tested samples. Fails, and marks the source failed,
  // on a read error or a health-test failure.
  Result<void> Read(std::span<std::uint8_t> out);

  // SamplesFor returns how many samples carry `bits` of declared min-entropy.
  std::size_t SamplesFor(unsigned bits) const;

  SourceState state() const { return status_.state; }
  const SourceStatus& status() const { return status_; }

 private:
  MonitoredSource(std::unique_ptr<EntropySource> source, SourceStatus status)
      : source_(std::move(source)),
        status_(std::move(status)),
        rct_(status_.rct_cutoff),
        apt_(status_.apt_cutoff, status_.apt_window) {}
  // Test runs both tests over `samples`, recording any failure.
  Result<void> Test(std::span<const std::uint8_t> samples);
  Result<void> Fail(ErrorCode code, std::string reason);

  std::unique_ptr<EntropySource> source_;
  SourceStatus status_;
  RepetitionCountTest rct_;
  AdaptiveProportionTest apt_;
};

}  // namespace skap::entropy
