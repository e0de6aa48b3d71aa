// Hexadecimal text for non-secret bytes (ids, tags, test vectors).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace skap {

// HexEncode returns lowercase hex of `bytes`.
std::string HexEncode(std::span<const std::uint8_t> bytes);

// HexDecode parses hex (either case). It fails with kMalformedInput on an odd
// length or a non-hex character.
Result<std::vector<std::uint8_t>> HexDecode(std::string_view text);

// HexValue is the value of one hex digit (either case), or -1.
int HexValue(char c);

// AsBytes views the characters of a string as bytes (for labels and ASCII).
inline std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace skap
