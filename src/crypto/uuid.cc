#include "crypto/uuid.h"

#include "common/hex.h"

namespace skap::crypto {
namespace {

// kDashes are the positions of the dashes in the 36-character text form.
constexpr std::array<std::size_t, 4> kDashes = {8, 13, 18, 23};

}  // namespace

Result<std::string> NewUuid(Rng& rng) {
  UuidBytes bytes{};
  SKAP_RETURN_IF_ERROR(rng.Fill(bytes));
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // variant 10
  return FormatUuid(bytes);
}

std::string FormatUuid(const UuidBytes& bytes) {
  const std::string hex = HexEncode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::optional<UuidBytes> ParseUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_here = i == kDashes[0] || i == kDashes[1] || i == kDashes[2] || i == kDashes[3];
    if (dash_here != (text[i] == '-')) return std::nullopt;
    if (!dash_here) hex.push_back(text[i]);
  }
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != 16) return std::nullopt;
  UuidBytes out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

bool IsCanonicalUuid(std::string_view text) {
  const auto bytes = ParseUuid(text);
  return bytes && FormatUuid(*bytes) == text;
}

}  // namespace skap::crypto
