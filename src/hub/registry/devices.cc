#include "hub/registry/devices.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "common/crash_point.h"
#include "common/ct.h"
#include "common/hex.h"
#include "crypto/channel_key.h"
#include "crypto/hash.h"
#include "crypto/uuid.h"

namespace skap::hub {
namespace {

// This class's part of hub.db's schema (hub/schema.cc orders the whole):
// version 2 made the devices (provisioned -> pending -> active -> revoked, or
// -> rejected; revoked and rejected are final); version 3 let an operator ask
// for a ratchet (the flag moved to channel_keys in version 6); version 5 made
// the allow-list of pairs.
constexpr std::string_view kDevicesV2 = R"sql(CREATE TABLE devices (
  id TEXT PRIMARY KEY,              -- UUID
  network_id TEXT NOT NULL REFERENCES networks (id),
  name TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state IN ('provisioned', 'pending', 'active', 'revoked', 'rejected')),
  can_provision BIGINT NOT NULL DEFAULT 0,
  provisioned_by TEXT NOT NULL,     -- operator name, or 'device:<id>' when delegated
  parent_device TEXT REFERENCES devices (id),
  admitted_by TEXT,
  bootstrap_expires_at_ms BIGINT NOT NULL,
  device_nonce BLOB,                -- the device's contribution, from its pre-flight report
  hub_nonce BLOB,                   -- the hub's contribution, drawn at admission
  preflight TEXT,                   -- JSON: agent version, platform, entropy health, config fingerprint
  created_at_ms BIGINT NOT NULL,
  changed_at_ms BIGINT NOT NULL,
  UNIQUE (network_id, name)
);
CREATE INDEX devices_state ON devices (network_id, state);
)sql";
constexpr std::string_view kDevicesV3 =
    R"sql(ALTER TABLE devices ADD COLUMN ratchet_requested BIGINT NOT NULL DEFAULT 0;
)sql";
constexpr std::string_view kDevicesV5 = R"sql(CREATE TABLE allowed_pairs (
  network_id TEXT NOT NULL REFERENCES networks (id),
  device_low TEXT NOT NULL,         -- the two device ids, in ascending order
  device_high TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (network_id, device_low, device_high)
);
)sql";

using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

constexpr std::array<std::pair<DeviceState, std::string_view>, 5> kStates = {{
    {DeviceState::kProvisioned, "provisioned"},
    {DeviceState::kPending, "pending"},
    {DeviceState::kActive, "active"},
    {DeviceState::kRevoked, "revoked"},
    {DeviceState::kRejected, "rejected"},
}};

constexpr std::string_view kDeviceColumns =
    "SELECT d.id, d.name, d.network_id, n.name, n.tenant_id, d.state, d.can_provision,"
    " d.provisioned_by, d.parent_device, d.admitted_by, d.bootstrap_expires_at_ms, d.preflight,"
    " d.created_at_ms, d.changed_at_ms FROM devices d JOIN networks n ON n.id = d.network_id ";

Device DeviceFromRow(const store::Row& row) {
  Device d;
  d.id = AsText(row[0]).value_or("");
  d.name = AsText(row[1]).value_or("");
  d.network_id = AsText(row[2]).value_or("");
  d.network_name = AsText(row[3]).value_or("");
  d.tenant_id = AsText(row[4]).value_or("");
  d.state = ParseDeviceState(AsText(row[5]).value_or(""));
  d.can_provision = AsInt(row[6]).value_or(0) != 0;
  d.provisioned_by = AsText(row[7]).value_or("");
  d.parent_device = AsText(row[8]);
  d.admitted_by = AsText(row[9]);
  d.bootstrap_expires_at_ms = AsInt(row[10]).value_or(0);
  d.preflight = AsText(row[11]);
  d.created_at_ms = AsInt(row[12]).value_or(0);
  d.changed_at_ms = AsInt(row[13]).value_or(0);
  return d;
}

std::string StateText(DeviceState state) { return std::string(DeviceStateName(state)); }

// CheckTenantScope lets operators reach their tenant's devices and devices
// their own network's.
Result<void> CheckTenantScope(const Principal& actor, const Device& device) {
  switch (actor.kind) {
    case Principal::Kind::kHub:
      return Ok();
    case Principal::Kind::kOperator:
      if (actor.tenant_id == device.tenant_id) return Ok();
      break;
    case Principal::Kind::kDevice:
      if (actor.network_id == device.network_id) return Ok();
      break;
  }
  // The same answer as for a device that does not exist: no existence oracle
  // across tenants or networks.
  return Unexpected(ErrorCode::kNotFound, "no such device");
}

}  // namespace

std::string_view Devices::MigrationSql(int version) {
  switch (version) {
    case 2:
      return kDevicesV2;
    case 3:
      return kDevicesV3;
    case 5:
      return kDevicesV5;
    default:
      return {};
  }
}

std::string_view DeviceStateName(DeviceState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "unknown";
}

DeviceState ParseDeviceState(std::string_view name) {
  for (const auto& [state, n] : kStates) {
    if (n == name) return state;
  }
  return DeviceState::kRevoked;  // unknown text is treated as the most final state
}

Result<Device> Devices::Load(const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query(std::string(kDeviceColumns) + "WHERE d.id = $1", {device_id}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, "no such device");
  return DeviceFromRow(rows[0]);
}

Result<BootstrapGrant> Devices::Provision(const Principal& actor, const std::string& network_name,
                                          const std::string& device_name,
                                          std::chrono::milliseconds lifetime, bool can_provision,
                                          const std::optional<std::string>& device_id) {
  BootstrapGrant grant;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    std::optional<std::string> parent;
    if (actor.kind == Principal::Kind::kDevice) {
      // Delegated provisioning: trust the registry, not the principal's flags.
      SKAP_ASSIGN_OR_RETURN(auto self, Load(actor.name));
      if (self.state != DeviceState::kActive || !self.can_provision) {
        return Denied("this device may not provision other devices");
      }
      if (self.network_name != network_name) {
        return Denied("a device may provision only into its own network");
      }
      parent = self.id;
    } else if (!IsOperatorWithRole(actor, Role::kProvisioner)) {
      return Denied("provisioning needs the provisioner role");
    }
    SKAP_RETURN_IF_ERROR(CheckName("device", device_name));
    if (lifetime < std::chrono::minutes(1) || lifetime > kMaxBootstrapLifetime) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        "bootstrap lifetime must be between 1 minute and 30 days");
    }
    SKAP_ASSIGN_OR_RETURN(grant.network, networks_.InTenant(actor.tenant_id, network_name));
    SKAP_ASSIGN_OR_RETURN(grant.tenant_name, tenants_.Name(grant.network.tenant_id));
    const std::string& network_id = grant.network.id;
    std::string id;
    if (device_id) {
      if (!crypto::IsCanonicalUuid(*device_id)) {
        return Unexpected(ErrorCode::kInvalidArgument,
                          "a device id is a UUID in lowercase canonical form");
      }
      if (Load(*device_id)) {
        return Unexpected(ErrorCode::kFailedPrecondition, "device id already in use");
      }
      id = *device_id;
    } else {
      SKAP_ASSIGN_OR_RETURN(id, crypto::NewUuid(c_.rng));
    }
    const std::int64_t now = c_.now();
    const std::int64_t expires = now + lifetime.count();
    SecretBytes key(crypto::kChannelKeySize);
    SKAP_RETURN_IF_ERROR(c_.rng.Fill(key.MutableExpose()));
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "INSERT INTO devices (id, network_id, name, state, can_provision, provisioned_by,"
        " parent_device, bootstrap_expires_at_ms, created_at_ms, changed_at_ms)"
        " VALUES ($1, $2, $3, 'provisioned', $4, $5, $6, $7, $8, $8)",
        {id, network_id, device_name, std::int64_t{can_provision ? 1 : 0}, actor.AuditName(),
         store::OrNull(parent), expires, now}));
    SKAP_RETURN_IF_ERROR(keys_.StoreBootstrapInCurrentTransaction(id, key.Expose()));
    nlohmann::json detail{{"network", network_name},
                          {"name", device_name},
                          {"expires_at_ms", expires},
                          {"can_provision", can_provision}};
    if (parent) detail["parent_device"] = *parent;
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "device.provision", id, "ok", detail.dump(), grant.network.tenant_id},
        now));
    SKAP_ASSIGN_OR_RETURN(grant.device, Load(id));
    grant.hub_id = c_.hub_id;
    grant.bootstrap_key = std::move(key);
    CrashPoint("hub.provision.before-commit");
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "device.provision", device_name, std::move(done).error());
  c_.db.AfterCommit([] { CrashPoint("hub.provision.after-commit"); });
  return grant;
}

Result<std::vector<Result<BootstrapGrant>>> Devices::ProvisionBatch(
    const Principal& actor, const std::string& network_name, std::chrono::milliseconds lifetime,
    std::span<const NewDevice> devices) {
  if (devices.empty() || devices.size() > kMaxBatch) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "a batch holds 1 to " + std::to_string(kMaxBatch) + " devices");
  }
  std::vector<Result<BootstrapGrant>> out;
  out.reserve(devices.size());
  // Each Provision is a savepoint of this transaction: a refusal rolls
  // back that device alone.
  SKAP_RETURN_IF_ERROR(store::InTransaction(c_.db, [&]() -> Result<void> {
    for (const auto& d : devices) {
      out.push_back(Provision(actor, network_name, d.name, lifetime, d.can_provision));
    }
    return Ok();
  }));
  return out;
}

Result<void> Devices::RecordPreflight(const std::string& device_id, const std::string& report_json,
                                      std::span<const std::uint8_t> device_nonce) {
  const Principal device_actor = ChannelActor(device_id);
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    if (device_nonce.size() != crypto::kChannelNonceSize) {
      return Unexpected(ErrorCode::kInvalidArgument, "device nonce must be 32 bytes");
    }
    const auto report = nlohmann::json::parse(report_json, nullptr, /*allow_exceptions=*/false);
    if (!report.is_object()) {
      return Unexpected(ErrorCode::kInvalidArgument, "pre-flight report must be a JSON object");
    }
    SKAP_ASSIGN_OR_RETURN(auto device, Load(device_id));
    const std::int64_t now = c_.now();
    if (device.state == DeviceState::kPending) {
      SKAP_ASSIGN_OR_RETURN(
          auto rows, c_.db.Query("SELECT device_nonce FROM devices WHERE id = $1", {device_id}));
      const Blob stored = AsBlob(rows[0][0]).value_or(Blob{});
      if (!ct::Equal(stored, device_nonce)) {
        return Unexpected(ErrorCode::kFailedPrecondition, "bootstrap bundle already used");
      }
      // A pending device's bootstrap key expires as a provisioned one's does.
      if (now >= device.bootstrap_expires_at_ms) {
        return Unexpected(ErrorCode::kFailedPrecondition, "bootstrap bundle expired");
      }
      // The report is frozen once received: the admitter judges the first
      // one, and a later one (a restart, or someone with the bundle) changes
      // nothing.
      return Ok();
    } else if (device.state != DeviceState::kProvisioned) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "device is " + StateText(device.state) + ", not awaiting admission");
    } else if (now >= device.bootstrap_expires_at_ms) {
      return Unexpected(ErrorCode::kFailedPrecondition, "bootstrap bundle expired");
    }
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "UPDATE devices SET state = 'pending', device_nonce = $2, preflight = $3,"
        " changed_at_ms = $4 WHERE id = $1",
        {device_id, Blob(device_nonce.begin(), device_nonce.end()), report.dump(), now}));
    SKAP_RETURN_IF_ERROR(
        c_.audit.AppendInCurrentTransaction({device_actor.AuditName(), "device.preflight",
                                             device_id, "ok", report.dump(), device.tenant_id},
                                            now));
    return Ok();
  });
  if (!done) return c_.Refuse(device_actor, "device.preflight", device_id, std::move(done).error());
  return Ok();
}

Result<std::string> Devices::ReportSha256(const std::string& report) {
  SKAP_ASSIGN_OR_RETURN(auto digest, crypto::Digest(crypto::Hash::kSha256, AsBytes(report)));
  return HexEncode(digest);
}

Principal Devices::ChannelActor(const std::string& device_id) {
  Principal p = Principal::DeviceChannel(device_id);
  if (auto device = Load(device_id)) {
    p.tenant_id = device->tenant_id;
    p.network_id = device->network_id;
  }
  return p;
}

Result<Device> Devices::Admit(const Principal& actor, const std::string& device_id,
                              const std::optional<std::string>& report_sha256) {
  Device result;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto device, Load(device_id));
    SKAP_RETURN_IF_ERROR(CheckTenantScope(actor, device));
    if (!IsOperatorWithRole(actor, Role::kAdmitter))
      return Denied("admission needs the admitter role");
    // Separation of duties is enforced here, not advised.
    if (actor.AuditName() == device.provisioned_by) {
      return Denied("separation of duties: " + actor.AuditName() +
                    " provisioned this device and cannot admit it");
    }
    if (device.state != DeviceState::kPending) {
      return Unexpected(ErrorCode::kFailedPrecondition, "device is " + StateText(device.state) +
                                                            "; only pending devices (with a "
                                                            "pre-flight report) can be admitted");
    }
    const std::int64_t now = c_.now();
    if (now >= device.bootstrap_expires_at_ms) {
      return Unexpected(
          ErrorCode::kFailedPrecondition,
          "the device's bootstrap bundle expired while it waited: provision it again");
    }
    if (report_sha256) {
      SKAP_ASSIGN_OR_RETURN(const auto stored, ReportSha256(device.preflight.value_or("")));
      if (*report_sha256 != stored) {
        return Unexpected(
            ErrorCode::kFailedPrecondition,
            "the device's pre-flight report is not the one named (its SHA-256 is " + stored + ")");
      }
    }
    SKAP_ASSIGN_OR_RETURN(
        auto rows, c_.db.Query("SELECT device_nonce FROM devices WHERE id = $1", {device_id}));
    const Blob device_nonce = rows.empty() ? Blob{} : AsBlob(rows[0][0]).value_or(Blob{});
    SKAP_ASSIGN_OR_RETURN(auto hub_nonce, keys_.AdmitInCurrentTransaction(device_id, device_nonce));
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "UPDATE devices SET state = 'active', admitted_by = $2, hub_nonce = $3, changed_at_ms = $4"
        " WHERE id = $1",
        {device_id, actor.AuditName(), Blob(hub_nonce), now}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "device.admit", device_id, "ok",
         nlohmann::json{{"network", device.network_name}, {"name", device.name}}.dump(),
         device.tenant_id},
        now));
    SKAP_ASSIGN_OR_RETURN(result, Load(device_id));
    CrashPoint("hub.admit.before-commit");
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "device.admit", device_id, std::move(done).error());
  c_.db.AfterCommit([] { CrashPoint("hub.admit.after-commit"); });
  return result;
}

Result<Device> Devices::End(const Principal& actor, const std::string& device_id,
                            const std::string& action, DeviceState to) {
  Device result;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto device, Load(device_id));
    SKAP_RETURN_IF_ERROR(CheckTenantScope(actor, device));
    if (to == DeviceState::kRejected) {
      if (!IsOperatorWithRole(actor, Role::kAdmitter))
        return Denied("rejection needs the admitter role");
      if (device.state != DeviceState::kProvisioned && device.state != DeviceState::kPending) {
        return Unexpected(ErrorCode::kFailedPrecondition, "device is " + StateText(device.state) +
                                                              "; only devices awaiting "
                                                              "admission can be rejected");
      }
    } else {
      if (!IsOperatorWithRole(actor, Role::kTenantAdmin) &&
          !IsOperatorWithRole(actor, Role::kAdmitter)) {
        return Denied("revocation needs the tenant-admin or admitter role");
      }
      if (device.state == DeviceState::kRevoked || device.state == DeviceState::kRejected) {
        return Unexpected(ErrorCode::kFailedPrecondition,
                          "device is already " + StateText(device.state));
      }
    }
    const std::int64_t now = c_.now();
    // Erasing the keys is what makes the end final.
    SKAP_RETURN_IF_ERROR(keys_.EraseInCurrentTransaction(device_id));
    SKAP_RETURN_IF_ERROR(
        c_.db.Execute("UPDATE devices SET state = $2, changed_at_ms = $3 WHERE id = $1",
                      {device_id, StateText(to), now}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), action, device_id, "ok",
         nlohmann::json{{"from", DeviceStateName(device.state)}}.dump(), device.tenant_id},
        now));
    SKAP_ASSIGN_OR_RETURN(result, Load(device_id));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, action, device_id, std::move(done).error());
  if (to == DeviceState::kRevoked) {
    for (const auto& observer : revoked_observers_) observer(device_id);
  }
  return result;
}

Result<Device> Devices::Reject(const Principal& actor, const std::string& device_id) {
  return End(actor, device_id, "device.reject", DeviceState::kRejected);
}

Result<Device> Devices::Revoke(const Principal& actor, const std::string& device_id) {
  return End(actor, device_id, "device.revoke", DeviceState::kRevoked);
}

Result<Device> Devices::Get(const Principal& actor, const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto device, Load(device_id));
  SKAP_RETURN_IF_ERROR(CheckTenantScope(actor, device));
  return device;
}

Result<std::vector<Device>> Devices::List(const Principal& actor, const std::string& network_name,
                                          std::optional<DeviceState> state) {
  if (actor.kind == Principal::Kind::kHub) {
    return Unexpected(ErrorCode::kInvalidArgument, "listing needs an operator or device");
  }
  const std::optional<std::string> state_text =
      state ? std::optional<std::string>(StateText(*state)) : std::nullopt;
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      c_.db.Query(std::string(kDeviceColumns) +
                      "WHERE n.tenant_id = $1 AND n.name = $2 AND ($3 IS NULL OR d.state = $3)"
                      " ORDER BY d.created_at_ms, d.id",
                  {actor.tenant_id, network_name, store::OrNull(state_text)}));
  std::vector<Device> out;
  for (const auto& row : rows) {
    Device d = DeviceFromRow(row);
    if (actor.kind == Principal::Kind::kDevice && d.network_id != actor.network_id) {
      return Unexpected(ErrorCode::kNotFound, "no such network");
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<Device>> Devices::PeersOf(const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto self, Load(device_id));
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query(std::string(kDeviceColumns) +
                                                   "WHERE d.network_id = $1 AND d.state = 'active'"
                                                   " AND d.id <> $2 ORDER BY d.name",
                                               {self.network_id, device_id}));
  std::vector<Device> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(DeviceFromRow(row));
  return out;
}

Result<std::vector<std::uint8_t>> Devices::HubNonceFor(const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query("SELECT hub_nonce FROM devices WHERE id = $1"
                                               " AND state = 'active'",
                                               {device_id}));
  if (rows.empty() || !AsBlob(rows[0][0])) {
    return Unexpected(ErrorCode::kFailedPrecondition, "device is not admitted");
  }
  return *AsBlob(rows[0][0]);
}

Result<void> Devices::AllowPair(const Principal& actor, const std::string& network_name,
                                const std::string& device_a, const std::string& device_b,
                                bool allow) {
  auto changed = networks_.Change(
      actor, network_name, allow ? "network.allow-pair" : "network.disallow-pair",
      [&](const Network& network) -> Result<std::string> {
        if (device_a == device_b) {
          return Unexpected(ErrorCode::kInvalidArgument, "a pair is two different devices");
        }
        for (const auto& id : {device_a, device_b}) {
          auto device = Load(id);
          if (!device || device->network_id != network.id) {
            return Unexpected(ErrorCode::kNotFound, "no such device in " + network.name);
          }
        }
        const auto& [low, high] = std::minmax(device_a, device_b);
        if (allow) {
          SKAP_RETURN_IF_ERROR(c_.db.Execute(
              "INSERT INTO allowed_pairs (network_id, device_low, device_high, created_at_ms)"
              " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
              {network.id, low, high, c_.now()}));
        } else {
          SKAP_RETURN_IF_ERROR(
              c_.db.Execute("DELETE FROM allowed_pairs WHERE network_id = $1 AND device_low = $2"
                            " AND device_high = $3",
                            {network.id, low, high}));
        }
        return nlohmann::json{{"devices", {low, high}}}.dump();
      });
  if (!changed) return Unexpected(std::move(changed).error());
  if (!allow && changed->pair_policy == PairPolicy::kAllowList) {
    for (const auto& observer : pair_ended_observers_) observer(device_a, device_b);
  }
  return Ok();
}

Result<std::vector<EndedPeer>> Devices::EndedPeersOf(const std::string& device_id,
                                                     const std::vector<std::string>& peers) {
  SKAP_ASSIGN_OR_RETURN(auto self, Load(device_id));
  SKAP_ASSIGN_OR_RETURN(auto network, networks_.ById(self.network_id));
  std::vector<EndedPeer> out;
  for (const auto& peer : peers) {
    auto device = Load(peer);
    if (!device || device->network_id != self.network_id || peer == device_id) continue;
    if (device->state == DeviceState::kRevoked || device->state == DeviceState::kRejected) {
      out.push_back({peer, std::string(DeviceStateName(device->state))});
      continue;
    }
    if (device->state != DeviceState::kActive) continue;
    SKAP_ASSIGN_OR_RETURN(const bool allowed, PairAllowed(network, device_id, peer));
    if (!allowed) out.push_back({peer, "disallowed"});
  }
  return out;
}

Result<bool> Devices::PairAllowed(const Network& network, const std::string& device_a,
                                  const std::string& device_b) {
  if (network.pair_policy == PairPolicy::kAny) return true;
  const auto& [low, high] = std::minmax(device_a, device_b);
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query("SELECT 1 FROM allowed_pairs WHERE network_id = $1"
                                               " AND device_low = $2 AND device_high = $3",
                                               {network.id, low, high}));
  return !rows.empty();
}

Result<RatchetStep> Devices::Ratchet(const std::string& device_id, std::int64_t channel_epoch,
                                     std::span<const std::uint8_t> device_nonce) {
  const Principal actor = ChannelActor(device_id);
  RatchetStep step;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    if (device_nonce.size() != crypto::kChannelNonceSize) {
      return Unexpected(ErrorCode::kInvalidArgument, "device nonce must be 32 bytes");
    }
    SKAP_ASSIGN_OR_RETURN(auto device, Load(device_id));
    if (device.state != DeviceState::kActive) {
      return Unexpected(ErrorCode::kFailedPrecondition, "only an active device ratchets");
    }
    SKAP_ASSIGN_OR_RETURN(
        step, keys_.RatchetInCurrentTransaction(device_id, channel_epoch, device_nonce));
    const std::int64_t now = c_.now();
    SKAP_RETURN_IF_ERROR(
        c_.db.Execute("UPDATE devices SET changed_at_ms = $2 WHERE id = $1", {device_id, now}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "device.ratchet", device_id, "ok",
         nlohmann::json{{"epoch", step.epoch}, {"replaced_unproven", step.replaced_unproven}}
             .dump(),
         device.tenant_id},
        now));
    CrashPoint("hub.ratchet.before-commit");
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "device.ratchet", device_id, std::move(done).error());
  c_.db.AfterCommit([] { CrashPoint("hub.ratchet.after-commit"); });
  return step;
}

Result<Device> Devices::RequestRatchet(const Principal& actor, const std::string& device_id) {
  Device result;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto device, Get(actor, device_id));
    if (actor.kind != Principal::Kind::kOperator ||
        (actor.role != Role::kTenantAdmin && actor.role != Role::kAdmitter)) {
      return Unexpected(ErrorCode::kPermissionDenied,
                        "asking for a ratchet needs the tenant-admin or admitter role");
    }
    if (device.state != DeviceState::kActive) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "device is " + std::string(DeviceStateName(device.state)) +
                            "; only active devices ratchet");
    }
    const std::int64_t now = c_.now();
    SKAP_RETURN_IF_ERROR(keys_.RequestRatchetInCurrentTransaction(device_id));
    SKAP_RETURN_IF_ERROR(
        c_.db.Execute("UPDATE devices SET changed_at_ms = $2 WHERE id = $1", {device_id, now}));
    SKAP_RETURN_IF_ERROR(c_.audit.AppendInCurrentTransaction(
        {actor.AuditName(), "device.ratchet-request", device_id, "ok", "{}", device.tenant_id},
        now));
    SKAP_ASSIGN_OR_RETURN(result, Load(device_id));
    return Ok();
  });
  if (!done) return c_.Refuse(actor, "device.ratchet-request", device_id, std::move(done).error());
  for (const auto& observer : ratchet_observers_) observer(device_id);
  return result;
}

}  // namespace skap::hub
