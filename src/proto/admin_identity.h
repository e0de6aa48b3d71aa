// The PSK identity of an operator on the hub's TLS admin listener (RFC 9258
// import, like the device channel's):
//   epsk              = HKDF-SHA-384(salt = "", IKM = operator token,
//                                    info = "skap admin psk v1", L = 32)
//   external_identity = "skap-admin/<operator name>"
//   context           = "skap admin v1" ‖ lp16(operator name)
// The hub stores epsk wrapped under its KEK when it creates the operator, and
// the token's SHA-256 for the Unix socket; the token itself never crosses
// the network: over TLS, only the handshake proves it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/psk_importer.h"

namespace skap::proto {

// An operator's token is kOperatorTokenPrefix and 64 hex digits (32 random
// bytes). Under dual control it is handed out as two parts, one to each
// tenant-admin of the grant, so neither holds it: a part is
// kOperatorTokenPartPrefix and the hex of the token's bytes XOR a random
// mask (the one part) or of the mask (the other); the operator joins them.
inline constexpr std::string_view kOperatorTokenPrefix = "skapop1-";
inline constexpr std::string_view kOperatorTokenPartPrefix = "skappart1-";

struct OperatorTokenParts {
  SecretBytes first;
  SecretBytes second;
};
// SplitOperatorToken splits `token` under the 32-byte `mask`.
Result<OperatorTokenParts> SplitOperatorToken(std::span<const std::uint8_t> token,
                                              std::span<const std::uint8_t> mask);
// JoinOperatorTokenParts is the token the two parts make (in either order).
Result<SecretBytes> JoinOperatorTokenParts(std::span<const std::uint8_t> a,
                                           std::span<const std::uint8_t> b);

// AdminPskFromToken derives an operator's epsk from their token.
Result<SecretBytes> AdminPskFromToken(std::span<const std::uint8_t> token);

// ParseAdminIdentity reads an encoded ImportedIdentity from a ClientHello and
// returns the operator it names. Anything else is kAuthenticationFailed.
Result<std::string> ParseAdminIdentity(std::span<const std::uint8_t> wire);

// ImportAdminPsk imports `epsk` for `operator_name`: what TLS uses.
Result<crypto::ImportedExternalPsk> ImportAdminPsk(const std::string& operator_name,
                                                   std::span<const std::uint8_t> epsk);

}  // namespace skap::proto
