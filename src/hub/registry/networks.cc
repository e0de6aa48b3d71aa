#include "hub/registry/networks.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "crypto/uuid.h"
#include "pairwise/agreement_params.h"

namespace skap::hub {
namespace {

// This class's part of hub.db's schema (hub/schema.cc orders the whole):
// version 2 made the networks; version 5 gave each its hub set, threshold and
// pair policy.
constexpr std::string_view kNetworksV2 = R"sql(CREATE TABLE networks (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  name TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  UNIQUE (tenant_id, name)
);
)sql";
constexpr std::string_view kNetworksV5 = R"sql(
ALTER TABLE networks ADD COLUMN hub_set TEXT;   -- JSON array of hub ids, sorted; NULL: this hub alone
ALTER TABLE networks ADD COLUMN threshold BIGINT NOT NULL DEFAULT 1;
ALTER TABLE networks ADD COLUMN pair_policy TEXT NOT NULL DEFAULT 'any';  -- 'any' or 'allow-list'
)sql";

using store::AsInt;
using store::AsText;

constexpr std::string_view kNetworkColumns =
    "SELECT n.id, n.name, n.tenant_id, n.hub_set, n.threshold, n.pair_policy FROM networks n ";

Result<void> CheckHubSet(const std::vector<std::string>& hubs, unsigned threshold,
                         const std::string& this_hub) {
  if (hubs.empty() || hubs.size() > pairwise::kMaxHubs) {
    return Unexpected(ErrorCode::kInvalidArgument, "a network has 1 to 16 hubs");
  }
  if (threshold < 1 || threshold > hubs.size()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "the threshold must be between 1 and the number of hubs");
  }
  for (const auto& hub : hubs) {
    if (!crypto::IsCanonicalUuid(hub)) {
      return Unexpected(ErrorCode::kInvalidArgument, "'" + hub + "' is not a hub id");
    }
  }
  if (std::set<std::string>(hubs.begin(), hubs.end()).size() != hubs.size()) {
    return Unexpected(ErrorCode::kInvalidArgument, "a hub is named twice");
  }
  if (std::find(hubs.begin(), hubs.end(), this_hub) == hubs.end()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "the hub set must include this hub (" + this_hub + ")");
  }
  return Ok();
}

}  // namespace

std::string_view Networks::MigrationSql(int version) {
  switch (version) {
    case 2:
      return kNetworksV2;
    case 5:
      return kNetworksV5;
    default:
      return {};
  }
}

std::string_view PairPolicyName(PairPolicy policy) {
  return policy == PairPolicy::kAny ? "any" : "allow-list";
}

Result<Network> Networks::Where(std::string_view where,
                                std::initializer_list<store::Value> params) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query(std::string(kNetworkColumns) + std::string(where), params));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, "no such network");
  const auto& row = rows[0];
  Network n;
  n.id = AsText(row[0]).value_or("");
  n.name = AsText(row[1]).value_or("");
  n.tenant_id = AsText(row[2]).value_or("");
  n.threshold = static_cast<unsigned>(AsInt(row[4]).value_or(1));
  n.pair_policy =
      AsText(row[5]).value_or("any") == "any" ? PairPolicy::kAny : PairPolicy::kAllowList;
  const auto hubs = AsText(row[3]);
  if (!hubs) {
    n.hub_set = {c_.hub_id};  // never configured: this hub alone, k = 1
    return n;
  }
  const auto parsed = nlohmann::json::parse(*hubs, nullptr, false);
  if (!parsed.is_array()) return Unexpected(ErrorCode::kMalformedInput, "stored hub set");
  for (const auto& hub : parsed) {
    if (!hub.is_string()) return Unexpected(ErrorCode::kMalformedInput, "stored hub set");
    n.hub_set.push_back(hub.get<std::string>());
  }
  return n;
}

Result<Network> Networks::ById(const std::string& network_id) {
  return Where("WHERE n.id = $1", {network_id});
}

Result<Network> Networks::InTenant(const std::string& tenant_id, const std::string& name) {
  return Where("WHERE n.tenant_id = $1 AND n.name = $2", {tenant_id, name});
}

Result<Network> Networks::Get(const Principal& actor, const std::string& name) {
  if (actor.kind != Principal::Kind::kOperator) {
    return Unexpected(ErrorCode::kInvalidArgument, "networks are looked up by operators");
  }
  return InTenant(actor.tenant_id, name);
}

Result<std::string> Networks::Create(const Principal& actor, const std::string& name) {
  std::string id;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    if (!IsOperatorWithRole(actor, Role::kTenantAdmin)) {
      return Denied("creating a network needs the tenant-admin role");
    }
    SKAP_RETURN_IF_ERROR(CheckName("network", name));
    SKAP_ASSIGN_OR_RETURN(id, crypto::NewUuid(c_.rng));
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "INSERT INTO networks (id, tenant_id, name, created_at_ms) VALUES ($1, $2, $3, $4)",
        {id, actor.tenant_id, name, c_.now()}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "network.create", id, "ok", nlohmann::json{{"name", name}}.dump(),
         actor.tenant_id},
        c_.now()));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "network.create", name, std::move(done).error());
  return id;
}

Result<Network> Networks::Change(const Principal& actor, const std::string& name,
                                 const std::string& action,
                                 const std::function<Result<std::string>(const Network&)>& change) {
  Network result;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    if (actor.kind != Principal::Kind::kOperator || actor.role != Role::kTenantAdmin) {
      return Unexpected(ErrorCode::kPermissionDenied,
                        "changing a network needs the tenant-admin role");
    }
    SKAP_ASSIGN_OR_RETURN(auto network, Get(actor, name));
    SKAP_ASSIGN_OR_RETURN(auto detail, change(network));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), action, network.id, "ok", detail, network.tenant_id}, c_.now()));
    SKAP_ASSIGN_OR_RETURN(result, ById(network.id));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, action, name, std::move(done).error());
  return result;
}

Result<Network> Networks::SetHubs(const Principal& actor, const std::string& name,
                                  std::vector<std::string> hub_ids, unsigned threshold) {
  return Change(
      actor, name, "network.set-hubs", [&](const Network& network) -> Result<std::string> {
        SKAP_RETURN_IF_ERROR(CheckHubSet(hub_ids, threshold, c_.hub_id));
        std::sort(hub_ids.begin(), hub_ids.end());
        const nlohmann::json set = hub_ids;
        SKAP_RETURN_IF_ERROR(
            c_.db.Execute("UPDATE networks SET hub_set = $2, threshold = $3 WHERE id = $1",
                          {network.id, set.dump(), std::int64_t{threshold}}));
        return nlohmann::json{{"hub_set", set}, {"threshold", threshold}}.dump();
      });
}

Result<Network> Networks::SetPairPolicy(const Principal& actor, const std::string& name,
                                        PairPolicy policy) {
  return Change(actor, name, "network.pair-policy",
                [&](const Network& network) -> Result<std::string> {
                  const std::string text(PairPolicyName(policy));
                  SKAP_RETURN_IF_ERROR(c_.db.Execute(
                      "UPDATE networks SET pair_policy = $2 WHERE id = $1", {network.id, text}));
                  return nlohmann::json{{"pair_policy", text}}.dump();
                });
}

}  // namespace skap::hub
