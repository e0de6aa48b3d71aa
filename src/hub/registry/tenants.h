// The hub's tenants: each with its own networks, operators and devices.
#pragma once

#include <string>

#include "common/result.h"
#include "hub/registry/principal.h"
#include "hub/registry/registry_context.h"

namespace skap::hub {

class Tenants {
 public:
  explicit Tenants(RegistryContext& context) : c_(context) {}

  // Create makes a tenant (hub principal only: local setup) and returns its id.
  Result<std::string> Create(const Principal& actor, const std::string& name);
  // Name is a tenant's name; kNotFound if there is no such tenant.
  Result<std::string> Name(const std::string& tenant_id);

 private:
  RegistryContext& c_;
};

}  // namespace skap::hub
