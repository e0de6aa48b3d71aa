#include "crypto/channel_key.h"

#include <vector>

#include "common/byte_writer.h"
#include "crypto/hkdf.h"

namespace skap::crypto {
namespace {

constexpr std::string_view kLabel = "skap channel key v1";

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
  AppendU64(info, next_epoch);
  AppendField16(info, hub_id);
  AppendField16(info, device_id);
  return Hkdf(Hash::kSha384, salt, current_key, info, kChannelKeySize);
}

}  // namespace skap::crypto
