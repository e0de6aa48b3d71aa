// The people who run a tenant: one role each (principal.h), a token shown
// once at creation (only its hash is kept), and for the TLS admin listener
// an external PSK derived from that token, wrapped under the KEK.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "hub/registry/principal.h"
#include "hub/registry/registry_context.h"
#include "hub/registry/tenants.h"

namespace skap::hub {

// OperatorToken is an operator's credential, shown once at creation.
struct OperatorToken {
  std::string name;
  SecretBytes token;  // ASCII "skapop1-" + 64 hex digits
};

class Operators {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);

  Operators(RegistryContext& context, Tenants& tenants) : c_(context), tenants_(tenants) {}

  // Add creates an operator in `tenant_id` with `role` (the hub, or a
  // tenant-admin of that tenant) and returns their token, once.
  Result<OperatorToken> Add(const Principal& actor, const std::string& tenant_id,
                            const std::string& name, Role role);
  // Authenticate maps a token to its operator, or kAuthenticationFailed
  // without saying why (audited).
  Result<Principal> Authenticate(std::string_view token);
  // AdminPsk returns the epsk (proto/admin_identity.h) of an enabled operator
  // for the TLS admin listener's handshake, or kAuthenticationFailed without
  // saying why (unknown, disabled, or created before TLS existed).
  Result<SecretBytes> AdminPsk(const std::string& operator_name);
  // Named is the operator a TLS handshake authenticated, re-read per request
  // so that a disabled operator stops at once.
  Result<Principal> Named(const std::string& operator_name);

 private:
  RegistryContext& c_;
  Tenants& tenants_;
};

}  // namespace skap::hub
