// Where raw entropy comes from.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace skap::entropy {

// EntropySource delivers raw samples, one byte per sample, and declares how
// much min-entropy each sample carries. The declaration drives both the
// SP 800-90B health-test cutoffs and how many samples are drawn per reseed, so
// it must not be higher than the source's assessed min-entropy.
class EntropySource {
 public:
  virtual ~EntropySource() = default;

  // Name identifies the source in reports, e.g. "os-getrandom".
  virtual std::string Name() const = 0;

  // MinEntropyPerSample is the declared min-entropy H of one byte sample, in
  // bits, 0 < H <= 8.
  virtual double MinEntropyPerSample() const = 0;

  // Available reports whether the source exists on this machine (a CPU
  // without RDSEED or a missing device file is not available); a source that
  // is not available is reported and never read.
  virtual Result<void> Available() = 0;

  // Read fills all of `out` with raw samples or fails.
  virtual Result<void> Read(std::span<std::uint8_t> out) = 0;
};

}  // namespace skap::entropy
