// Building byte strings for labels, KDF inputs and MAC inputs: fixed-width
// big-endian integers and length-prefixed fields, written once here.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace skap {

// AppendU64 appends `value` as 8 big-endian bytes.
inline void AppendU64(std::vector<std::uint8_t>& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(value >> shift));
}

// AppendField16 appends lp16(field): a 2-byte big-endian length, then the
// bytes. The caller keeps fields below 65536 bytes.
inline void AppendField16(std::vector<std::uint8_t>& out, std::string_view field) {
  out.push_back(static_cast<std::uint8_t>(field.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(field.size() & 0xff));
  out.insert(out.end(), field.begin(), field.end());
}

// AppendField32 appends lp32(field): a 4-byte big-endian length, then the bytes.
inline void AppendField32(std::vector<std::uint8_t>& out, std::string_view field) {
  const auto n = static_cast<std::uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
  out.insert(out.end(), field.begin(), field.end());
}

}  // namespace skap
