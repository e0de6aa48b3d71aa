#include "proto/admin_identity.h"

#include "common/byte_writer.h"
#include "common/hex.h"
#include "crypto/hkdf.h"

namespace skap::proto {
namespace {

constexpr std::string_view kPskLabel = "skap admin psk v1";
constexpr std::string_view kContextLabel = "skap admin v1";
constexpr std::string_view kIdentityPrefix = "skap-admin/";
constexpr std::size_t kEpskBytes = 32;

std::vector<std::uint8_t> Context(const std::string& operator_name) {
  std::vector<std::uint8_t> context(kContextLabel.begin(), kContextLabel.end());
  AppendField16(context, operator_name);
  return context;
}

Result<crypto::ImportedIdentity> MakeIdentity(const std::string& operator_name) {
  if (operator_name.empty() || operator_name.size() > 255) {
    return Unexpected(ErrorCode::kInvalidArgument, "operator name out of range");
  }
  crypto::ImportedIdentity out;
  const std::string external = std::string(kIdentityPrefix) + operator_name;
  out.external_identity.assign(external.begin(), external.end());
  out.context = Context(operator_name);
  return out;
}

}  // namespace

Result<SecretBytes> AdminPskFromToken(std::span<const std::uint8_t> token) {
  if (token.empty()) return Unexpected(ErrorCode::kInvalidArgument, "empty operator token");
  return crypto::Hkdf(crypto::Hash::kSha384, {}, token, AsBytes(kPskLabel), kEpskBytes);
}

Result<std::string> ParseAdminIdentity(std::span<const std::uint8_t> wire) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "unknown identity");
  auto imported = crypto::DecodeOurIdentity(wire);
  if (!imported) return refused;
  const std::string external(imported->external_identity.begin(),
                             imported->external_identity.end());
  if (external.rfind(kIdentityPrefix, 0) != 0) return refused;
  std::string name = external.substr(kIdentityPrefix.size());
  if (name.empty() || name.size() > 255 || imported->context != Context(name)) return refused;
  return name;
}

Result<crypto::ImportedExternalPsk> ImportAdminPsk(const std::string& operator_name,
                                                   std::span<const std::uint8_t> epsk) {
  SKAP_ASSIGN_OR_RETURN(auto imported, MakeIdentity(operator_name));
  return crypto::ImportExternalPsk(epsk, imported);
}

}  // namespace skap::proto
