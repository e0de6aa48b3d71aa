// Importing an external PSK into TLS 1.3 (RFC 9258).
//
// SKAP's device channel keys are external PSKs. RFC 9258 derives from each a
// PSK bound to its identity, its context (both parties' identities) and the
// target protocol and KDF, so that one channel key can never be used with a
// different hash, protocol or pair of parties.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::crypto {

// kTargetProtocolTls13 and kTargetKdfHkdfSha384 are the values SKAP imports
// for: TLS 1.3 (0x0304) with HKDF_SHA384 (0x0002, RFC 9258 §10), to match
// the only cipher suite the channel allows, TLS_AES_256_GCM_SHA384.
inline constexpr std::uint16_t kTargetProtocolTls13 = 0x0304;
inline constexpr std::uint16_t kTargetKdfHkdfSha384 = 0x0002;

// ImportedIdentity is RFC 9258 §5.1's structure:
//   struct { opaque external_identity<1...2^16-1>; opaque context<0..2^16-1>;
//            uint16 target_protocol; uint16 target_kdf; } ImportedIdentity;
struct ImportedIdentity {
  std::vector<std::uint8_t> external_identity;
  std::vector<std::uint8_t> context;
  std::uint16_t target_protocol = kTargetProtocolTls13;
  std::uint16_t target_kdf = kTargetKdfHkdfSha384;
};

// EncodeImportedIdentity serialises the structure (TLS presentation
// language); the result is the PSK identity sent in the ClientHello.
Result<std::vector<std::uint8_t>> EncodeImportedIdentity(const ImportedIdentity& identity);

// DecodeImportedIdentity parses it back; anything but exactly one well-formed
// structure is kMalformedInput.
Result<ImportedIdentity> DecodeImportedIdentity(std::span<const std::uint8_t> encoded);

// DecodeOurIdentity decodes a ClientHello's identity and checks that it
// targets what SKAP imports for (TLS 1.3, HKDF_SHA384); anything else is
// kAuthenticationFailed, without detail.
Result<ImportedIdentity> DecodeOurIdentity(std::span<const std::uint8_t> wire);

// ImportPsk returns ipskx (RFC 9258 §5.1), with SHA-384 as the EPSK's hash:
//   epskx = HKDF-Extract(0, epsk)
//   ipskx = HKDF-Expand-Label(epskx, "derived psk", SHA-384(ImportedIdentity), 48)
// `identity` must target TLS 1.3 with HKDF_SHA384.
Result<SecretBytes> ImportPsk(std::span<const std::uint8_t> epsk, const ImportedIdentity& identity);

// ImportedExternalPsk is what a TLS client offers: the encoded identity and
// the imported PSK.
struct ImportedExternalPsk {
  std::vector<std::uint8_t> wire_identity;
  SecretBytes psk;
};
// ImportExternalPsk encodes `identity` and imports `epsk` for it.
Result<ImportedExternalPsk> ImportExternalPsk(std::span<const std::uint8_t> epsk,
                                              const ImportedIdentity& identity);

}  // namespace skap::crypto
