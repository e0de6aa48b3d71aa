// A character device that delivers raw random bytes: /dev/hwrng, or the
// device file of a USB or PCIe quantum RNG.
#pragma once

#include <string>

#include "entropy/source.h"

namespace skap::entropy {

// DeviceSource reads raw samples from a device file. Its min-entropy is what
// the device's assessment (or its vendor's SP 800-90B report) says; there is
// no safe default, so the caller must declare it.
class DeviceSource final : public EntropySource {
 public:
  DeviceSource(std::string path, double min_entropy_per_sample)
      : path_(std::move(path)), min_entropy_(min_entropy_per_sample) {}
  ~DeviceSource() override;
  DeviceSource(const DeviceSource&) = delete;
  DeviceSource& operator=(const DeviceSource&) = delete;

  std::string Name() const override { return "device:" + path_; }
  double MinEntropyPerSample() const override { return min_entropy_; }
  Result<void> Available() override;
  Result<void> Read(std::span<std::uint8_t> out) override;

 private:
  Result<void> Open();
  std::string path_;
  double min_entropy_;
  int fd_ = -1;
};

}  // namespace skap::entropy
