#include "hub/registry/operators.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "common/ct.h"
#include "common/hex.h"
#include "crypto/hash.h"
#include "keystore/rebind.h"
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
// Version 8: tokens may expire (NULL: never).
constexpr std::string_view kOperatorsV8 = R"sql(
ALTER TABLE operators ADD COLUMN expires_at_ms BIGINT;
)sql";
// Version 11: dual control. A tenant with a row in dual_control has it on;
// there an operator granted a role (or given a token) by one tenant-admin
// waits for a second one's approval, and turning it off takes two.
constexpr std::string_view kOperatorsV11 = R"sql(
ALTER TABLE operators ADD COLUMN pending_approval_by TEXT;  -- who granted it; NULL: approved
-- Who granted the operator ('hub', or a tenant-admin), and who approved the
-- grant under dual control (NULL: nobody; both NULL for operators made
-- before this version): a tenant-admin counts towards turning dual control
-- on only if the hub made them or a second tenant-admin approved them.
ALTER TABLE operators ADD COLUMN granted_by TEXT;
ALTER TABLE operators ADD COLUMN approved_by TEXT;
-- The approver's part of a pending operator's token (wrapped): the granter
-- was given the other part, and only the two together make the token.
ALTER TABLE operators ADD COLUMN wrapped_token_part BLOB;
CREATE TABLE dual_control (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
  off_requested_by TEXT             -- the tenant-admin who asked to turn it off, until a second does
);
)sql";

// Version 12: when the off request was made; it lapses after
// Operators::kOffRequestLifetime (one made before this counts for nothing).
constexpr std::string_view kOperatorsV12 = R"sql(
ALTER TABLE dual_control ADD COLUMN off_requested_at_ms BIGINT;
)sql";

using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

constexpr std::string_view kTokenPrefix = proto::kOperatorTokenPrefix;

// CheckLifetime bounds a token's lifetime: 60 s to 10 years.
Result<void> CheckLifetime(std::optional<std::chrono::seconds> lifetime) {
  constexpr std::int64_t kMaxSeconds = std::int64_t{10} * 366 * 86400;
  if (lifetime && (lifetime->count() < 60 || lifetime->count() > kMaxSeconds)) {
    return Unexpected(ErrorCode::kInvalidArgument, "a token lives 60 s to 10 years");
  }
  return Ok();
}

std::optional<std::int64_t> ExpiresAt(std::int64_t now_ms,
                                      std::optional<std::chrono::seconds> lifetime) {
  // Out of CheckLifetime's bounds: refused before use, and never multiplied.
  if (!lifetime || !CheckLifetime(lifetime)) return std::nullopt;
  return now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(*lifetime).count();
}

// NeedsApproval: under dual control, a grant of `role` by `actor` waits for
// a second tenant-admin. The hub is trusted with every grant; an auditor
// only reads.
bool NeedsApproval(const Principal& actor, Role role) {
  return actor.kind != Principal::Kind::kHub && role != Role::kAuditor;
}

keystore::WrapBinding AdminPskBinding(const std::string& name) {
  return {keystore::kPurposeOperatorAdminPsk, keystore::RowOf({name})};
}

keystore::WrapBinding TokenPartBinding(const std::string& name) {
  return {keystore::kPurposeOperatorTokenPart, keystore::RowOf({name})};
}

}  // namespace

std::string_view Operators::MigrationSql(int version) {
  switch (version) {
    case 2:
      return kOperatorsV2;
    case 4:
      return kOperatorsV4;
    case 8:
      return kOperatorsV8;
    case 11:
      return kOperatorsV11;
    case 12:
      return kOperatorsV12;
    default:
      return {};
  }
}

Result<void> Operators::BindWrappedKeys(store::Database& db, keystore::Keystore& kek) {
  return keystore::BindWrappedColumn(
      db, kek, {"operators", "wrapped_admin_psk", {"name"}, [](const store::Row& key) {
                  return AdminPskBinding(store::AsText(key[0]).value_or(""));
                }});
}

Result<Operators::Credentials> Operators::NewCredentials(const std::string& name) {
  Credentials out;
  std::array<std::uint8_t, 32> random{};
  SKAP_RETURN_IF_ERROR(c_.rng.Fill(random));
  const std::string hex = HexEncode(random);
  SecureWipe(random.data(), random.size());
  out.token = SecretBytes::Copy(AsBytes(kTokenPrefix));
  out.token.Append(AsBytes(hex));
  SKAP_ASSIGN_OR_RETURN(out.token_hash, crypto::Digest(crypto::Hash::kSha256, out.token.Expose()));
  SKAP_ASSIGN_OR_RETURN(auto admin_psk, proto::AdminPskFromToken(out.token.Expose()));
  SKAP_ASSIGN_OR_RETURN(out.wrapped_admin_psk,
                        c_.keystore.Wrap(admin_psk.Expose(), AdminPskBinding(name)));
  return out;
}

Result<void> Operators::HandOutInTransaction(const std::string& name, SecretBytes token,
                                             OperatorToken& out) {
  if (!out.pending_approval) {
    out.token = std::move(token);
    return Ok();
  }
  // A grant that waits gives its granter one part of the token and keeps
  // the other for the approver (Approve): only the two together, which the
  // operator joins, make it.
  std::array<std::uint8_t, 32> mask{};
  SKAP_RETURN_IF_ERROR(c_.rng.Fill(mask));
  auto parts = proto::SplitOperatorToken(token.Expose(), mask);
  SecureWipe(mask.data(), mask.size());
  if (!parts) return Unexpected(std::move(parts).error());
  SKAP_ASSIGN_OR_RETURN(const auto wrapped,
                        c_.keystore.Wrap(parts->second.Expose(), TokenPartBinding(name)));
  SKAP_RETURN_IF_ERROR(c_.db.Execute("UPDATE operators SET wrapped_token_part = $2 WHERE name = $1",
                                     {name, Blob(wrapped)}));
  out.token = std::move(parts->first);
  return Ok();
}

bool Operators::Live(const store::Row& row, std::size_t disabled_column,
                     std::size_t expires_column) const {
  // The pending column follows the expiry in every query that asks.
  if (AsInt(row[disabled_column]).value_or(1) != 0) return false;
  if (AsText(row[expires_column + 1])) return false;
  const auto expires = AsInt(row[expires_column]);
  return !expires || c_.now() < *expires;
}

Result<bool> Operators::DualControlInTransaction(const std::string& tenant_id) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows, c_.db.Query("SELECT 1 FROM dual_control WHERE tenant_id = $1", {tenant_id}));
  return !rows.empty();
}

Result<std::string> Operators::QualifiedName(const std::string& name,
                                             const std::string& tenant_name) {
  // "pat@acme" is taken as "pat" in acme; in any other tenant it is refused
  // without a look at whether that tenant exists.
  std::string local = name;
  if (const auto at = name.rfind('@'); at != std::string::npos) {
    if (std::string_view(name).substr(at + 1) != tenant_name) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        "an operator's name is NAME or NAME@" + tenant_name + " in this tenant");
    }
    local = name.substr(0, at);
  }
  SKAP_RETURN_IF_ERROR(CheckName("operator", local));
  // With the '@' no operator's name is "hub" or "device:..." (other actors).
  return local + "@" + tenant_name;
}

Result<OperatorToken> Operators::Add(const Principal& actor, const std::string& tenant_id,
                                     const std::string& name, Role role,
                                     std::optional<std::chrono::seconds> lifetime) {
  OperatorToken token{{}, {}};
  const auto expires_at_ms = ExpiresAt(c_.now(), lifetime);
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    const bool allowed =
        actor.kind == Principal::Kind::kHub ||
        (IsOperatorWithRole(actor, Role::kTenantAdmin) && actor.tenant_id == tenant_id);
    if (!allowed) return Denied("adding an operator needs the tenant-admin role in that tenant");
    SKAP_ASSIGN_OR_RETURN(const std::string tenant_name, tenants_.Name(tenant_id));
    SKAP_ASSIGN_OR_RETURN(token.name, QualifiedName(name, tenant_name));
    SKAP_ASSIGN_OR_RETURN(auto taken,
                          c_.db.Query("SELECT 1 FROM operators WHERE name = $1", {token.name}));
    if (!taken.empty()) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "the tenant already has an operator of that name");
    }
    SKAP_RETURN_IF_ERROR(CheckLifetime(lifetime));
    SKAP_ASSIGN_OR_RETURN(auto made, NewCredentials(token.name));
    SKAP_ASSIGN_OR_RETURN(const bool dual, DualControlInTransaction(tenant_id));
    token.pending_approval = dual && NeedsApproval(actor, role);
    // 0 stands for "never" (NULL): no token expires at the epoch; "" for
    // no approval pending.
    const std::int64_t expires = expires_at_ms.value_or(0);
    SKAP_RETURN_IF_ERROR(
        c_.db.Execute("INSERT INTO operators (name, tenant_id, role, token_hash, wrapped_admin_psk,"
                      " created_at_ms, expires_at_ms, pending_approval_by, granted_by)"
                      " VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, 0), NULLIF($8, ''), $9)",
                      {token.name, tenant_id, std::string(RoleName(role)), Blob(made.token_hash),
                       Blob(made.wrapped_admin_psk), c_.now(), expires,
                       token.pending_approval ? actor.name : std::string(),
                       actor.kind == Principal::Kind::kHub ? std::string("hub") : actor.name}));
    SKAP_RETURN_IF_ERROR(HandOutInTransaction(token.name, std::move(made.token), token));
    nlohmann::json detail{{"tenant", tenant_id}, {"role", RoleName(role)}};
    if (expires_at_ms) detail["expires_at_ms"] = *expires_at_ms;
    if (token.pending_approval) detail["pending_approval"] = true;
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "operator.add", token.name, "ok", detail.dump(), tenant_id}, c_.now()));
    return Ok();
  });
  // Audited under the name it would have had, where it got that far.
  if (!done) {
    return c_.Refuse(actor, "operator.add", token.name.empty() ? name : token.name,
                     std::move(done).error());
  }
  return token;
}

Result<Principal> Operators::Authenticate(std::string_view token) {
  // A failed attempt is a security event: audited, without the token.
  if (token.rfind(kTokenPrefix, 0) != 0) return RefusedLogin("");
  SKAP_ASSIGN_OR_RETURN(auto hash, crypto::Digest(crypto::Hash::kSha256, AsBytes(token)));
  SKAP_ASSIGN_OR_RETURN(
      auto rows, c_.db.Query("SELECT name FROM operators WHERE token_hash = $1", {Blob(hash)}));
  if (rows.empty()) return RefusedLogin("");
  const std::string name = AsText(rows[0][0]).value_or("");
  auto principal = Named(name);
  // The token was right but its operator is disabled or expired: say whose.
  if (!principal) return RefusedLogin(name);
  return principal;
}

Unexpected Operators::RefusedLogin(const std::string& name) {
  Principal unknown;
  unknown.kind = Principal::Kind::kOperator;
  unknown.name = "unknown-operator";
  if (!name.empty()) {
    if (auto tenant = TenantOf(name); tenant && *tenant) unknown.tenant_id = **tenant;
  }
  return c_.Refuse(unknown, "operator.authenticate", name,
                   Error{ErrorCode::kAuthenticationFailed, "authentication failed"});
}

Result<Principal> Operators::Named(const std::string& operator_name) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "authentication failed");
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query("SELECT name, tenant_id, role, disabled, expires_at_ms,"
                                    " pending_approval_by FROM operators WHERE name = $1",
                                    {operator_name}));
  if (rows.empty() || !Live(rows[0], 3, 4)) return refused;
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
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query("SELECT wrapped_admin_psk, disabled, expires_at_ms,"
                                    " pending_approval_by FROM operators WHERE name = $1",
                                    {operator_name}));
  if (rows.empty() || !Live(rows[0], 1, 2)) return refused;
  const auto wrapped = AsBlob(rows[0][0]);
  if (!wrapped || wrapped->empty()) return refused;
  return c_.keystore.Unwrap(*wrapped, AdminPskBinding(operator_name));
}

Result<std::optional<std::string>> Operators::TenantOf(const std::string& operator_name) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows, c_.db.Query("SELECT tenant_id FROM operators WHERE name = $1", {operator_name}));
  if (rows.empty()) return std::optional<std::string>();
  return AsText(rows[0][0]);
}

std::string Operators::TlsPeer(std::string_view operator_name,
                               std::span<const std::uint8_t> psk_sha256) {
  // '\n' is in no operator name (CheckName).
  return std::string(operator_name) + "\n" + HexEncode(psk_sha256);
}

Result<Principal> Operators::FromTlsPeer(std::string_view peer) {
  const auto cut = peer.find('\n');
  if (cut == std::string_view::npos) return RefusedLogin("");
  const std::string name(peer.substr(0, cut));
  // A connection whose operator was disabled, expired or given a new token
  // since its handshake: refused, and audited under that name.
  auto principal = Named(name);
  if (!principal) return RefusedLogin(name);
  auto epsk = AdminPsk(name);
  if (!epsk) return RefusedLogin(name);
  SKAP_ASSIGN_OR_RETURN(auto imported, proto::ImportAdminPsk(name, epsk->Expose()));
  SKAP_ASSIGN_OR_RETURN(auto used_now,
                        crypto::Digest(crypto::Hash::kSha256, imported.psk.Expose()));
  // A public hash of a 384-bit PSK; compared in constant time all the same.
  const std::string expected = HexEncode(used_now);
  if (!ct::Equal(AsBytes(expected), AsBytes(peer.substr(cut + 1)))) return RefusedLogin(name);
  return principal;
}

Result<std::vector<OperatorInfo>> Operators::List(const Principal& actor) {
  const bool hub = actor.kind == Principal::Kind::kHub;
  if (!hub && !IsOperatorWithRole(actor, Role::kTenantAdmin) &&
      !IsOperatorWithRole(actor, Role::kAuditor)) {
    return Denied("listing operators needs the tenant-admin or auditor role");
  }
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      hub ? c_.db.Query("SELECT name, tenant_id, role, created_at_ms, disabled, expires_at_ms,"
                        " wrapped_admin_psk IS NOT NULL, pending_approval_by FROM operators"
                        " ORDER BY tenant_id, name")
          : c_.db.Query("SELECT name, tenant_id, role, created_at_ms, disabled, expires_at_ms,"
                        " wrapped_admin_psk IS NOT NULL, pending_approval_by FROM operators"
                        " WHERE tenant_id = $1 ORDER BY name",
                        {actor.tenant_id}));
  std::vector<OperatorInfo> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    OperatorInfo o;
    o.name = AsText(row[0]).value_or("");
    o.tenant_id = AsText(row[1]).value_or("");
    const auto role = ParseRole(AsText(row[2]).value_or(""));
    if (role) o.role = *role;
    o.created_at_ms = AsInt(row[3]).value_or(0);
    o.disabled = AsInt(row[4]).value_or(1) != 0;
    o.expires_at_ms = AsInt(row[5]);
    o.tls = AsInt(row[6]).value_or(0) != 0;
    o.pending_approval_by = AsText(row[7]);
    out.push_back(std::move(o));
  }
  return out;
}

Result<void> Operators::Disable(const Principal& actor, const std::string& name) {
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto rows,
                          c_.db.Query("SELECT tenant_id FROM operators WHERE name = $1", {name}));
    const bool hub = actor.kind == Principal::Kind::kHub;
    // Another tenant's operator is answered as a missing one: no oracle.
    if (rows.empty() || (!hub && AsText(rows[0][0]).value_or("") != actor.tenant_id)) {
      return Unexpected(
          ErrorCode::kNotFound,
          "no such operator (an operator's name is NAME@TENANT, as operator list shows)");
    }
    if (!hub && !IsOperatorWithRole(actor, Role::kTenantAdmin)) {
      return Denied("disabling an operator needs the tenant-admin role");
    }
    if (!hub && actor.name == name) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        "an operator cannot disable themself: ask another tenant-admin");
    }
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "UPDATE operators SET disabled = 1, wrapped_token_part = NULL WHERE name = $1", {name}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "operator.disable", name, "ok", "{}", AsText(rows[0][0]).value_or("")},
        c_.now()));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "operator.disable", name, std::move(done).error());
  return Ok();
}

Result<OperatorToken> Operators::NewToken(const Principal& actor, const std::string& name,
                                          std::optional<std::chrono::seconds> lifetime) {
  OperatorToken token{name, {}};
  const auto expires_at_ms = ExpiresAt(c_.now(), lifetime);
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto rows,
                          c_.db.Query("SELECT tenant_id, disabled, role, expires_at_ms,"
                                      " pending_approval_by FROM operators WHERE name = $1",
                                      {name}));
    const bool hub = actor.kind == Principal::Kind::kHub;
    if (rows.empty() || (!hub && AsText(rows[0][0]).value_or("") != actor.tenant_id)) {
      return Unexpected(
          ErrorCode::kNotFound,
          "no such operator (an operator's name is NAME@TENANT, as operator list shows)");
    }
    const bool self = !hub && actor.name == name;
    if (!hub && !self) {
      if (!IsOperatorWithRole(actor, Role::kTenantAdmin)) {
        return Denied("a new token for another operator needs the tenant-admin role");
      }
      // Else one tenant-admin could become another, and act in their name.
      if (AsText(rows[0][2]).value_or("") == RoleName(Role::kTenantAdmin)) {
        return Denied(
            "a tenant-admin's new token comes from themself or the hub (skapd operator token)");
      }
    }
    if (AsInt(rows[0][1]).value_or(1) != 0) {
      return Unexpected(ErrorCode::kFailedPrecondition, "the operator is disabled");
    }
    SKAP_RETURN_IF_ERROR(CheckLifetime(lifetime));
    // Without a lifetime the token keeps the expiry it had; a lapsed one
    // needs a lifetime given. Renewing one's own token never moves its
    // expiry later.
    const auto current = AsInt(rows[0][3]);
    std::optional<std::int64_t> expires_at = expires_at_ms;
    if (!expires_at && current) {
      // A lapsed token is not made permanent by a renewal that says nothing.
      if (*current <= c_.now()) {
        return Unexpected(ErrorCode::kInvalidArgument,
                          "the token expired: give the new one a lifetime (--expires-in-days)");
      }
      expires_at = current;
    }
    if (self && current) expires_at = std::min(expires_at.value_or(*current), *current);
    SKAP_ASSIGN_OR_RETURN(auto made, NewCredentials(name));
    // Whoever holds a token acts in the role: under dual control a token one
    // tenant-admin asks for another operator waits for a second's approval,
    // as a grant does, and goes to the approver; the old one stops now. The
    // hub's approves; one's own keeps what was.
    const std::string tenant = AsText(rows[0][0]).value_or("");
    const auto role = ParseRole(AsText(rows[0][2]).value_or(""));
    SKAP_ASSIGN_OR_RETURN(const bool dual, DualControlInTransaction(tenant));
    token.pending_approval = !self && dual && role && NeedsApproval(actor, *role);
    const std::string pending = token.pending_approval ? actor.name
                                : self                 ? AsText(rows[0][4]).value_or("")
                                                       : std::string();
    // 0 stands for "never" (NULL): no token expires at the epoch.
    const std::int64_t expires = expires_at.value_or(0);
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "UPDATE operators SET token_hash = $2, wrapped_admin_psk = $3,"
        " expires_at_ms = NULLIF($4, 0), pending_approval_by = NULLIF($5, ''),"
        " wrapped_token_part = NULL WHERE name = $1",
        {name, Blob(made.token_hash), Blob(made.wrapped_admin_psk), expires, pending}));
    SKAP_RETURN_IF_ERROR(HandOutInTransaction(name, std::move(made.token), token));
    nlohmann::json detail = nlohmann::json::object();
    if (expires_at) detail["expires_at_ms"] = *expires_at;
    if (token.pending_approval) detail["pending_approval"] = true;
    SKAP_RETURN_IF_ERROR(
        c_.audit.AppendInCurrentTransaction({actor.AuditName(), "operator.token", name, "ok",
                                             detail.dump(), AsText(rows[0][0]).value_or("")},
                                            c_.now()));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "operator.token", name, std::move(done).error());
  return token;
}

Result<OperatorToken> Operators::Approve(const Principal& actor, const std::string& name) {
  OperatorToken token{name, {}};
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(
        auto rows,
        c_.db.Query(
            "SELECT tenant_id, pending_approval_by, disabled, wrapped_token_part FROM operators"
            " WHERE name = $1",
            {name}));
    const bool hub = actor.kind == Principal::Kind::kHub;
    if (rows.empty() || (!hub && AsText(rows[0][0]).value_or("") != actor.tenant_id)) {
      return Unexpected(
          ErrorCode::kNotFound,
          "no such operator (an operator's name is NAME@TENANT, as operator list shows)");
    }
    if (!hub && !IsOperatorWithRole(actor, Role::kTenantAdmin)) {
      return Denied("approving a grant needs the tenant-admin role");
    }
    const auto granted_by = AsText(rows[0][1]);
    if (!granted_by) {
      return Unexpected(ErrorCode::kFailedPrecondition, "nothing of that operator awaits approval");
    }
    if (AsInt(rows[0][2]).value_or(1) != 0) {
      return Unexpected(ErrorCode::kFailedPrecondition, "the operator is disabled");
    }
    if (!hub && (actor.name == *granted_by || actor.name == name)) {
      return Denied("the tenant-admin who granted it cannot approve it: a second one must");
    }
    // The approver is given the other part of the token; the granter holds
    // one, and neither alone authenticates.
    const auto wrapped_part = AsBlob(rows[0][3]);
    if (!wrapped_part || wrapped_part->empty()) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "the grant keeps no part for an approver: grant it again");
    }
    SKAP_ASSIGN_OR_RETURN(token.token, c_.keystore.Unwrap(*wrapped_part, TokenPartBinding(name)));
    SKAP_RETURN_IF_ERROR(
        c_.db.Execute("UPDATE operators SET pending_approval_by = NULL, approved_by = $2,"
                      " wrapped_token_part = NULL WHERE name = $1",
                      {name, hub ? std::string("hub") : actor.name}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "operator.approve", name, "ok",
         nlohmann::json{{"granted_by", *granted_by}}.dump(), AsText(rows[0][0]).value_or("")},
        c_.now()));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "operator.approve", name, std::move(done).error());
  return token;
}

Result<DualControlState> Operators::DualControlOf(const std::string& tenant_id) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query("SELECT off_requested_by, off_requested_at_ms FROM dual_control"
                                    " WHERE tenant_id = $1",
                                    {tenant_id}));
  DualControlState out;
  out.on = !rows.empty();
  if (!out.on) return out;
  // A request a second tenant-admin did not complete in time lapses: it
  // cannot wait for months to be completed by someone who never saw it.
  const auto asked_at = AsInt(rows[0][1]);
  if (asked_at && c_.now() - *asked_at < kOffRequestLifetime.count()) {
    out.off_requested_by = AsText(rows[0][0]);
  }
  return out;
}

Result<DualControlState> Operators::SetDualControl(const Principal& actor,
                                                   const std::string& tenant_id, bool on) {
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    const bool hub = actor.kind == Principal::Kind::kHub;
    if (!hub && !(IsOperatorWithRole(actor, Role::kTenantAdmin) && actor.tenant_id == tenant_id)) {
      return Denied("dual control is set by a tenant-admin of the tenant");
    }
    SKAP_RETURN_IF_ERROR(tenants_.Name(tenant_id));
    SKAP_ASSIGN_OR_RETURN(const auto now, DualControlOf(tenant_id));
    std::string change;
    if (on && !now.on) {
      // Else nobody could approve a grant: the tenant would need the hub.
      SKAP_ASSIGN_OR_RETURN(auto admins,
                            c_.db.Query("SELECT disabled, expires_at_ms, pending_approval_by"
                                        " FROM operators WHERE tenant_id = $1 AND role = $2"
                                        " AND (granted_by = 'hub' OR approved_by IS NOT NULL)",
                                        {tenant_id, std::string(RoleName(Role::kTenantAdmin))}));
      const auto live = std::count_if(admins.begin(), admins.end(),
                                      [&](const store::Row& row) { return Live(row, 0, 1); });
      // Counted only if the hub made them or a second one approved them: a
      // tenant-admin another made alone may be that one's second self.
      if (live < 2) {
        return Unexpected(ErrorCode::kFailedPrecondition,
                          "dual control needs two tenant-admins the hub made (skapd operator add)"
                          " or a second tenant-admin approved");
      }
      SKAP_RETURN_IF_ERROR(
          c_.db.Execute("INSERT INTO dual_control (tenant_id) VALUES ($1)", {tenant_id}));
      change = "on";
    } else if (on && now.off_requested_by) {
      SKAP_RETURN_IF_ERROR(
          c_.db.Execute("UPDATE dual_control SET off_requested_by = NULL, off_requested_at_ms ="
                        " NULL WHERE tenant_id = $1",
                        {tenant_id}));
      change = "off request withdrawn";
    } else if (!on && now.on) {
      // One tenant-admin asks, a second one (or the hub) turns it off: else
      // one could turn it off, grant alone, and turn it on again. A request
      // whose tenant-admin is no longer live counts for nothing.
      const bool second = now.off_requested_by && *now.off_requested_by != actor.name &&
                          Named(*now.off_requested_by).has_value();
      if (hub || second) {
        SKAP_RETURN_IF_ERROR(
            c_.db.Execute("DELETE FROM dual_control WHERE tenant_id = $1", {tenant_id}));
        change = "off";
      } else {
        // A new request, or the same tenant-admin's again: renewed.
        SKAP_RETURN_IF_ERROR(
            c_.db.Execute("UPDATE dual_control SET off_requested_by = $2, off_requested_at_ms = $3"
                          " WHERE tenant_id = $1",
                          {tenant_id, actor.name, c_.now()}));
        change = now.off_requested_by == actor.name ? "off request renewed" : "off requested";
      }
    }
    if (change.empty()) return Ok();  // as it was: nothing to audit
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "tenant.dual_control", tenant_id, "ok",
         nlohmann::json{{"change", change}}.dump(), tenant_id},
        c_.now()));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "tenant.dual_control", tenant_id, std::move(done).error());
  return DualControlOf(tenant_id);
}

}  // namespace skap::hub
