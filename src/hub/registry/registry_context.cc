#include "hub/registry/registry_context.h"

#include <nlohmann/json.hpp>

#include "proto/names.h"

namespace skap::hub {

Unexpected RegistryContext::Refuse(const Principal& actor, const std::string& action,
                                   const std::string& target, Error error) const {
  const bool refused =
      error.code == ErrorCode::kPermissionDenied || error.code == ErrorCode::kNotFound ||
      error.code == ErrorCode::kFailedPrecondition || error.code == ErrorCode::kInvalidArgument ||
      error.code == ErrorCode::kAuthenticationFailed;
  const AuditRecord record{
      actor.AuditName(), action, target,
      std::string(refused ? "refused:" : "failed:") + std::string(ErrorCodeName(error.code)),
      nlohmann::json{{"reason", error.message}}.dump(),
      // Seen by the actor's own tenant: whoever was refused, where they
      // belong (the hub's for the hub itself and unproven claims).
      actor.tenant_id};
  // The refusal is recorded even though the action left no other trace; if
  // even that fails, the caller still learns why the action was refused.
  (void)store::InTransaction(db, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(audit.AppendInCurrentTransaction(record, now()));
    return Ok();
  });
  return Unexpected(std::move(error));
}

Result<void> CheckName(const std::string& kind, const std::string& name) {
  if (!proto::IsValidName(name)) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      kind + " name must be 1-64 characters of letters, digits, '.', '_' or '-'");
  }
  return Ok();
}

}  // namespace skap::hub
