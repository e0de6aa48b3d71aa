// A network's agreement settings: its hub set and threshold, and which of
// its device pairs may agree keys (docs/protocol.md, "Parameters").
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "crypto/uuid.h"
#include "hub/registry/registry.h"
#include "pairwise/agreement_params.h"

namespace skap::hub {
namespace {

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

std::string_view PairPolicyName(PairPolicy policy) {
  return policy == PairPolicy::kAny ? "any" : "allow-list";
}

Result<Network> Registry::NetworkWhere(std::string_view where,
                                       std::initializer_list<store::Value> params) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db_.Query(std::string(kNetworkColumns) + std::string(where), params));
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
    n.hub_set = {hub_id_};  // never configured: this hub alone, k = 1
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

Result<Network> Registry::NetworkById(const std::string& network_id) {
  return NetworkWhere("WHERE n.id = $1", {network_id});
}

Result<Network> Registry::GetNetwork(const Principal& actor, const std::string& name) {
  if (actor.kind != Principal::Kind::kOperator) {
    return Unexpected(ErrorCode::kInvalidArgument, "networks are looked up by operators");
  }
  return NetworkWhere("WHERE n.tenant_id = $1 AND n.name = $2", {actor.tenant_id, name});
}

Result<Network> Registry::ChangeNetwork(
    const Principal& actor, const std::string& name, const std::string& action,
    const std::function<Result<std::string>(const Network&)>& change) {
  Network result;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    if (actor.kind != Principal::Kind::kOperator || actor.role != Role::kTenantAdmin) {
      return Unexpected(ErrorCode::kPermissionDenied,
                        "changing a network needs the tenant-admin role");
    }
    SKAP_ASSIGN_OR_RETURN(auto network, GetNetwork(actor, name));
    SKAP_ASSIGN_OR_RETURN(auto detail, change(network));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), action, network.id, "ok", detail}, now_()));
    SKAP_ASSIGN_OR_RETURN(result, NetworkById(network.id));
    return Ok();
  });
  if (!done) return Refuse(actor, action, name, std::move(done).error());
  return result;
}

Result<Network> Registry::SetNetworkHubs(const Principal& actor, const std::string& name,
                                         std::vector<std::string> hub_ids, unsigned threshold) {
  return ChangeNetwork(
      actor, name, "network.set-hubs", [&](const Network& network) -> Result<std::string> {
        SKAP_RETURN_IF_ERROR(CheckHubSet(hub_ids, threshold, hub_id_));
        std::sort(hub_ids.begin(), hub_ids.end());
        const nlohmann::json set = hub_ids;
        SKAP_RETURN_IF_ERROR(
            db_.Execute("UPDATE networks SET hub_set = $2, threshold = $3 WHERE id = $1",
                        {network.id, set.dump(), std::int64_t{threshold}}));
        return nlohmann::json{{"hub_set", set}, {"threshold", threshold}}.dump();
      });
}

Result<Network> Registry::SetPairPolicy(const Principal& actor, const std::string& name,
                                        PairPolicy policy) {
  return ChangeNetwork(
      actor, name, "network.pair-policy", [&](const Network& network) -> Result<std::string> {
        const std::string text(PairPolicyName(policy));
        SKAP_RETURN_IF_ERROR(
            db_.Execute("UPDATE networks SET pair_policy = $2 WHERE id = $1", {network.id, text}));
        return nlohmann::json{{"pair_policy", text}}.dump();
      });
}

Result<void> Registry::AllowPair(const Principal& actor, const std::string& network_name,
                                 const std::string& device_a, const std::string& device_b,
                                 bool allow) {
  auto changed = ChangeNetwork(
      actor, network_name, allow ? "network.allow-pair" : "network.disallow-pair",
      [&](const Network& network) -> Result<std::string> {
        if (device_a == device_b) {
          return Unexpected(ErrorCode::kInvalidArgument, "a pair is two different devices");
        }
        for (const auto& id : {device_a, device_b}) {
          auto device = LoadDevice(id);
          if (!device || device->network_id != network.id) {
            return Unexpected(ErrorCode::kNotFound, "no such device in " + network.name);
          }
        }
        const auto& [low, high] = std::minmax(device_a, device_b);
        if (allow) {
          SKAP_RETURN_IF_ERROR(db_.Execute(
              "INSERT INTO allowed_pairs (network_id, device_low, device_high, created_at_ms)"
              " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
              {network.id, low, high, now_()}));
        } else {
          SKAP_RETURN_IF_ERROR(
              db_.Execute("DELETE FROM allowed_pairs WHERE network_id = $1 AND device_low = $2"
                          " AND device_high = $3",
                          {network.id, low, high}));
        }
        return nlohmann::json{{"devices", {low, high}}}.dump();
      });
  if (!changed) return Unexpected(std::move(changed).error());
  return Ok();
}

Result<bool> Registry::PairAllowed(const Network& network, const std::string& device_a,
                                   const std::string& device_b) {
  if (network.pair_policy == PairPolicy::kAny) return true;
  const auto& [low, high] = std::minmax(device_a, device_b);
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT 1 FROM allowed_pairs WHERE network_id = $1"
                                             " AND device_low = $2 AND device_high = $3",
                                             {network.id, low, high}));
  return !rows.empty();
}

}  // namespace skap::hub
