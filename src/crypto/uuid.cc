#include "crypto/uuid.h"

#include <array>

#include "common/hex.h"

namespace skap::crypto {

Result<std::string> NewUuid(Rng& rng) {
  std::array<std::uint8_t, 16> bytes{};
  SKAP_RETURN_IF_ERROR(rng.Fill(bytes));
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // variant 10
  const std::string hex = HexEncode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace skap::crypto
