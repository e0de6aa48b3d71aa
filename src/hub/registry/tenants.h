// The hub's tenants: each with its own networks, operators and devices.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "hub/registry/principal.h"
#include "hub/registry/registry_context.h"

namespace skap::hub {

class Tenants {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);

  explicit Tenants(RegistryContext& context) : c_(context) {}

  // Create makes a tenant (hub principal only: local setup) and returns its id.
  Result<std::string> Create(const Principal& actor, const std::string& name);
  // Name is a tenant's name; kNotFound if there is no such tenant.
  Result<std::string> Name(const std::string& tenant_id);
  // IdOf is the id of the tenant named so; kNotFound if there is none.
  Result<std::string> IdOf(const std::string& name);

 private:
  RegistryContext& c_;
};

}  // namespace skap::hub
