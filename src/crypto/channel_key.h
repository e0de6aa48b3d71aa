// The device channel key schedule (docs/hub.md, "Channel keys").
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::crypto {

// kChannelKeySize is the size of every channel key (the TLS external PSK).
inline constexpr std::size_t kChannelKeySize = 32;
// kChannelNonceSize is the size of each side's fresh contribution.
inline constexpr std::size_t kChannelNonceSize = 32;

// NextChannelKey returns the channel key of `next_epoch` from the key of the
// epoch before it, with a fresh contribution from each side:
//   K_{e+1} = HKDF-SHA-384(salt = hub_nonce ‖ device_nonce, IKM = K_e,
//             info = "skap channel key v1" ‖ u64(e+1) ‖ lp(hub_id) ‖ lp(device_id), 32)
// with u64 big-endian and lp(x) = u16 big-endian length ‖ x. Admission is
// the step from epoch 0 (the bootstrap key) to epoch 1.
Result<SecretBytes> NextChannelKey(std::span<const std::uint8_t> current_key,
                                   std::uint64_t next_epoch,
                                   std::span<const std::uint8_t> hub_nonce,
                                   std::span<const std::uint8_t> device_nonce,
                                   std::string_view hub_id, std::string_view device_id);

}  // namespace skap::crypto
