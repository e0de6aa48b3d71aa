// Entropy sources with known faults, for the health-test tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "crypto/ctr_drbg.h"
#include "entropy/source.h"

namespace skap::testing {

// GoodSource delivers a reproducible CTR_DRBG stream: full-entropy-looking
// bytes, declared at `declared_h` bits per byte. It can be switched to stuck
// (every byte `stuck_value`) to simulate a source that breaks in service.
class GoodSource : public entropy::EntropySource {
 public:
  explicit GoodSource(std::string name = "good", double declared_h = 6.0);
  std::string Name() const override { return name_; }
  double MinEntropyPerSample() const override { return declared_h_; }
  Result<void> Available() override { return Ok(); }
  Result<void> Read(std::span<std::uint8_t> out) override;

  // Stick makes every later byte equal `value`; Unstick repairs it.
  void Stick(std::uint8_t value) { stuck_ = true, stuck_value_ = value; }
  void Unstick() { stuck_ = false; }
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  std::string name_;
  double declared_h_;
  std::unique_ptr<crypto::CtrDrbg> drbg_;
  bool stuck_ = false;
  std::uint8_t stuck_value_ = 0;
  std::uint64_t bytes_read_ = 0;
};

// StuckSource always returns the same byte.
class StuckSource : public entropy::EntropySource {
 public:
  explicit StuckSource(std::uint8_t value, double declared_h = 6.0)
      : value_(value), declared_h_(declared_h) {}
  std::string Name() const override { return "stuck"; }
  double MinEntropyPerSample() const override { return declared_h_; }
  Result<void> Available() override { return Ok(); }
  Result<void> Read(std::span<std::uint8_t> out) override;

 private:
  std::uint8_t value_;
  double declared_h_;
};

// BiasedSource returns 0x00 with probability 1/4 and otherwise a uniformly
// drawn nonzero byte, never two 0x00 in a row: a large entropy loss that the
// Repetition Count Test cannot see but the Adaptive Proportion Test must.
class BiasedSource : public entropy::EntropySource {
 public:
  explicit BiasedSource(double declared_h = 6.0);
  std::string Name() const override { return "biased"; }
  double MinEntropyPerSample() const override { return declared_h_; }
  Result<void> Available() override { return Ok(); }
  Result<void> Read(std::span<std::uint8_t> out) override;

 private:
  double declared_h_;
  std::unique_ptr<crypto::CtrDrbg> drbg_;
  std::uint8_t last_ = 1;
};

// MissingSource is not present on this machine.
class MissingSource : public entropy::EntropySource {
 public:
  std::string Name() const override { return "missing"; }
  double MinEntropyPerSample() const override { return 8.0; }
  Result<void> Available() override {
    return Unexpected(ErrorCode::kUnavailable, "no such device");
  }
  Result<void> Read(std::span<std::uint8_t> /*out*/) override {
    return Unexpected(ErrorCode::kUnavailable, "no such device");
  }
};

}  // namespace skap::testing
