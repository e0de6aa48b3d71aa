#include "hub/registry/registry.h"

#include <array>

#include <nlohmann/json.hpp>

#include "common/crash_point.h"
#include "common/ct.h"
#include "common/hex.h"
#include "crypto/channel_key.h"
#include "crypto/hash.h"
#include "crypto/uuid.h"
#include "proto/admin_identity.h"

namespace skap::hub {
namespace {

using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

constexpr std::string_view kTokenPrefix = "skapop1-";

constexpr std::array<std::pair<DeviceState, std::string_view>, 5> kStates = {{
    {DeviceState::kProvisioned, "provisioned"},
    {DeviceState::kPending, "pending"},
    {DeviceState::kActive, "active"},
    {DeviceState::kRevoked, "revoked"},
    {DeviceState::kRejected, "rejected"},
}};

DeviceState ParseState(std::string_view name) {
  for (const auto& [state, n] : kStates) {
    if (n == name) return state;
  }
  return DeviceState::kRevoked;  // unknown text is treated as the most final state
}

// ValidName accepts 1..64 characters of [A-Za-z0-9._-], not starting with
// '.' or '-': names end up in file names, topics and audit entries.
Result<void> CheckName(const std::string& kind, const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && name.front() != '.' && name.front() != '-' &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
          std::string::npos;
  if (!ok) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      kind + " name must be 1-64 characters of letters, digits, '.', '_' or '-'");
  }
  return Ok();
}

Unexpected Denied(const std::string& why) { return Unexpected(ErrorCode::kPermissionDenied, why); }

bool IsOperatorWithRole(const Principal& actor, Role role) {
  return actor.kind == Principal::Kind::kOperator && actor.role == role;
}

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
  d.state = ParseState(AsText(row[5]).value_or(""));
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

}  // namespace

std::string_view DeviceStateName(DeviceState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "unknown";
}

Registry::Registry(store::Database& db, keystore::Keystore& keystore, crypto::Rng& rng,
                   AuditLog& audit, std::string hub_id, Clock now)
    : db_(db),
      keystore_(keystore),
      rng_(rng),
      audit_(audit),
      hub_id_(std::move(hub_id)),
      now_(std::move(now)) {}

Unexpected Registry::Refuse(const Principal& actor, const std::string& action,
                            const std::string& target, Error error) {
  const bool refused =
      error.code == ErrorCode::kPermissionDenied || error.code == ErrorCode::kNotFound ||
      error.code == ErrorCode::kFailedPrecondition || error.code == ErrorCode::kInvalidArgument ||
      error.code == ErrorCode::kAuthenticationFailed;
  AuditRecord record{
      actor.AuditName(), action, target,
      std::string(refused ? "refused:" : "failed:") + std::string(ErrorCodeName(error.code)),
      nlohmann::json{{"reason", error.message}}.dump()};
  // The refusal is recorded even though the action left no other trace; if
  // even that fails, the caller still learns why the action was refused.
  (void)store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(record, now_()));
    return Ok();
  });
  return Unexpected(std::move(error));
}

Result<Device> Registry::LoadDevice(const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db_.Query(std::string(kDeviceColumns) + "WHERE d.id = $1", {device_id}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, "no such device");
  return DeviceFromRow(rows[0]);
}

namespace {

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

Result<std::string> Registry::CreateTenant(const Principal& actor, const std::string& name) {
  std::string id;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    if (actor.kind != Principal::Kind::kHub)
      return Denied("only the hub's own setup creates tenants");
    SKAP_RETURN_IF_ERROR(CheckName("tenant", name));
    SKAP_ASSIGN_OR_RETURN(id, crypto::NewUuid(rng_));
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO tenants (id, name, created_at_ms) VALUES ($1, $2, $3)", {id, name, now_()}));
    return audit_.AppendInCurrentTransaction({actor.AuditName(), "tenant.create", id, "ok",
                                              nlohmann::json{{"name", name}}.dump()},
                                             now_())
               ? Ok()
               : Unexpected(ErrorCode::kIoError, "audit");
  });
  if (!done) return Refuse(actor, "tenant.create", name, std::move(done).error());
  return id;
}

Result<std::string> Registry::CreateNetwork(const Principal& actor, const std::string& name) {
  std::string id;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    if (!IsOperatorWithRole(actor, Role::kTenantAdmin)) {
      return Denied("creating a network needs the tenant-admin role");
    }
    SKAP_RETURN_IF_ERROR(CheckName("network", name));
    SKAP_ASSIGN_OR_RETURN(id, crypto::NewUuid(rng_));
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO networks (id, tenant_id, name, created_at_ms) VALUES ($1, $2, $3, $4)",
        {id, actor.tenant_id, name, now_()}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), "network.create", id, "ok", nlohmann::json{{"name", name}}.dump()},
        now_()));
    return Ok();
  });
  if (!done) return Refuse(actor, "network.create", name, std::move(done).error());
  return id;
}

Result<OperatorToken> Registry::AddOperator(const Principal& actor, const std::string& tenant_id,
                                            const std::string& name, Role role) {
  OperatorToken token{name, {}};
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    const bool allowed =
        actor.kind == Principal::Kind::kHub ||
        (IsOperatorWithRole(actor, Role::kTenantAdmin) && actor.tenant_id == tenant_id);
    if (!allowed) return Denied("adding an operator needs the tenant-admin role in that tenant");
    SKAP_RETURN_IF_ERROR(CheckName("operator", name));
    if (name.rfind("device:", 0) == 0 || name == "hub") {
      return Unexpected(ErrorCode::kInvalidArgument, "operator name is reserved");
    }
    SKAP_ASSIGN_OR_RETURN(auto tenants,
                          db_.Query("SELECT id FROM tenants WHERE id = $1", {tenant_id}));
    if (tenants.empty()) return Unexpected(ErrorCode::kNotFound, "no such tenant");
    std::array<std::uint8_t, 32> random{};
    SKAP_RETURN_IF_ERROR(rng_.Fill(random));
    const std::string hex = HexEncode(random);
    SecureWipe(random.data(), random.size());
    token.token = SecretBytes::Copy(AsBytes(kTokenPrefix));
    token.token.Append(AsBytes(hex));
    SKAP_ASSIGN_OR_RETURN(auto hash, crypto::Digest(crypto::Hash::kSha256, token.token.Expose()));
    SKAP_ASSIGN_OR_RETURN(auto admin_psk, proto::AdminPskFromToken(token.token.Expose()));
    SKAP_ASSIGN_OR_RETURN(auto wrapped_psk, keystore_.Wrap(admin_psk.Expose()));
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO operators (name, tenant_id, role, token_hash, wrapped_admin_psk,"
        " created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        {name, tenant_id, std::string(RoleName(role)), Blob(hash), Blob(wrapped_psk), now_()}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), "operator.add", name, "ok",
         nlohmann::json{{"tenant", tenant_id}, {"role", RoleName(role)}}.dump()},
        now_()));
    return Ok();
  });
  if (!done) return Refuse(actor, "operator.add", name, std::move(done).error());
  return token;
}

Result<Principal> Registry::AuthenticateOperator(std::string_view token) {
  // A failed attempt is a security event: audited, without the token.
  Principal unknown;
  unknown.kind = Principal::Kind::kOperator;
  unknown.name = "unknown-operator";
  const auto failed = [&] {
    return Refuse(unknown, "operator.authenticate", "",
                  Error{ErrorCode::kAuthenticationFailed, "authentication failed"});
  };
  if (token.rfind(kTokenPrefix, 0) != 0) return failed();
  SKAP_ASSIGN_OR_RETURN(auto hash, crypto::Digest(crypto::Hash::kSha256, AsBytes(token)));
  SKAP_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT name FROM operators WHERE token_hash = $1", {Blob(hash)}));
  if (rows.empty()) return failed();
  auto principal = OperatorNamed(AsText(rows[0][0]).value_or(""));
  if (!principal) return failed();
  return principal;
}

Result<Principal> Registry::OperatorNamed(const std::string& operator_name) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "authentication failed");
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT name, tenant_id, role, disabled FROM operators"
                                             " WHERE name = $1",
                                             {operator_name}));
  if (rows.empty() || AsInt(rows[0][3]).value_or(1) != 0) return refused;
  auto role = ParseRole(AsText(rows[0][2]).value_or(""));
  if (!role) return refused;
  Principal p;
  p.kind = Principal::Kind::kOperator;
  p.name = AsText(rows[0][0]).value_or("");
  p.tenant_id = AsText(rows[0][1]).value_or("");
  p.role = *role;
  return p;
}

Result<SecretBytes> Registry::AdminPsk(const std::string& operator_name) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "authentication failed");
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT wrapped_admin_psk, disabled FROM operators"
                                             " WHERE name = $1",
                                             {operator_name}));
  if (rows.empty() || AsInt(rows[0][1]).value_or(1) != 0) return refused;
  const auto wrapped = AsBlob(rows[0][0]);
  if (!wrapped || wrapped->empty()) return refused;
  return keystore_.Unwrap(*wrapped);
}

Result<BootstrapGrant> Registry::ProvisionDevice(const Principal& actor,
                                                 const std::string& network_name,
                                                 const std::string& device_name,
                                                 std::chrono::milliseconds lifetime,
                                                 bool can_provision,
                                                 const std::optional<std::string>& device_id) {
  BootstrapGrant grant;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    std::optional<std::string> parent;
    if (actor.kind == Principal::Kind::kDevice) {
      // Delegated provisioning: trust the registry, not the principal's flags.
      SKAP_ASSIGN_OR_RETURN(auto self, LoadDevice(actor.name));
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
    SKAP_ASSIGN_OR_RETURN(grant.network, NetworkWhere("WHERE n.tenant_id = $1 AND n.name = $2",
                                                      {actor.tenant_id, network_name}));
    SKAP_ASSIGN_OR_RETURN(auto tenants, db_.Query("SELECT name FROM tenants WHERE id = $1",
                                                  {grant.network.tenant_id}));
    if (tenants.empty()) return Unexpected(ErrorCode::kNotFound, "no such tenant");
    const std::string& network_id = grant.network.id;
    std::string id;
    if (device_id) {
      if (!crypto::IsCanonicalUuid(*device_id)) {
        return Unexpected(ErrorCode::kInvalidArgument,
                          "a device id is a UUID in lowercase canonical form");
      }
      if (LoadDevice(*device_id)) {
        return Unexpected(ErrorCode::kFailedPrecondition, "device id already in use");
      }
      id = *device_id;
    } else {
      SKAP_ASSIGN_OR_RETURN(id, crypto::NewUuid(rng_));
    }
    const std::int64_t now = now_();
    const std::int64_t expires = now + lifetime.count();
    SecretBytes key(crypto::kChannelKeySize);
    SKAP_RETURN_IF_ERROR(rng_.Fill(key.MutableExpose()));
    SKAP_ASSIGN_OR_RETURN(auto wrapped, keystore_.Wrap(key.Expose()));
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO devices (id, network_id, name, state, can_provision, provisioned_by,"
        " parent_device, bootstrap_expires_at_ms, created_at_ms, changed_at_ms)"
        " VALUES ($1, $2, $3, 'provisioned', $4, $5, $6, $7, $8, $8)",
        {id, network_id, device_name, std::int64_t{can_provision ? 1 : 0}, actor.AuditName(),
         store::OrNull(parent), expires, now}));
    SKAP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO channel_keys (device_id, epoch, wrapped_key, changed_at_ms)"
                    " VALUES ($1, 0, $2, $3)",
                    {id, Blob(wrapped), now}));
    nlohmann::json detail{{"network", network_name},
                          {"name", device_name},
                          {"expires_at_ms", expires},
                          {"can_provision", can_provision}};
    if (parent) detail["parent_device"] = *parent;
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), "device.provision", id, "ok", detail.dump()}, now));
    SKAP_ASSIGN_OR_RETURN(grant.device, LoadDevice(id));
    grant.tenant_name = AsText(tenants[0][0]).value_or("");
    grant.hub_id = hub_id_;
    grant.bootstrap_key = std::move(key);
    CrashPoint("hub.provision.before-commit");
    return Ok();
  });
  if (!done) return Refuse(actor, "device.provision", device_name, std::move(done).error());
  CrashPoint("hub.provision.after-commit");
  return grant;
}

Result<void> Registry::RecordPreflight(const std::string& device_id, const std::string& report_json,
                                       std::span<const std::uint8_t> device_nonce) {
  const Principal device_actor = Principal::DeviceChannel(device_id);
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    if (device_nonce.size() != crypto::kChannelNonceSize) {
      return Unexpected(ErrorCode::kInvalidArgument, "device nonce must be 32 bytes");
    }
    const auto report = nlohmann::json::parse(report_json, nullptr, /*allow_exceptions=*/false);
    if (!report.is_object()) {
      return Unexpected(ErrorCode::kInvalidArgument, "pre-flight report must be a JSON object");
    }
    SKAP_ASSIGN_OR_RETURN(auto device, LoadDevice(device_id));
    const std::int64_t now = now_();
    if (device.state == DeviceState::kPending) {
      SKAP_ASSIGN_OR_RETURN(
          auto rows, db_.Query("SELECT device_nonce FROM devices WHERE id = $1", {device_id}));
      const Blob stored = AsBlob(rows[0][0]).value_or(Blob{});
      if (!ct::Equal(stored, device_nonce)) {
        return Unexpected(ErrorCode::kFailedPrecondition, "bootstrap bundle already used");
      }
    } else if (device.state != DeviceState::kProvisioned) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "device is " + StateText(device.state) + ", not awaiting admission");
    } else if (now >= device.bootstrap_expires_at_ms) {
      return Unexpected(ErrorCode::kFailedPrecondition, "bootstrap bundle expired");
    }
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "UPDATE devices SET state = 'pending', device_nonce = $2, preflight = $3,"
        " changed_at_ms = $4 WHERE id = $1",
        {device_id, Blob(device_nonce.begin(), device_nonce.end()), report.dump(), now}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {device_actor.AuditName(), "device.preflight", device_id, "ok", report.dump()}, now));
    return Ok();
  });
  if (!done) return Refuse(device_actor, "device.preflight", device_id, std::move(done).error());
  return Ok();
}

Result<Device> Registry::Admit(const Principal& actor, const std::string& device_id) {
  Device result;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto device, LoadDevice(device_id));
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
    SKAP_ASSIGN_OR_RETURN(auto rows,
                          db_.Query("SELECT k.epoch, k.wrapped_key, d.device_nonce FROM"
                                    " channel_keys k JOIN devices d ON d.id = k.device_id"
                                    " WHERE k.device_id = $1",
                                    {device_id}));
    if (rows.empty() || AsInt(rows[0][0]).value_or(-1) != 0) {
      return Unexpected(ErrorCode::kFailedPrecondition, "device has no bootstrap key");
    }
    const Blob bootstrap_wrapped = AsBlob(rows[0][1]).value_or(Blob{});
    const Blob device_nonce = AsBlob(rows[0][2]).value_or(Blob{});
    const std::int64_t now = now_();
    SKAP_ASSIGN_OR_RETURN(auto hub_nonce,
                          StepChannelKey(device_id, 1, bootstrap_wrapped, device_nonce, now));
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "UPDATE devices SET state = 'active', admitted_by = $2, hub_nonce = $3, changed_at_ms = $4"
        " WHERE id = $1",
        {device_id, actor.AuditName(), Blob(hub_nonce), now}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), "device.admit", device_id, "ok",
         nlohmann::json{{"network", device.network_name}, {"name", device.name}}.dump()},
        now));
    SKAP_ASSIGN_OR_RETURN(result, LoadDevice(device_id));
    CrashPoint("hub.admit.before-commit");
    return Ok();
  });
  if (!done) return Refuse(actor, "device.admit", device_id, std::move(done).error());
  CrashPoint("hub.admit.after-commit");
  return result;
}

Result<Device> Registry::EndDevice(const Principal& actor, const std::string& device_id,
                                   const std::string& action, DeviceState to) {
  Device result;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto device, LoadDevice(device_id));
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
    const std::int64_t now = now_();
    // Erasing the keys is what makes the end final; secure_delete overwrites them.
    SKAP_RETURN_IF_ERROR(db_.Execute("DELETE FROM channel_keys WHERE device_id = $1", {device_id}));
    SKAP_RETURN_IF_ERROR(
        db_.Execute("UPDATE devices SET state = $2, changed_at_ms = $3 WHERE id = $1",
                    {device_id, StateText(to), now}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), action, device_id, "ok",
         nlohmann::json{{"from", DeviceStateName(device.state)}}.dump()},
        now));
    SKAP_ASSIGN_OR_RETURN(result, LoadDevice(device_id));
    return Ok();
  });
  if (!done) return Refuse(actor, action, device_id, std::move(done).error());
  if (to == DeviceState::kRevoked) {
    for (const auto& observer : revoked_observers_) observer(device_id);
  }
  return result;
}

Result<Device> Registry::Reject(const Principal& actor, const std::string& device_id) {
  return EndDevice(actor, device_id, "device.reject", DeviceState::kRejected);
}

Result<Device> Registry::Revoke(const Principal& actor, const std::string& device_id) {
  return EndDevice(actor, device_id, "device.revoke", DeviceState::kRevoked);
}

Result<Device> Registry::GetDevice(const Principal& actor, const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto device, LoadDevice(device_id));
  SKAP_RETURN_IF_ERROR(CheckTenantScope(actor, device));
  return device;
}

Result<std::vector<Device>> Registry::ListDevices(const Principal& actor,
                                                  const std::string& network_name,
                                                  std::optional<DeviceState> state) {
  if (actor.kind == Principal::Kind::kHub) {
    return Unexpected(ErrorCode::kInvalidArgument, "listing needs an operator or device");
  }
  const std::optional<std::string> state_text =
      state ? std::optional<std::string>(StateText(*state)) : std::nullopt;
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(std::string(kDeviceColumns) +
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

Result<std::vector<Device>> Registry::PeersOf(const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto self, LoadDevice(device_id));
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kDeviceColumns) +
                                                 "WHERE d.network_id = $1 AND d.state = 'active'"
                                                 " AND d.id <> $2 ORDER BY d.name",
                                             {self.network_id, device_id}));
  std::vector<Device> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(DeviceFromRow(row));
  return out;
}

Result<ChannelKey> Registry::ChannelKeyFor(const std::string& device_id, std::int64_t epoch) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "unknown identity");
  auto device = LoadDevice(device_id);
  if (!device) return refused;
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch, wrapped_key, previous_epoch,"
                                             " previous_wrapped_key FROM channel_keys"
                                             " WHERE device_id = $1",
                                             {device_id}));
  if (rows.empty()) return refused;
  const std::int64_t current = AsInt(rows[0][0]).value_or(-1);
  const std::optional<std::int64_t> previous = AsInt(rows[0][2]);
  std::optional<Blob> wrapped;
  switch (device->state) {
    case DeviceState::kProvisioned:
      if (epoch == 0 && current == 0 && now_() < device->bootstrap_expires_at_ms) {
        wrapped = AsBlob(rows[0][1]);
      }
      break;
    case DeviceState::kPending:
      if (epoch == 0 && current == 0) wrapped = AsBlob(rows[0][1]);
      break;
    case DeviceState::kActive:
      if (epoch == current) {
        wrapped = AsBlob(rows[0][1]);
      } else if (previous && epoch == *previous) {
        wrapped = AsBlob(rows[0][3]);
      }
      break;
    case DeviceState::kRevoked:
    case DeviceState::kRejected:
      break;
  }
  if (!wrapped) return refused;
  SKAP_ASSIGN_OR_RETURN(auto key, keystore_.Unwrap(*wrapped));
  return ChannelKey{epoch, std::move(key)};
}

Result<void> Registry::ConfirmEpoch(const std::string& device_id, std::int64_t epoch) {
  // Only the current epoch's proof erases the previous key; proving the old
  // one changes nothing (the device may not have seen the new epoch yet).
  SKAP_RETURN_IF_ERROR(db_.Execute(
      "UPDATE channel_keys SET previous_epoch = NULL, previous_wrapped_key = NULL,"
      " changed_at_ms = $3 WHERE device_id = $1 AND epoch = $2 AND previous_epoch IS NOT NULL",
      {device_id, epoch, now_()}));
  return Ok();
}

Result<std::vector<std::uint8_t>> Registry::HubNonceFor(const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT hub_nonce FROM devices WHERE id = $1"
                                             " AND state = 'active'",
                                             {device_id}));
  if (rows.empty() || !AsBlob(rows[0][0])) {
    return Unexpected(ErrorCode::kFailedPrecondition, "device is not admitted");
  }
  return *AsBlob(rows[0][0]);
}

}  // namespace skap::hub
