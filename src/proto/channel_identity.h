// The PSK identity of a device on its hub channel (RFC 9258 import):
//   external_identity = "<device id>/<epoch>"
//   context           = "skap channel v1" ‖ lp16(hub id) ‖ lp16(device id)
// Both parties' identities are in the context, so a channel key imported for
// one hub and device can never serve another pair.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/psk_importer.h"

namespace skap::proto {

// ChannelIdentity names one device's key epoch at one hub.
struct ChannelIdentity {
  std::string hub_id;
  std::string device_id;
  std::int64_t epoch = 0;
};

// MakeImportedIdentity builds the RFC 9258 structure for `id`.
Result<crypto::ImportedIdentity> MakeImportedIdentity(const ChannelIdentity& id);

// ParseChannelIdentity reads an encoded ImportedIdentity from a ClientHello
// and checks that it targets this hub. Anything else is kAuthenticationFailed.
Result<ChannelIdentity> ParseChannelIdentity(std::span<const std::uint8_t> wire,
                                             const std::string& hub_id);

// ImportChannelKey returns the encoded identity and the PSK TLS uses.
Result<crypto::ImportedExternalPsk> ImportChannelKey(const ChannelIdentity& id,
                                                     std::span<const std::uint8_t> channel_key);

}  // namespace skap::proto
