#include "crypto/share_codec.h"

#include <algorithm>
#include <cctype>

#include "common/ct.h"
#include "crypto/hash.h"

namespace skap::crypto {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderSize = 1 + 8 + 1 + 1 + 2;
constexpr std::size_t kCheckSize = 4;
constexpr std::size_t kTextGroup = 8;
constexpr std::string_view kUpperHex = "0123456789ABCDEF";

Unexpected Malformed(std::string message) {
  return Unexpected(ErrorCode::kMalformedInput, "share: " + std::move(message));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<SecretBytes> EncodeShare(const Share& share) {
  const std::size_t length = share.value.size();
  if (length == 0 || length > 65535 || share.index == 0 || share.threshold < 2) {
    return Unexpected(ErrorCode::kInvalidArgument, "share: not a valid share to encode");
  }
  SecretBytes out(kHeaderSize + length + kCheckSize);
  auto bytes = out.MutableExpose();
  bytes[0] = kVersion;
  std::copy(share.set_id.begin(), share.set_id.end(), bytes.begin() + 1);
  bytes[9] = share.threshold;
  bytes[10] = share.index;
  bytes[11] = static_cast<std::uint8_t>(length >> 8);
  bytes[12] = static_cast<std::uint8_t>(length & 0xff);
  std::copy(share.value.Expose().begin(), share.value.Expose().end(), bytes.begin() + kHeaderSize);
  SKAP_ASSIGN_OR_RETURN(auto digest, Digest(Hash::kSha256, bytes.first(kHeaderSize + length)));
  std::copy_n(digest.begin(), kCheckSize,
              bytes.begin() + static_cast<std::ptrdiff_t>(kHeaderSize + length));
  return out;
}

Result<Share> DecodeShare(std::span<const std::uint8_t> encoded) {
  if (encoded.size() < kHeaderSize + 1 + kCheckSize) {
    return Malformed("too short");
  }
  if (encoded[0] != kVersion) {
    return Malformed("unsupported version " + std::to_string(encoded[0]));
  }
  const std::size_t length = (std::size_t{encoded[11]} << 8) | encoded[12];
  if (length == 0) {
    return Malformed("empty value");
  }
  if (encoded.size() != kHeaderSize + length + kCheckSize) {
    return Malformed("length field says " + std::to_string(length) + " value bytes, but " +
                     std::to_string(encoded.size()) + " bytes were given");
  }
  SKAP_ASSIGN_OR_RETURN(auto digest, Digest(Hash::kSha256, encoded.first(kHeaderSize + length)));
  if (!ct::Equal(std::span(digest).first(kCheckSize), encoded.last(kCheckSize))) {
    return Malformed("check value does not match (mistyped or damaged share)");
  }
  Share share;
  std::copy_n(encoded.begin() + 1, share.set_id.size(), share.set_id.begin());
  share.threshold = encoded[9];
  share.index = encoded[10];
  if (share.threshold < 2) {
    return Malformed("threshold " + std::to_string(share.threshold) + " is below 2");
  }
  if (share.index == 0) {
    return Malformed("index 0 is not valid");
  }
  share.value = SecretBytes::Copy(encoded.subspan(kHeaderSize, length));
  return share;
}

Result<SecretBytes> ShareToText(const Share& share) {
  SKAP_ASSIGN_OR_RETURN(auto binary, EncodeShare(share));
  const auto bytes = binary.Expose();
  const std::size_t digits = bytes.size() * 2;
  SecretBytes text(kShareTextPrefix.size() + digits + (digits - 1) / kTextGroup);
  auto out = text.MutableExpose();
  std::size_t pos = 0;
  for (char c : kShareTextPrefix) out[pos++] = static_cast<std::uint8_t>(c);
  for (std::size_t i = 0; i < digits; ++i) {
    if (i != 0 && i % kTextGroup == 0) out[pos++] = '-';
    const std::uint8_t byte = bytes[i / 2];
    const unsigned nibble = (i % 2 == 0) ? (byte >> 4) : (byte & 0x0f);
    out[pos++] = static_cast<std::uint8_t>(kUpperHex[nibble]);
  }
  return text;
}

Result<Share> ShareFromText(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r')) {
    text.remove_prefix(1);
  }
  if (text.size() < kShareTextPrefix.size() ||
      !std::equal(
          kShareTextPrefix.begin(), kShareTextPrefix.end(), text.begin(),
          [](char a, char b) { return a == std::toupper(static_cast<unsigned char>(b)); })) {
    return Malformed("text does not start with " + std::string(kShareTextPrefix));
  }
  text.remove_prefix(kShareTextPrefix.size());
  SecretBytes binary;
  binary.Resize((text.size() + 1) / 2);
  auto out = binary.MutableExpose();
  std::size_t digits = 0;
  for (char c : text) {
    if (c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    const int value = HexDigit(c);
    if (value < 0) {
      return Malformed("text has a character that is not a hex digit");
    }
    if (digits / 2 >= out.size()) {
      return Malformed("text is too long");
    }
    if (digits % 2 == 0) {
      out[digits / 2] = static_cast<std::uint8_t>(value << 4);
    } else {
      out[digits / 2] = static_cast<std::uint8_t>(out[digits / 2] | value);
    }
    ++digits;
  }
  if (digits % 2 != 0) {
    return Malformed("text has an odd number of hex digits");
  }
  binary.Resize(digits / 2);
  return DecodeShare(binary.Expose());
}

}  // namespace skap::crypto
