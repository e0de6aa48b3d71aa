#include "unit/entropy/test_sources.h"

#include <algorithm>
#include <vector>

#include "common/hex.h"

namespace skap::testing {
namespace {

std::unique_ptr<crypto::CtrDrbg> Seeded(std::string_view label) {
  const std::vector<std::uint8_t> entropy(48, 0x61), nonce(16, 0x62);
  return std::move(crypto::CtrDrbg::CreateFromSeed(entropy, nonce, AsBytes(label))).value();
}

}  // namespace

GoodSource::GoodSource(std::string name, double declared_h)
    : name_(std::move(name)), declared_h_(declared_h), drbg_(Seeded(name_)) {}

Result<void> GoodSource::Read(std::span<std::uint8_t> out) {
  bytes_read_ += out.size();
  if (stuck_) {
    std::fill(out.begin(), out.end(), stuck_value_);
    return Ok();
  }
  return drbg_->Generate(out);
}

Result<void> StuckSource::Read(std::span<std::uint8_t> out) {
  std::fill(out.begin(), out.end(), value_);
  return Ok();
}

BiasedSource::BiasedSource(double declared_h) : declared_h_(declared_h), drbg_(Seeded("biased")) {}

Result<void> BiasedSource::Read(std::span<std::uint8_t> out) {
  for (auto& byte : out) {
    std::uint8_t draw[2];
    SKAP_RETURN_IF_ERROR(drbg_->Generate(draw));
    if (draw[0] < 64 && last_ != 0) {
      byte = 0;
    } else {
      byte = static_cast<std::uint8_t>(1 + draw[1] % 255);
    }
    last_ = byte;
  }
  return Ok();
}

}  // namespace skap::testing
