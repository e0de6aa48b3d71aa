// The people who run a tenant: one role each (principal.h), a token shown
// once at creation (only its hash is kept), and for the TLS admin listener
// an external PSK derived from that token, wrapped under the KEK.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "hub/registry/principal.h"
#include "hub/registry/registry_context.h"
#include "hub/registry/tenants.h"

namespace skap::hub {

// OperatorToken is an operator's credential, shown once at creation.
struct OperatorToken {
  std::string name;
  // ASCII "skapop1-" + 64 hex digits; while approval is pending, the
  // granter's part of it ("skappart1-" + 64 hex digits, proto/admin_identity.h).
  SecretBytes token;
  // Under dual control: nothing authenticates until a second tenant-admin
  // approves, who is given the other part (Operators::Approve).
  bool pending_approval = false;
};

// DualControlState is a tenant's dual control: on or off, and while on,
// the tenant-admin who asked to turn it off, until a second one does.
struct DualControlState {
  bool on = false;
  std::optional<std::string> off_requested_by;
};

// OperatorInfo is what may be shown of an operator (no token, no PSK).
struct OperatorInfo {
  std::string name;
  std::string tenant_id;
  Role role = Role::kAuditor;
  std::int64_t created_at_ms = 0;
  bool disabled = false;
  std::optional<std::int64_t> expires_at_ms;  // none: the token never expires
  bool tls = false;                           // has a PSK for the TLS admin listener
  // Under dual control: the tenant-admin whose grant (or new token) awaits a
  // second one's approval; until then the operator does not authenticate.
  std::optional<std::string> pending_approval_by;
};

class Operators {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);
  // BindWrappedKeys binds the admin PSKs wrapped before bindings to their
  // rows (schema version 10; keystore/rebind.h).
  static Result<void> BindWrappedKeys(store::Database& db, keystore::Keystore& kek);

  Operators(RegistryContext& context, Tenants& tenants) : c_(context), tenants_(tenants) {}

  // Add creates an operator in `tenant_id` with `role` (the hub, or a
  // tenant-admin of that tenant) and returns their token, once, with their
  // name: `name` qualified by the tenant's (QualifiedName), so tenants
  // choose names apart and no answer tells another tenant's. A token
  // with a `lifetime` stops authenticating that long after it is made.
  // Where the tenant has dual control, an operator a tenant-admin adds in
  // any role but auditor authenticates only once a second one approves,
  // and what is returned is only the granter's part of the token.
  Result<OperatorToken> Add(const Principal& actor, const std::string& tenant_id,
                            const std::string& name, Role role,
                            std::optional<std::chrono::seconds> lifetime = std::nullopt);
  // List is the operators of the actor's tenant (a tenant-admin or an
  // auditor), or of every tenant (the hub).
  Result<std::vector<OperatorInfo>> List(const Principal& actor);
  // Disable stops an operator at once: their token and TLS PSK no longer
  // authenticate, and a TLS connection already open is refused at its next
  // request. The hub or a tenant-admin of their tenant; not oneself (a
  // tenant would lock its last tenant-admin out). Another tenant's operator
  // is kNotFound, as a missing one.
  Result<void> Disable(const Principal& actor, const std::string& name);
  // NewToken gives an enabled operator a new token (and TLS PSK), returned
  // once; the old token and every TLS connection made with it stop at once.
  // The hub, a tenant-admin of their tenant, or the operator themself.
  // Under dual control a token one tenant-admin gives another operator
  // (not an auditor) waits for a second's approval, as a grant does; the
  // hub's is approved.
  Result<OperatorToken> NewToken(const Principal& actor, const std::string& name,
                                 std::optional<std::chrono::seconds> lifetime);
  // Approve lets an operator whose grant or token awaits approval
  // authenticate: a tenant-admin of their tenant other than the one who
  // granted it (and than the operator), or the hub. It returns, once, the
  // approver's part of the token; the operator joins it with the granter's.
  Result<OperatorToken> Approve(const Principal& actor, const std::string& name);
  // SetDualControl turns a tenant's dual control on (a tenant-admin of it,
  // with two live tenant-admins there the hub made or a second one
  // approved, or the hub) or off
  // (two different tenant-admins asking in turn, or the hub), and returns
  // how it stands.
  Result<DualControlState> SetDualControl(const Principal& actor, const std::string& tenant_id,
                                          bool on);
  // An off request a second tenant-admin has not completed lapses after
  // this long (asking again renews it).
  static constexpr std::chrono::milliseconds kOffRequestLifetime{24 * 3600 * 1000};
  Result<DualControlState> DualControlOf(const std::string& tenant_id);
  // Authenticate maps a token to its operator, or kAuthenticationFailed
  // without saying why (audited).
  Result<Principal> Authenticate(std::string_view token);
  // AdminPsk returns the epsk (proto/admin_identity.h) of an enabled operator
  // for the TLS admin listener's handshake, or kAuthenticationFailed without
  // saying why (unknown, disabled, or created before TLS existed).
  Result<SecretBytes> AdminPsk(const std::string& operator_name);
  // TenantOf is the tenant of the operator named so, enabled or not, if
  // there is one: where a refused attempt under that name is audited.
  Result<std::optional<std::string>> TenantOf(const std::string& operator_name);
  // Named is the enabled, unexpired operator of that name.
  Result<Principal> Named(const std::string& operator_name);
  // TlsPeer is how the TLS admin listener names the operator its handshake
  // authenticated: the name and the SHA-256 of the PSK the handshake used.
  // FromTlsPeer re-reads that operator per request (Named) and also checks
  // the PSK is still theirs, so a new token ends connections made with the
  // old one.
  static std::string TlsPeer(std::string_view operator_name,
                             std::span<const std::uint8_t> psk_sha256);
  Result<Principal> FromTlsPeer(std::string_view peer);

 private:
  // RefusedLogin audits a failed authentication, under `name` (for its
  // tenant) when it named an operator, and returns the refusal.
  Unexpected RefusedLogin(const std::string& name);
  // NewCredentials makes a token, its hash and its admin PSK wrapped for
  // operator `name`'s row.
  struct Credentials {
    SecretBytes token;
    std::vector<std::uint8_t> token_hash;
    std::vector<std::uint8_t> wrapped_admin_psk;
  };
  Result<Credentials> NewCredentials(const std::string& name);
  // HandOutInTransaction gives `out` the token made for operator `name`'s
  // row, or where the grant waits for approval, the granter's part of it,
  // storing the approver's part wrapped in that row (proto/admin_identity.h).
  Result<void> HandOutInTransaction(const std::string& name, SecretBytes token, OperatorToken& out);
  // QualifiedName is "NAME@TENANT" for `name` ("NAME" or already
  // "NAME@TENANT") in the tenant named `tenant_name`. Operators added by
  // earlier releases keep the unqualified names they had (their wrapped
  // PSKs are bound to those names).
  static Result<std::string> QualifiedName(const std::string& name, const std::string& tenant_name);
  // Live is the operator row's checks: enabled, not expired, and no
  // approval pending (the column after the expiry's).
  bool Live(const store::Row& row, std::size_t disabled_column, std::size_t expires_column) const;

  Result<bool> DualControlInTransaction(const std::string& tenant_id);

  RegistryContext& c_;
  Tenants& tenants_;
};

}  // namespace skap::hub
