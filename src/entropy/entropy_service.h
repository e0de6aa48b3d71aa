// The entropy service: health-tested sources conditioned through an
// SP 800-90A CTR_DRBG. Hubs serve its output to devices; agents and hubs draw
// their keys from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "crypto/ctr_drbg.h"
#include "crypto/rng.h"
#include "entropy/monitored_source.h"

namespace skap::entropy {

// EntropyServiceOptions bound how long the DRBG runs between reseeds.
struct EntropyServiceOptions {
  // max_requests_between_reseeds bounds generate calls per seed (SP 800-90A
  // allows 2^48 for CTR_DRBG; SKAP reseeds far sooner).
  std::uint64_t max_requests_between_reseeds = 4096;
  // max_time_between_reseeds bounds the age of the seed.
  std::chrono::seconds max_time_between_reseeds{60};
  // retest_failed_after is how long a failed source stays out before a new
  // start-up test may bring it back.
  std::chrono::seconds retest_failed_after{60};
  // now is the clock; tests inject their own.
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

// PredictionResistance asks for a reseed from the sources right before the
// output is generated (SP 800-90A §8.8), as key generation does.
enum class PredictionResistance { kNo, kYes };

// EntropyStatus is the health report.
struct EntropyStatus {
  bool operational = false;  // false: the service refuses to serve (fails closed)
  std::string drbg;          // the mechanism, e.g. "CTR_DRBG AES-256, derivation function"
  std::vector<SourceStatus> sources;
  std::uint64_t reseeds = 0;
  std::uint64_t requests = 0;
  std::uint64_t bytes_generated = 0;
  std::string last_error;  // why the service last refused, if it did
};

// FormatStatus renders the report as an aligned text table.
std::string FormatStatus(const EntropyStatus& status);

// EntropyService conditions health-tested raw entropy into a CTR_DRBG and
// serves its output. Each reseed draws 256 bits of declared min-entropy from
// every healthy source, so one good source is enough even if another is
// silently weak. When no healthy source is left it fails closed: no output,
// kEntropyUnavailable. Thread-safe.
class EntropyService final : public crypto::Rng {
 public:
  // kSeedEntropyBits is the declared min-entropy drawn from each source per
  // reseed: the DRBG's security strength.
  static constexpr unsigned kSeedEntropyBits = 256;

  // DefaultSources returns the sources every machine may have: getrandom(2)
  // and RDSEED (reported unavailable on CPUs without it).
  static std::vector<std::unique_ptr<EntropySource>> DefaultSources();

  // Create start-up-tests every source, runs the DRBG's known-answer
  // self-test, instantiates the DRBG and seeds it from the healthy sources.
  // Fails if no source passes its start-up test.
  static Result<std::unique_ptr<EntropyService>> Create(
      std::vector<std::unique_ptr<EntropySource>> sources, EntropyServiceOptions options = {});

  // Generate fills `out` with DRBG output, reseeding first when the bounds
  // are reached or prediction resistance is asked for.
  Result<void> Generate(std::span<std::uint8_t> out,
                        PredictionResistance prediction_resistance = PredictionResistance::kNo);

  // Fill is Generate without prediction resistance.
  Result<void> Fill(std::span<std::uint8_t> out) override { return Generate(out); }

  // Reseed reseeds now (on demand).
  Result<void> Reseed();

  // MixIn reseeds now from the health-tested sources, with
  // `additional_input` (entropy a hub served, say) as SP 800-90A additional
  // input: it can add to the state, never stand in for the sources.
  Result<void> MixIn(std::span<const std::uint8_t> additional_input);

  // Status returns the current health report.
  EntropyStatus Status() const;

 private:
  EntropyService(std::vector<MonitoredSource> sources, EntropyServiceOptions options,
                 std::unique_ptr<crypto::CtrDrbg> drbg);
  Result<void> ReseedLocked(std::span<const std::uint8_t> extra_input = {});
  void RetestFailedSourcesLocked();

  mutable std::mutex mutex_;
  std::vector<MonitoredSource> sources_;
  std::vector<std::chrono::steady_clock::time_point> failed_at_;
  EntropyServiceOptions options_;
  std::unique_ptr<crypto::CtrDrbg> drbg_;
  std::chrono::steady_clock::time_point last_reseed_{};
  std::uint64_t requests_since_reseed_ = 0;
  std::uint64_t reseeds_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t bytes_generated_ = 0;
  bool operational_ = false;
  std::string last_error_;
};

}  // namespace skap::entropy
