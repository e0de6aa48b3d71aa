// The operating system's randomness through getrandom(2).
#pragma once

#include "entropy/source.h"

namespace skap::entropy {

// OsSource reads getrandom(2) (blocking until the kernel pool is initialised).
// Its output is already conditioned by the kernel; it is credited with
// 6 bits per byte, below the 8 it may carry, so that the health tests'
// false-alarm rate stays well below α and the pool relies on it less.
class OsSource final : public EntropySource {
 public:
  std::string Name() const override { return "os-getrandom"; }
  double MinEntropyPerSample() const override { return 6.0; }
  Result<void> Available() override;
  Result<void> Read(std::span<std::uint8_t> out) override;
};

}  // namespace skap::entropy
