#include "hub/registry/principal.h"

#include <array>
#include <utility>

namespace skap::hub {
namespace {
constexpr std::array<std::pair<Role, std::string_view>, 4> kRoles = {{
    {Role::kTenantAdmin, "tenant-admin"},
    {Role::kProvisioner, "provisioner"},
    {Role::kAdmitter, "admitter"},
    {Role::kAuditor, "auditor"},
}};
}  // namespace

std::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view name) {
  for (const auto& [r, n] : kRoles) {
    if (n == name) return r;
  }
  return Unexpected(
      ErrorCode::kInvalidArgument,
      "unknown role '" + std::string(name) + "' (tenant-admin, provisioner, admitter or auditor)");
}

}  // namespace skap::hub
