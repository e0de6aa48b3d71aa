// The devices of a hub's tenants through their lifecycle: provisioning (by
// a provisioner, or delegated to a device with the capability), the
// pre-flight report, admission by a different operator, rejection and
// revocation; and which pairs of a network's devices may agree keys. Every
// change is authorised, audited and atomic; a refusal is audited too and
// changes nothing else.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "hub/registry/channel_keys.h"
#include "hub/registry/device.h"
#include "hub/registry/networks.h"
#include "hub/registry/principal.h"
#include "hub/registry/registry_context.h"
#include "hub/registry/tenants.h"

namespace skap::hub {

// BootstrapGrant is what provisioning hands to the secure room: the device
// and its bootstrap key (epoch 0), which the hub also keeps until admission.
struct BootstrapGrant {
  Device device;
  Network network;
  std::string hub_id;
  std::string tenant_name;
  SecretBytes bootstrap_key;
};

// EndedPeer is a device that no longer takes part with another, and why.
struct EndedPeer {
  std::string device_id;
  std::string reason;
};

class Devices {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);

  // kMaxBootstrapLifetime bounds how long a bundle stays usable.
  static constexpr std::chrono::hours kMaxBootstrapLifetime{24 * 30};

  Devices(RegistryContext& context, Tenants& tenants, Networks& networks, ChannelKeys& keys)
      : c_(context), tenants_(tenants), networks_(networks), keys_(keys) {}

  // Provision creates a device in `network_name` with a fresh 256-bit
  // bootstrap key valid for `lifetime`. Provisioners of the tenant may; so
  // may an active device with the provisioner capability, in its own network
  // only (delegated provisioning; the hub records the parent). The device id
  // is drawn at random unless `device_id` gives one: a device of a network
  // with several hubs has the same id at each of them.
  Result<BootstrapGrant> Provision(const Principal& actor, const std::string& network_name,
                                   const std::string& device_name,
                                   std::chrono::milliseconds lifetime, bool can_provision,
                                   const std::optional<std::string>& device_id = {});
  // NewDevice is one device of a ProvisionBatch.
  struct NewDevice {
    std::string name;
    bool can_provision = false;
  };
  // kMaxBatch bounds the devices of one ProvisionBatch.
  static constexpr std::size_t kMaxBatch = 500;
  // ProvisionBatch provisions each of `devices` as Provision does, all in
  // one transaction (one commit, one fsync): a device refused (a bad or
  // taken name) is refused alone, with its audit entry, and the others go
  // on. The grants are returned only once the whole batch is durable; if
  // its commit fails, none of it was provisioned.
  Result<std::vector<Result<BootstrapGrant>>> ProvisionBatch(const Principal& actor,
                                                             const std::string& network_name,
                                                             std::chrono::milliseconds lifetime,
                                                             std::span<const NewDevice> devices);
  // RecordPreflight stores a device's pre-flight report and its fresh nonce
  // (its contribution to the first channel key), moving it from provisioned
  // to pending. A pending device may report again only with the same nonce
  // (a second enrolment from a copied bundle is refused: "bundle used"), and
  // only until its bootstrap bundle expires; the first report stays (it is
  // what the admitter judges), later ones change nothing.
  Result<void> RecordPreflight(const std::string& device_id, const std::string& report_json,
                               std::span<const std::uint8_t> device_nonce);
  // Admit makes a pending device active (admitter of the tenant, never the
  // principal that provisioned it), deriving its channel key of epoch 1
  // (ChannelKeys::AdmitInCurrentTransaction).
  // With `report_sha256` (hex, as ReportSha256 gives it), the stored
  // pre-flight report must be that one: the admitter admits what they saw.
  // A device whose bootstrap bundle expired while pending is refused.
  Result<Device> Admit(const Principal& actor, const std::string& device_id,
                       const std::optional<std::string>& report_sha256 = std::nullopt);
  // ReportSha256 is the hex SHA-256 of a stored pre-flight report.
  static Result<std::string> ReportSha256(const std::string& report);
  // Reject ends a device that was never admitted (admitter of the tenant).
  Result<Device> Reject(const Principal& actor, const std::string& device_id);
  // Revoke ends a device at once, erasing its keys (tenant-admin or
  // admitter). OnRevoked observers close its open channels.
  Result<Device> Revoke(const Principal& actor, const std::string& device_id);
  // Ratchet moves an active device's channel key to its next epoch, at the
  // device's request on a channel of `channel_epoch` with its fresh nonce
  // (ChannelKeys::RatchetInCurrentTransaction), audited.
  Result<RatchetStep> Ratchet(const std::string& device_id, std::int64_t channel_epoch,
                              std::span<const std::uint8_t> device_nonce);
  // RequestRatchet asks an active device to ratchet at its next chance
  // (tenant-admin or admitter); OnRatchetRequested observers tell an open
  // channel at once.
  Result<Device> RequestRatchet(const Principal& actor, const std::string& device_id);

  // Get returns a device the actor may see: operators see their tenant's
  // devices, devices see their own network's. Anything else is kNotFound,
  // exactly as for a device that does not exist.
  Result<Device> Get(const Principal& actor, const std::string& device_id);
  // ChannelActor is the principal of a device's channel, with its tenant
  // and network when the device exists (so what it does, and what it is
  // refused, is audited for its tenant).
  Principal ChannelActor(const std::string& device_id);
  // List lists a network's devices, optionally in one state.
  Result<std::vector<Device>> List(const Principal& actor, const std::string& network_name,
                                   std::optional<DeviceState> state = std::nullopt);
  // PeersOf lists the other active devices of a device's network.
  Result<std::vector<Device>> PeersOf(const std::string& device_id);
  // HubNonceFor returns the hub's admission contribution (not secret) for a
  // device to derive its epoch-1 key, once admitted.
  Result<std::vector<std::uint8_t>> HubNonceFor(const std::string& device_id);
  // Load returns a device for the hub's own use (no scope check).
  Result<Device> Load(const std::string& device_id);

  // AllowPair adds (or, with allow = false, removes) a pair of the network's
  // devices to its allow-list (tenant-admin).
  Result<void> AllowPair(const Principal& actor, const std::string& network_name,
                         const std::string& device_a, const std::string& device_b, bool allow);
  // PairAllowed applies the network's pair policy to two of its devices.
  Result<bool> PairAllowed(const Network& network, const std::string& device_a,
                           const std::string& device_b);

  // EndedPeersOf says which of `peers` no longer take part with `device_id`
  // (reason "revoked", "rejected" or "disallowed"): devices of its network
  // that ended, or whose pair with it the network's policy does not allow.
  // Ids outside its network, unknown ones and devices not yet admitted are
  // not named (no device learns what lies outside its network).
  Result<std::vector<EndedPeer>> EndedPeersOf(const std::string& device_id,
                                              const std::vector<std::string>& peers);

  // OnPairEnded registers an observer called after a pair of an allow-list
  // network is disallowed (AllowPair with allow = false).
  void OnPairEnded(std::function<void(const std::string& a, const std::string& b)> observer) {
    pair_ended_observers_.push_back(std::move(observer));
  }
  // OnRevoked registers an observer called after a revocation commits.
  void OnRevoked(std::function<void(const std::string& device_id)> observer) {
    revoked_observers_.push_back(std::move(observer));
  }
  // OnRatchetRequested registers an observer called after an operator's
  // ratchet request commits.
  void OnRatchetRequested(std::function<void(const std::string& device_id)> observer) {
    ratchet_observers_.push_back(std::move(observer));
  }

 private:
  Result<Device> End(const Principal& actor, const std::string& device_id,
                     const std::string& action, DeviceState to);

  RegistryContext& c_;
  Tenants& tenants_;
  Networks& networks_;
  ChannelKeys& keys_;
  std::vector<std::function<void(const std::string&)>> revoked_observers_;
  std::vector<std::function<void(const std::string&)>> ratchet_observers_;
  std::vector<std::function<void(const std::string&, const std::string&)>> pair_ended_observers_;
};

}  // namespace skap::hub
