// A tenant's closed networks and their agreement settings: the hubs their
// pairwise agreements span and the threshold k (docs/protocol.md,
// "Parameters"), and which of their device pairs may agree keys.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "hub/registry/principal.h"
#include "hub/registry/registry_context.h"

namespace skap::hub {

// PairPolicy says which devices of a network may agree keys with each other.
enum class PairPolicy { kAny, kAllowList };
std::string_view PairPolicyName(PairPolicy policy);

// Network is a closed network and its agreement settings: the hubs its
// pairwise agreements span (sorted ids, this hub among them) and the
// threshold k.
struct Network {
  std::string id;
  std::string name;
  std::string tenant_id;
  std::vector<std::string> hub_set;
  unsigned threshold = 1;
  PairPolicy pair_policy = PairPolicy::kAny;
};

class Networks {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);

  explicit Networks(RegistryContext& context) : c_(context) {}

  // Create makes a closed network in the actor's tenant (tenant-admin).
  Result<std::string> Create(const Principal& actor, const std::string& name);
  // Get returns a network of the actor's tenant (any operator role).
  Result<Network> Get(const Principal& actor, const std::string& name);
  // SetHubs sets the hubs and threshold of a network's agreements
  // (tenant-admin). `hub_ids` must include this hub; 1 <= k <= n <= 16.
  // The tenant admin sets the same at every hub of the network.
  Result<Network> SetHubs(const Principal& actor, const std::string& name,
                          std::vector<std::string> hub_ids, unsigned threshold);
  // SetPairPolicy chooses between any pair and an allow-list (tenant-admin).
  Result<Network> SetPairPolicy(const Principal& actor, const std::string& name, PairPolicy policy);
  // ById returns a network for the hub's own checks.
  Result<Network> ById(const std::string& network_id);
  // InTenant returns the network `name` of `tenant_id`.
  Result<Network> InTenant(const std::string& tenant_id, const std::string& name);

  // Change runs `change` on a network of the actor's tenant as its tenant
  // admin, in one transaction audited as `action` with the detail `change`
  // returns; it returns the network as it then is.
  Result<Network> Change(const Principal& actor, const std::string& name, const std::string& action,
                         const std::function<Result<std::string>(const Network&)>& change);

 private:
  // Where loads the one network that `where` (a WHERE clause over networks
  // n) selects with `params`.
  Result<Network> Where(std::string_view where, std::initializer_list<store::Value> params);

  RegistryContext& c_;
};

}  // namespace skap::hub
