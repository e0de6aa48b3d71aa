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
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/psk_importer.h"

namespace skap::proto {

// AdminPskFromToken derives an operator's epsk from their token.
Result<SecretBytes> AdminPskFromToken(std::span<const std::uint8_t> token);

// ParseAdminIdentity reads an encoded ImportedIdentity from a ClientHello and
// returns the operator it names. Anything else is kAuthenticationFailed.
Result<std::string> ParseAdminIdentity(std::span<const std::uint8_t> wire);

// ImportAdminPsk imports `epsk` for `operator_name`: what TLS uses.
Result<crypto::ImportedExternalPsk> ImportAdminPsk(const std::string& operator_name,
                                                   std::span<const std::uint8_t> epsk);

}  // namespace skap::proto
