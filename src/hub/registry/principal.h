// Who is acting on the hub.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace skap::hub {

// Role is an operator's single role. Separation of duties rests on roles
// being distinct people: an operator has exactly one.
enum class Role { kTenantAdmin, kProvisioner, kAdmitter, kAuditor };

// RoleName returns "tenant-admin", "provisioner", "admitter" or "auditor".
std::string_view RoleName(Role role);
// ParseRole is RoleName's inverse.
Result<Role> ParseRole(std::string_view name);

// Principal is an authenticated actor: the hub itself (local setup), an
// operator (admin API), or a device (its channel). Authentication happens
// before a Principal exists; the registry only authorises.
struct Principal {
  enum class Kind { kHub, kOperator, kDevice };
  Kind kind = Kind::kHub;
  std::string name;            // operator name or device id; empty for the hub
  std::string tenant_id;       // operators and devices
  std::optional<Role> role;    // operators
  std::string network_id;      // devices
  bool can_provision = false;  // devices with the provisioner capability

  static Principal Hub() { return Principal{}; }
  // DeviceChannel is a device known by its id alone, as on its channel:
  // enough to attribute its requests in the audit log.
  static Principal DeviceChannel(std::string device_id) {
    Principal p;
    p.kind = Kind::kDevice;
    p.name = std::move(device_id);
    return p;
  }

  // AuditName is how the principal appears in the audit log and in
  // provisioned_by / admitted_by: "hub", the operator's name, or
  // "device:<id>".
  std::string AuditName() const {
    switch (kind) {
      case Kind::kHub:
        return "hub";
      case Kind::kOperator:
        return name;
      case Kind::kDevice:
        return "device:" + name;
    }
    return "unknown";
  }
};

}  // namespace skap::hub
