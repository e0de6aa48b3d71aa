#include "crypto/channel_key.h"

#include <vector>

#include "crypto/hkdf.h"

namespace skap::crypto {
namespace {

constexpr std::string_view kLabel = "skap channel key v1";

void PutField(std::vector<std::uint8_t>& out, std::string_view field) {
  out.push_back(static_cast<std::uint8_t>(field.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(field.size() & 0xff));
  out.insert(out.end(), field.begin(), field.end());
}

}  // namespace

Result<SecretBytes> NextChannelKey(std::span<const std::uint8_t> current_key,
                                   std::uint64_t next_epoch,
                                   std::span<const std::uint8_t> hub_nonce,
                                   std::span<const std::uint8_t> device_nonce,
                                   std::string_view hub_id, std::string_view device_id) {
  if (current_key.size() != kChannelKeySize || hub_nonce.size() != kChannelNonceSize ||
      device_nonce.size() != kChannelNonceSize || next_epoch == 0 || hub_id.size() > 0xffff ||
      device_id.size() > 0xffff) {
    return Unexpected(ErrorCode::kInvalidArgument, "channel key step: bad argument");
  }
  std::vector<std::uint8_t> salt(hub_nonce.begin(), hub_nonce.end());
  salt.insert(salt.end(), device_nonce.begin(), device_nonce.end());
  std::vector<std::uint8_t> info(kLabel.begin(), kLabel.end());
  for (int shift = 56; shift >= 0; shift -= 8) {
    info.push_back(static_cast<std::uint8_t>(next_epoch >> shift));
  }
  PutField(info, hub_id);
  PutField(info, device_id);
  return Hkdf(Hash::kSha384, salt, current_key, info, kChannelKeySize);
}

}  // namespace skap::crypto
