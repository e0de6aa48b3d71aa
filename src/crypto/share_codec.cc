#include "crypto/share_codec.h"

#include <algorithm>

#include "common/armor.h"
#include "common/ct.h"
#include "crypto/hash.h"

namespace skap::crypto {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderSize = 1 + 8 + 1 + 1 + 2;
constexpr std::size_t kCheckSize = 4;

Unexpected Malformed(std::string message) {
  return Unexpected(ErrorCode::kMalformedInput, "share: " + std::move(message));
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
  return ArmorEncode(kShareTextPrefix, binary.Expose());
}

Result<Share> ShareFromText(std::string_view text) {
  SKAP_ASSIGN_OR_RETURN(auto binary, ArmorDecode(kShareTextPrefix, text, "share"));
  return DecodeShare(binary.Expose());
}

}  // namespace skap::crypto
