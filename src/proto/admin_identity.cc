#include "proto/admin_identity.h"

#include "common/byte_writer.h"
#include "common/ct.h"
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

namespace {

constexpr std::size_t kTokenBytes = 32;

// BytesAfter is the 32 bytes a token or part of `prefix` spells in hex.
Result<SecretBytes> BytesAfter(std::span<const std::uint8_t> text, std::string_view prefix) {
  const std::string_view view(reinterpret_cast<const char*>(text.data()), text.size());
  std::string_view rest = view;
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  if (rest.substr(0, prefix.size()) != prefix || rest.size() != prefix.size() + 2 * kTokenBytes) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "not a " + std::string(prefix) + "... value of 64 hex digits");
  }
  auto bytes = HexDecode(rest.substr(prefix.size()));
  if (!bytes) return Unexpected(ErrorCode::kInvalidArgument, "not hex after the prefix");
  auto out = SecretBytes::Copy(*bytes);
  SecureWipe(bytes->data(), bytes->size());
  return out;
}

SecretBytes Spelled(std::string_view prefix, std::span<const std::uint8_t> bytes) {
  std::string hex = HexEncode(bytes);
  SecretBytes out = SecretBytes::Copy(AsBytes(prefix));
  out.Append(AsBytes(hex));
  SecureWipe(hex.data(), hex.size());
  return out;
}

}  // namespace

Result<OperatorTokenParts> SplitOperatorToken(std::span<const std::uint8_t> token,
                                              std::span<const std::uint8_t> mask) {
  if (mask.size() != kTokenBytes) {
    return Unexpected(ErrorCode::kInvalidArgument, "a token's mask is 32 bytes");
  }
  SKAP_ASSIGN_OR_RETURN(auto raw, BytesAfter(token, kOperatorTokenPrefix));
  SecretBytes masked = SecretBytes::Copy(raw.Expose());
  auto m = masked.MutableExpose();
  for (std::size_t i = 0; i < kTokenBytes; ++i) m[i] ^= mask[i];
  return OperatorTokenParts{Spelled(kOperatorTokenPartPrefix, masked.Expose()),
                            Spelled(kOperatorTokenPartPrefix, mask)};
}

Result<SecretBytes> JoinOperatorTokenParts(std::span<const std::uint8_t> a,
                                           std::span<const std::uint8_t> b) {
  SKAP_ASSIGN_OR_RETURN(auto x, BytesAfter(a, kOperatorTokenPartPrefix));
  SKAP_ASSIGN_OR_RETURN(const auto y, BytesAfter(b, kOperatorTokenPartPrefix));
  if (ct::Equal(x.Expose(), y.Expose())) {
    return Unexpected(ErrorCode::kInvalidArgument, "the same part twice: join the two parts");
  }
  auto m = x.MutableExpose();
  for (std::size_t i = 0; i < kTokenBytes; ++i) m[i] ^= y.Expose()[i];
  return Spelled(kOperatorTokenPrefix, x.Expose());
}

}  // namespace skap::proto
