#include "crypto/tls13_kdf.h"

#include <vector>

#include "crypto/hkdf.h"

namespace skap::crypto {

Result<SecretBytes> HkdfExpandLabel(Hash hash, std::span<const std::uint8_t> secret,
                                    std::string_view label, std::span<const std::uint8_t> context,
                                    std::size_t length) {
  constexpr std::string_view kPrefix = "tls13 ";
  const std::size_t label_size = kPrefix.size() + label.size();
  if (length > 0xffff || label_size > 255 || context.size() > 255) {
    return Unexpected(ErrorCode::kInvalidArgument, "HKDF-Expand-Label argument out of range");
  }
  std::vector<std::uint8_t> info;
  info.reserve(2 + 1 + label_size + 1 + context.size());
  info.push_back(static_cast<std::uint8_t>(length >> 8));
  info.push_back(static_cast<std::uint8_t>(length & 0xff));
  info.push_back(static_cast<std::uint8_t>(label_size));
  info.insert(info.end(), kPrefix.begin(), kPrefix.end());
  info.insert(info.end(), label.begin(), label.end());
  info.push_back(static_cast<std::uint8_t>(context.size()));
  info.insert(info.end(), context.begin(), context.end());
  return HkdfExpand(hash, secret, info, length);
}

}  // namespace skap::crypto
