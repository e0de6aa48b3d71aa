#include "crypto/psk_importer.h"

#include "crypto/hash.h"
#include "crypto/hkdf.h"
#include "crypto/tls13_kdf.h"

namespace skap::crypto {
namespace {

void PutU16(std::vector<std::uint8_t>& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

Unexpected Malformed(const char* what) {
  return Unexpected(ErrorCode::kMalformedInput, std::string("imported identity: ") + what);
}

}  // namespace

Result<std::vector<std::uint8_t>> EncodeImportedIdentity(const ImportedIdentity& identity) {
  if (identity.external_identity.empty() || identity.external_identity.size() > 0xffff ||
      identity.context.size() > 0xffff) {
    return Unexpected(ErrorCode::kInvalidArgument, "imported identity: field length out of range");
  }
  std::vector<std::uint8_t> out;
  out.reserve(2 + identity.external_identity.size() + 2 + identity.context.size() + 4);
  PutU16(out, identity.external_identity.size());
  out.insert(out.end(), identity.external_identity.begin(), identity.external_identity.end());
  PutU16(out, identity.context.size());
  out.insert(out.end(), identity.context.begin(), identity.context.end());
  PutU16(out, identity.target_protocol);
  PutU16(out, identity.target_kdf);
  return out;
}

Result<ImportedIdentity> DecodeImportedIdentity(std::span<const std::uint8_t> encoded) {
  auto take_u16 = [&](std::size_t& value) -> bool {
    if (encoded.size() < 2) return false;
    value = (std::size_t{encoded[0]} << 8) | encoded[1];
    encoded = encoded.subspan(2);
    return true;
  };
  ImportedIdentity out;
  std::size_t length = 0;
  if (!take_u16(length) || length == 0 || encoded.size() < length) {
    return Malformed("bad external_identity");
  }
  out.external_identity.assign(encoded.begin(),
                               encoded.begin() + static_cast<std::ptrdiff_t>(length));
  encoded = encoded.subspan(length);
  if (!take_u16(length) || encoded.size() < length) return Malformed("bad context");
  out.context.assign(encoded.begin(), encoded.begin() + static_cast<std::ptrdiff_t>(length));
  encoded = encoded.subspan(length);
  std::size_t protocol = 0;
  std::size_t kdf = 0;
  if (!take_u16(protocol) || !take_u16(kdf)) return Malformed("truncated");
  if (!encoded.empty()) return Malformed("trailing bytes");
  out.target_protocol = static_cast<std::uint16_t>(protocol);
  out.target_kdf = static_cast<std::uint16_t>(kdf);
  return out;
}

Result<ImportedIdentity> DecodeOurIdentity(std::span<const std::uint8_t> wire) {
  auto imported = DecodeImportedIdentity(wire);
  if (!imported || imported->target_protocol != kTargetProtocolTls13 ||
      imported->target_kdf != kTargetKdfHkdfSha384) {
    return Unexpected(ErrorCode::kAuthenticationFailed, "unknown identity");
  }
  return imported;
}

Result<SecretBytes> ImportPsk(std::span<const std::uint8_t> epsk,
                              const ImportedIdentity& identity) {
  if (identity.target_protocol != kTargetProtocolTls13 ||
      identity.target_kdf != kTargetKdfHkdfSha384) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "imported identity must target TLS 1.3 with HKDF_SHA384");
  }
  if (epsk.size() < 32) {
    return Unexpected(ErrorCode::kInvalidArgument, "external PSK must be at least 256 bits");
  }
  SKAP_ASSIGN_OR_RETURN(auto encoded, EncodeImportedIdentity(identity));
  SKAP_ASSIGN_OR_RETURN(auto identity_hash, Digest(Hash::kSha384, encoded));
  SKAP_ASSIGN_OR_RETURN(auto epskx, HkdfExtract(Hash::kSha384, {}, epsk));
  return HkdfExpandLabel(Hash::kSha384, epskx.Expose(), "derived psk", identity_hash,
                         DigestSize(Hash::kSha384));
}

Result<ImportedExternalPsk> ImportExternalPsk(std::span<const std::uint8_t> epsk,
                                              const ImportedIdentity& identity) {
  ImportedExternalPsk out;
  SKAP_ASSIGN_OR_RETURN(out.wire_identity, EncodeImportedIdentity(identity));
  SKAP_ASSIGN_OR_RETURN(out.psk, ImportPsk(epsk, identity));
  return out;
}

}  // namespace skap::crypto
