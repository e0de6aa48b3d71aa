#include "entropy/monitored_source.h"

#include <cmath>
#include <vector>

#include "common/secret_bytes.h"

namespace skap::entropy {

const char* SourceStateName(SourceState state) {
  switch (state) {
    case SourceState::kUnavailable:
      return "unavailable";
    case SourceState::kUntested:
      return "untested";
    case SourceState::kHealthy:
      return "healthy";
    case SourceState::kFailed:
      return "failed";
  }
  return "unknown";
}

Result<MonitoredSource> MonitoredSource::Create(std::unique_ptr<EntropySource> source) {
  if (!source) {
    return Unexpected(ErrorCode::kInvalidArgument, "no entropy source given");
  }
  SourceStatus status;
  status.name = source->Name();
  status.min_entropy_per_sample = source->MinEntropyPerSample();
  SKAP_ASSIGN_OR_RETURN(status.rct_cutoff, RepetitionCountCutoff(status.min_entropy_per_sample));
  SKAP_ASSIGN_OR_RETURN(status.apt_cutoff,
                        AdaptiveProportionCutoff(status.min_entropy_per_sample, kAptWindow));
  status.apt_window = kAptWindow;
  return MonitoredSource(std::move(source), std::move(status));
}

Result<void> MonitoredSource::Fail(ErrorCode code, std::string reason) {
  status_.state = SourceState::kFailed;
  status_.last_failure = reason;
  return Unexpected(code, status_.name + ": " + reason);
}

Result<void> MonitoredSource::Test(std::span<const std::uint8_t> samples) {
  for (std::uint8_t sample : samples) {
    ++status_.samples_tested;
    // Both tests see every sample, so the counters stay comparable.
    const bool rct_ok = rct_.Feed(sample);
    const bool apt_ok = apt_.Feed(sample);
    if (!rct_ok) {
      ++status_.rct_failures;
      return Fail(ErrorCode::kEntropyUnavailable,
                  "repetition count test failed (cutoff " + std::to_string(rct_.cutoff()) + ")");
    }
    if (!apt_ok) {
      ++status_.apt_failures;
      return Fail(ErrorCode::kEntropyUnavailable, "adaptive proportion test failed (cutoff " +
                                                      std::to_string(apt_.cutoff()) + " in " +
                                                      std::to_string(apt_.window()) + ")");
    }
  }
  return Ok();
}

Result<void> MonitoredSource::StartUp() {
  if (auto available = source_->Available(); !available) {
    status_.state = SourceState::kUnavailable;
    status_.last_failure = available.error().message;
    return available;
  }
  ++status_.startup_tests;
  rct_.Reset();
  apt_.Reset();
  SecretBytes samples(kStartupSamples);
  if (auto read = source_->Read(samples.MutableExpose()); !read) {
    ++status_.read_errors;
    return Fail(read.error().code, read.error().message);
  }
  SKAP_RETURN_IF_ERROR(Test(samples.Expose()));
  status_.state = SourceState::kHealthy;
  return Ok();
}

Result<void> MonitoredSource::Read(std::span<std::uint8_t> out) {
  if (status_.state != SourceState::kHealthy) {
    return Unexpected(ErrorCode::kEntropyUnavailable,
                      status_.name + " is " + SourceStateName(status_.state));
  }
  if (auto read = source_->Read(out); !read) {
    ++status_.read_errors;
    SecureWipe(out.data(), out.size());
    return Fail(read.error().code, read.error().message);
  }
  if (auto tested = Test(out); !tested) {
    SecureWipe(out.data(), out.size());
    return tested;
  }
  return Ok();
}

std::size_t MonitoredSource::SamplesFor(unsigned bits) const {
  return static_cast<std::size_t>(std::ceil(bits / status_.min_entropy_per_sample));
}

}  // namespace skap::entropy
