#include "hub/registry/operators.h"

#include <array>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "crypto/hash.h"
#include "proto/admin_identity.h"

namespace skap::hub {
namespace {

// This class's part of hub.db's schema (hub/schema.cc orders the whole):
// version 2 made the operators; version 4 kept each one's admin epsk
// (proto/admin_identity.h), wrapped under the KEK, NULL for operators created
// before it, who keep the Unix socket until re-issued.
constexpr std::string_view kOperatorsV2 = R"sql(CREATE TABLE operators (
  name TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  role TEXT NOT NULL CHECK (role IN ('tenant-admin', 'provisioner', 'admitter', 'auditor')),
  token_hash BLOB NOT NULL UNIQUE,  -- SHA-256 of the operator's 256-bit random token
  created_at_ms BIGINT NOT NULL,
  disabled BIGINT NOT NULL DEFAULT 0
);
)sql";
constexpr std::string_view kOperatorsV4 = R"sql(
ALTER TABLE operators ADD COLUMN wrapped_admin_psk BLOB;
)sql";

using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

constexpr std::string_view kTokenPrefix = "skapop1-";

}  // namespace

std::string_view Operators::MigrationSql(int version) {
  switch (version) {
    case 2:
      return kOperatorsV2;
    case 4:
      return kOperatorsV4;
    default:
      return {};
  }
}

Result<OperatorToken> Operators::Add(const Principal& actor, const std::string& tenant_id,
                                     const std::string& name, Role role) {
  OperatorToken token{name, {}};
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    const bool allowed =
        actor.kind == Principal::Kind::kHub ||
        (IsOperatorWithRole(actor, Role::kTenantAdmin) && actor.tenant_id == tenant_id);
    if (!allowed) return Denied("adding an operator needs the tenant-admin role in that tenant");
    SKAP_RETURN_IF_ERROR(CheckName("operator", name));
    if (name.rfind("device:", 0) == 0 || name == "hub") {
      return Unexpected(ErrorCode::kInvalidArgument, "operator name is reserved");
    }
    SKAP_RETURN_IF_ERROR(tenants_.Name(tenant_id));
    std::array<std::uint8_t, 32> random{};
    SKAP_RETURN_IF_ERROR(c_.rng.Fill(random));
    const std::string hex = HexEncode(random);
    SecureWipe(random.data(), random.size());
    token.token = SecretBytes::Copy(AsBytes(kTokenPrefix));
    token.token.Append(AsBytes(hex));
    SKAP_ASSIGN_OR_RETURN(auto hash, crypto::Digest(crypto::Hash::kSha256, token.token.Expose()));
    SKAP_ASSIGN_OR_RETURN(auto admin_psk, proto::AdminPskFromToken(token.token.Expose()));
    SKAP_ASSIGN_OR_RETURN(auto wrapped_psk, c_.keystore.Wrap(admin_psk.Expose()));
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "INSERT INTO operators (name, tenant_id, role, token_hash, wrapped_admin_psk,"
        " created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        {name, tenant_id, std::string(RoleName(role)), Blob(hash), Blob(wrapped_psk), c_.now()}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "operator.add", name, "ok",
         nlohmann::json{{"tenant", tenant_id}, {"role", RoleName(role)}}.dump()},
        c_.now()));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "operator.add", name, std::move(done).error());
  return token;
}

Result<Principal> Operators::Authenticate(std::string_view token) {
  // A failed attempt is a security event: audited, without the token.
  Principal unknown;
  unknown.kind = Principal::Kind::kOperator;
  unknown.name = "unknown-operator";
  const auto failed = [&] {
    return c_.Refuse(unknown, "operator.authenticate", "",
                     Error{ErrorCode::kAuthenticationFailed, "authentication failed"});
  };
  if (token.rfind(kTokenPrefix, 0) != 0) return failed();
  SKAP_ASSIGN_OR_RETURN(auto hash, crypto::Digest(crypto::Hash::kSha256, AsBytes(token)));
  SKAP_ASSIGN_OR_RETURN(
      auto rows, c_.db.Query("SELECT name FROM operators WHERE token_hash = $1", {Blob(hash)}));
  if (rows.empty()) return failed();
  auto principal = Named(AsText(rows[0][0]).value_or(""));
  if (!principal) return failed();
  return principal;
}

Result<Principal> Operators::Named(const std::string& operator_name) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "authentication failed");
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query("SELECT name, tenant_id, role, disabled FROM operators"
                                    " WHERE name = $1",
                                    {operator_name}));
  if (rows.empty() || AsInt(rows[0][3]).value_or(1) != 0) return refused;
  auto role = ParseRole(AsText(rows[0][2]).value_or(""));
  if (!role) return refused;
  Principal p;
  p.kind = Principal::Kind::kOperator;
  p.name = AsText(rows[0][0]).value_or("");
  p.tenant_id = AsText(rows[0][1]).value_or("");
  p.role = *role;
  return p;
}

Result<SecretBytes> Operators::AdminPsk(const std::string& operator_name) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "authentication failed");
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query("SELECT wrapped_admin_psk, disabled FROM operators"
                                               " WHERE name = $1",
                                               {operator_name}));
  if (rows.empty() || AsInt(rows[0][1]).value_or(1) != 0) return refused;
  const auto wrapped = AsBlob(rows[0][0]);
  if (!wrapped || wrapped->empty()) return refused;
  return c_.keystore.Unwrap(*wrapped);
}

}  // namespace skap::hub
