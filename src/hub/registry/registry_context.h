// What every part of the registry shares: the hub's store, KEK, randomness,
// audit log, id and clock, and the one way a refusal is recorded.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "crypto/rng.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/principal.h"
#include "keystore/keystore.h"
#include "store/database.h"

namespace skap::hub {

struct RegistryContext {
  store::Database& db;
  keystore::Keystore& keystore;
  crypto::Rng& rng;
  AuditLog& audit;
  std::string hub_id;
  Clock now;

  // Refuse audits a refused action (in a transaction of its own) and
  // returns `error`: every refusal of the hub's components goes through it.
  Unexpected Refuse(const Principal& actor, const std::string& action, const std::string& target,
                    Error error) const;
};

// Denied is a refusal for want of a role or duty.
inline Unexpected Denied(const std::string& why) {
  return Unexpected(ErrorCode::kPermissionDenied, why);
}

// IsOperatorWithRole is true for an operator holding `role`.
inline bool IsOperatorWithRole(const Principal& actor, Role role) {
  return actor.kind == Principal::Kind::kOperator && actor.role == role;
}

// CheckName holds a new name to the registry's rule (proto/names.h).
Result<void> CheckName(const std::string& kind, const std::string& name);

}  // namespace skap::hub
