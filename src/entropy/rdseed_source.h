// The CPU's entropy source through the x86 RDSEED instruction.
#pragma once

#include "entropy/source.h"

namespace skap::entropy {

// RdseedSource reads RDSEED where the CPU has it (CPUID leaf 7, EBX bit 18).
// RDSEED output is conditioned by the CPU; it is credited conservatively with
// 4 bits per byte because its design cannot be inspected from here.
class RdseedSource final : public EntropySource {
 public:
  std::string Name() const override { return "cpu-rdseed"; }
  double MinEntropyPerSample() const override { return 4.0; }
  Result<void> Available() override;
  Result<void> Read(std::span<std::uint8_t> out) override;
};

}  // namespace skap::entropy
