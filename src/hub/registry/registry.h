// The hub's registry: tenants, networks, operators and devices, with every
// change authorised, recorded in the audit log, and atomic.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/rng.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/principal.h"
#include "keystore/keystore.h"
#include "store/database.h"

namespace skap::hub {

// DeviceState is a device's place in its lifecycle.
enum class DeviceState { kProvisioned, kPending, kActive, kRevoked, kRejected };
std::string_view DeviceStateName(DeviceState state);

// Device is a registry entry as operators see it (no keys).
struct Device {
  std::string id;
  std::string name;
  std::string network_id;
  std::string network_name;
  std::string tenant_id;
  DeviceState state = DeviceState::kProvisioned;
  bool can_provision = false;
  std::string provisioned_by;
  std::optional<std::string> parent_device;
  std::optional<std::string> admitted_by;
  std::int64_t bootstrap_expires_at_ms = 0;
  std::optional<std::string> preflight;  // JSON report, once received
  std::int64_t created_at_ms = 0;
  std::int64_t changed_at_ms = 0;
};

// PairPolicy says which devices of a network may agree keys with each other.
enum class PairPolicy { kAny, kAllowList };
std::string_view PairPolicyName(PairPolicy policy);

// Network is a closed network and its agreement settings: the hubs its
// pairwise agreements span (sorted ids, this hub among them) and the
// threshold k (docs/protocol.md).
struct Network {
  std::string id;
  std::string name;
  std::string tenant_id;
  std::vector<std::string> hub_set;
  unsigned threshold = 1;
  PairPolicy pair_policy = PairPolicy::kAny;
};

// BootstrapGrant is what provisioning hands to the secure room: the device
// and its bootstrap key (epoch 0), which the hub also keeps until admission.
struct BootstrapGrant {
  Device device;
  Network network;
  std::string hub_id;
  std::string tenant_name;
  SecretBytes bootstrap_key;
};

// OperatorToken is an operator's credential, shown once at creation.
struct OperatorToken {
  std::string name;
  SecretBytes token;  // ASCII "skapop1-" + 64 hex digits
};

// ChannelKey is a device's key for one epoch, for the TLS PSK lookup.
struct ChannelKey {
  std::int64_t epoch = 0;
  SecretBytes key;
};

// RatchetStep is the hub's half of a channel key ratchet.
struct RatchetStep {
  std::int64_t epoch = 0;               // the new epoch
  std::vector<std::uint8_t> hub_nonce;  // the hub's contribution, not secret
  bool replaced_unproven = false;       // an epoch the device never took up was replaced
};

// EpochSchedule is what the ratchet schedule needs to know of a device.
struct EpochSchedule {
  std::int64_t epoch = 0;
  std::int64_t started_at_ms = 0;  // when `epoch` was derived
  bool operator_requested = false;
};

// Registry carries out every registry action. Refusals are audited too (in a
// transaction of their own) and change nothing else.
class Registry {
 public:
  // kMaxBootstrapLifetime bounds how long a bundle stays usable.
  static constexpr std::chrono::hours kMaxBootstrapLifetime{24 * 30};

  Registry(store::Database& db, keystore::Keystore& keystore, crypto::Rng& rng, AuditLog& audit,
           std::string hub_id, Clock now);

  // CreateTenant makes a tenant (hub principal only: local setup).
  Result<std::string> CreateTenant(const Principal& actor, const std::string& name);
  // CreateNetwork makes a closed network in the actor's tenant (tenant-admin).
  Result<std::string> CreateNetwork(const Principal& actor, const std::string& name);
  // GetNetwork returns a network of the actor's tenant (any operator role).
  Result<Network> GetNetwork(const Principal& actor, const std::string& name);
  // SetNetworkHubs sets the hubs and threshold of a network's agreements
  // (tenant-admin). `hub_ids` must include this hub; 1 <= k <= n <= 16.
  // The tenant admin sets the same at every hub of the network.
  Result<Network> SetNetworkHubs(const Principal& actor, const std::string& name,
                                 std::vector<std::string> hub_ids, unsigned threshold);
  // SetPairPolicy chooses between any pair and an allow-list (tenant-admin).
  Result<Network> SetPairPolicy(const Principal& actor, const std::string& name, PairPolicy policy);
  // AllowPair adds (or, with allow = false, removes) a pair of the network's
  // devices to its allow-list (tenant-admin).
  Result<void> AllowPair(const Principal& actor, const std::string& network_name,
                         const std::string& device_a, const std::string& device_b, bool allow);
  // NetworkById returns a network for the hub's own checks.
  Result<Network> NetworkById(const std::string& network_id);
  // PairAllowed applies the network's pair policy to two of its devices.
  Result<bool> PairAllowed(const Network& network, const std::string& device_a,
                           const std::string& device_b);
  // PeersOf lists the other active devices of a device's network.
  Result<std::vector<Device>> PeersOf(const std::string& device_id);

  // AddOperator creates an operator in `tenant_id` with `role` (hub, or a
  // tenant-admin of that tenant) and returns their token, once.
  Result<OperatorToken> AddOperator(const Principal& actor, const std::string& tenant_id,
                                    const std::string& name, Role role);
  // AuthenticateOperator maps a token to its operator, or
  // kAuthenticationFailed without saying why.
  Result<Principal> AuthenticateOperator(std::string_view token);
  // AdminPsk returns the epsk (proto/admin_identity.h) of an enabled operator
  // for the TLS admin listener's handshake, or kAuthenticationFailed without
  // saying why (unknown, disabled, or created before TLS existed).
  Result<SecretBytes> AdminPsk(const std::string& operator_name);
  // OperatorNamed is the operator a TLS handshake authenticated, re-read per
  // request so that a disabled operator stops at once.
  Result<Principal> OperatorNamed(const std::string& operator_name);

  // ProvisionDevice creates a device in `network_name` with a fresh 256-bit
  // bootstrap key valid for `lifetime`. Provisioners of the tenant may; so
  // may an active device with the provisioner capability, in its own network
  // only (delegated provisioning; the hub records the parent). The device id
  // is drawn at random unless `device_id` gives one: a device of a network
  // with several hubs has the same id at each of them.
  Result<BootstrapGrant> ProvisionDevice(const Principal& actor, const std::string& network_name,
                                         const std::string& device_name,
                                         std::chrono::milliseconds lifetime, bool can_provision,
                                         const std::optional<std::string>& device_id = {});

  // RecordPreflight stores a device's pre-flight report and its fresh nonce
  // (its contribution to the first channel key), moving it from provisioned
  // to pending. A pending device may report again only with the same nonce:
  // a second enrolment from a copied bundle is refused ("bundle used").
  Result<void> RecordPreflight(const std::string& device_id, const std::string& report_json,
                               std::span<const std::uint8_t> device_nonce);

  // Admit makes a pending device active (admitter of the tenant, never the
  // principal that provisioned it). The hub draws its nonce and derives the
  // channel key of epoch 1 from the bootstrap key; the bootstrap key stays as
  // the previous epoch until the device proves epoch 1 (ConfirmEpoch).
  Result<Device> Admit(const Principal& actor, const std::string& device_id);
  // Reject ends a device that was never admitted (admitter of the tenant).
  Result<Device> Reject(const Principal& actor, const std::string& device_id);
  // Revoke ends a device at once, erasing its keys (tenant-admin or
  // admitter). `on_revoked` observers close its open channels.
  Result<Device> Revoke(const Principal& actor, const std::string& device_id);

  // GetDevice returns a device the actor may see: operators see their
  // tenant's devices, devices see their own network's. Anything else is
  // kNotFound, exactly as for a device that does not exist.
  Result<Device> GetDevice(const Principal& actor, const std::string& device_id);
  // ListDevices lists a network's devices, optionally in one state.
  Result<std::vector<Device>> ListDevices(const Principal& actor, const std::string& network_name,
                                          std::optional<DeviceState> state = std::nullopt);

  // ChannelKeyFor returns the key of `epoch` for a device whose state allows
  // a channel at that epoch: epoch 0 while provisioned or pending and not
  // expired; the current or previous epoch (>= 1) while active. Anything else
  // is kAuthenticationFailed, without detail.
  Result<ChannelKey> ChannelKeyFor(const std::string& device_id, std::int64_t epoch);
  // ConfirmEpoch records that the device authenticated with `epoch`: once
  // the current epoch is proven, the previous key is erased.
  Result<void> ConfirmEpoch(const std::string& device_id, std::int64_t epoch);
  // HubNonceFor returns the hub's admission contribution (not secret) for a
  // device to derive its epoch-1 key, once admitted.
  Result<std::vector<std::uint8_t>> HubNonceFor(const std::string& device_id);

  // Ratchet derives the next channel key for an active device that asks on a
  // channel of `channel_epoch`, from that epoch's key and both nonces (the
  // derivation of crypto/channel_key.h). Asked on the current epoch, the
  // current key becomes the previous one. Asked on the previous epoch (the
  // device never took up the current one: the answer was lost), the unproven
  // current epoch is replaced. Either way the hub keeps the key the device
  // holds until it proves the new one, so no lost message locks it out.
  Result<RatchetStep> Ratchet(const std::string& device_id, std::int64_t channel_epoch,
                              std::span<const std::uint8_t> device_nonce);
  // ScheduleFor returns an active device's epoch schedule.
  Result<EpochSchedule> ScheduleFor(const std::string& device_id);
  // RequestRatchet asks an active device to ratchet at its next chance
  // (tenant-admin or admitter); `on_ratchet_requested` observers tell an
  // open channel at once.
  Result<Device> RequestRatchet(const Principal& actor, const std::string& device_id);
  void OnRatchetRequested(std::function<void(const std::string& device_id)> observer) {
    ratchet_observers_.push_back(std::move(observer));
  }

  // OnRevoked registers an observer called after a revocation commits.
  void OnRevoked(std::function<void(const std::string& device_id)> observer) {
    revoked_observers_.push_back(std::move(observer));
  }

  const std::string& hub_id() const { return hub_id_; }

  // Refuse audits a refused action (in a transaction of its own) and
  // returns `error`: every refusal of the hub's components goes through it.
  Unexpected Refuse(const Principal& actor, const std::string& action, const std::string& target,
                    Error error);

 private:
  Result<Device> LoadDevice(const std::string& device_id);
  // NetworkWhere loads the one network that `where` (a WHERE clause over
  // networks n) selects with `params`.
  Result<Network> NetworkWhere(std::string_view where, std::initializer_list<store::Value> params);
  // ChangeNetwork runs `change` on a network of the actor's tenant as the
  // tenant admin, audited as `action` with `detail`.
  Result<Network> ChangeNetwork(const Principal& actor, const std::string& name,
                                const std::string& action,
                                const std::function<Result<std::string>(const Network&)>& change);
  Result<Device> EndDevice(const Principal& actor, const std::string& device_id,
                           const std::string& action, DeviceState to);
  // StepChannelKey draws the hub's nonce, derives the channel key of `epoch`
  // from `from_wrapped` (the key of epoch - 1) and stores it as current,
  // keeping `from_wrapped` as previous until the device proves the new one.
  // Admission (epoch 0 -> 1) and every ratchet step share it. Returns the
  // hub's nonce, which the device needs to derive the same key.
  Result<std::vector<std::uint8_t>> StepChannelKey(const std::string& device_id, std::int64_t epoch,
                                                   std::span<const std::uint8_t> from_wrapped,
                                                   std::span<const std::uint8_t> device_nonce,
                                                   std::int64_t now);

  store::Database& db_;
  keystore::Keystore& keystore_;
  crypto::Rng& rng_;
  AuditLog& audit_;
  std::string hub_id_;
  Clock now_;
  std::vector<std::function<void(const std::string&)>> revoked_observers_;
  std::vector<std::function<void(const std::string&)>> ratchet_observers_;
};

}  // namespace skap::hub
