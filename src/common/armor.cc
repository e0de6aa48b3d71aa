#include "common/armor.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace skap {
namespace {

constexpr std::size_t kGroup = 8;
constexpr std::string_view kUpperHex = "0123456789ABCDEF";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

SecretBytes ArmorEncode(std::string_view prefix, std::span<const std::uint8_t> bytes) {
  const std::size_t digits = bytes.size() * 2;
  SecretBytes text(prefix.size() + digits + (digits == 0 ? 0 : (digits - 1) / kGroup));
  auto out = text.MutableExpose();
  std::size_t pos = 0;
  for (char c : prefix) out[pos++] = static_cast<std::uint8_t>(c);
  for (std::size_t i = 0; i < digits; ++i) {
    if (i != 0 && i % kGroup == 0) out[pos++] = '-';
    const std::uint8_t byte = bytes[i / 2];
    const unsigned nibble = (i % 2 == 0) ? (byte >> 4) : (byte & 0x0f);
    out[pos++] = static_cast<std::uint8_t>(kUpperHex[nibble]);
  }
  return text;
}

Result<SecretBytes> ArmorDecode(std::string_view prefix, std::string_view text,
                                std::string_view what) {
  auto malformed = [&](const std::string& why) {
    return Unexpected(ErrorCode::kMalformedInput, std::string(what) + ": " + why);
  };
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  if (text.size() < prefix.size() ||
      !std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
        return std::toupper(static_cast<unsigned char>(a)) ==
               std::toupper(static_cast<unsigned char>(b));
      })) {
    return malformed("text does not start with " + std::string(prefix));
  }
  text.remove_prefix(prefix.size());
  SecretBytes binary((text.size() + 1) / 2);
  auto out = binary.MutableExpose();
  std::size_t digits = 0;
  for (char c : text) {
    if (c == '-' || IsSpace(c)) continue;
    const int value = HexDigit(c);
    if (value < 0) return malformed("text has a character that is not a hex digit");
    if (digits % 2 == 0) {
      out[digits / 2] = static_cast<std::uint8_t>(value << 4);
    } else {
      out[digits / 2] = static_cast<std::uint8_t>(out[digits / 2] | value);
    }
    ++digits;
  }
  if (digits % 2 != 0) return malformed("text has an odd number of hex digits");
  binary.Resize(digits / 2);
  return binary;
}

}  // namespace skap
