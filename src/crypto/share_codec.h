// Wire and text forms of a Shamir share.
//
// Binary form, version 1 (all integers big-endian):
//   version    1 byte   = 0x01
//   set id     8 bytes  names the split
//   threshold  1 byte   k, 2..255
//   index      1 byte   x, 1..255
//   length     2 bytes  L, 1..65535
//   value      L bytes  y
//   check      4 bytes  first 4 bytes of SHA-256 over all bytes above
// The check value catches typing and transmission errors in one share; it is
// computed from the share alone and says nothing about the secret.
//
// Text form: "SKAPSHARE1-" followed by the binary form in uppercase hex, in
// groups of 8 digits joined by '-'. Uppercase hex, digits and '-' all fall in
// the QR code alphanumeric set. Decoding ignores case, '-' and white space.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/shamir.h"

namespace skap::crypto {

// kShareTextPrefix starts the text form of every version-1 share.
inline constexpr std::string_view kShareTextPrefix = "SKAPSHARE1-";

// EncodeShare returns the binary form of `share`.
Result<SecretBytes> EncodeShare(const Share& share);

// DecodeShare parses the binary form. Any deviation (truncation, trailing
// bytes, unknown version, index 0, threshold below 2, bad check value) is
// kMalformedInput with a message naming it.
Result<Share> DecodeShare(std::span<const std::uint8_t> encoded);

// ShareToText returns the text form of `share` (ASCII, held as secret bytes).
Result<SecretBytes> ShareToText(const Share& share);

// ShareFromText parses the text form.
Result<Share> ShareFromText(std::string_view text);

}  // namespace skap::crypto
