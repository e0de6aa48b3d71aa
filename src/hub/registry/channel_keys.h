// Each device's channel key (docs/hub.md, "Device channel protocol"): the
// bootstrap key as epoch 0, the epoch-1 key derived at admission, and the
// ratchet to each next epoch, the previous key kept until the device proves
// the new one, so no lost message locks it out. Keys are stored wrapped
// under the KEK and erased when the device ends.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "hub/registry/device.h"
#include "hub/registry/registry_context.h"

namespace skap::hub {

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

class ChannelKeys {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);
  // BindWrappedKeys binds the channel keys wrapped before bindings to their
  // device and epoch (schema version 10; keystore/rebind.h).
  static Result<void> BindWrappedKeys(store::Database& db, keystore::Keystore& kek);

  // DeviceLookup finds a device (registry.h wires it to Devices::Load).
  using DeviceLookup = std::function<Result<Device>(const std::string& device_id)>;

  ChannelKeys(RegistryContext& context, DeviceLookup device)
      : c_(context), device_(std::move(device)) {}

  // StoreBootstrapInCurrentTransaction keeps a new device's bootstrap key
  // as its key of epoch 0; the caller holds a transaction.
  Result<void> StoreBootstrapInCurrentTransaction(const std::string& device_id,
                                                  std::span<const std::uint8_t> key);
  // AdmitInCurrentTransaction draws the hub's nonce and derives the key of
  // epoch 1 from the bootstrap key, `device_nonce` (from the pre-flight
  // report) and it, keeping the bootstrap key as the previous epoch until the
  // device proves epoch 1. Returns the hub's nonce.
  Result<std::vector<std::uint8_t>> AdmitInCurrentTransaction(
      const std::string& device_id, std::span<const std::uint8_t> device_nonce);
  // EraseInCurrentTransaction erases a device's keys: what makes its end final.
  Result<void> EraseInCurrentTransaction(const std::string& device_id);

  // KeyFor returns the key of `epoch` for a device whose state allows a
  // channel at that epoch: epoch 0 while provisioned or pending and not
  // expired; the current or previous epoch (>= 1) while active. Anything
  // else is kAuthenticationFailed, without detail.
  Result<ChannelKey> KeyFor(const std::string& device_id, std::int64_t epoch);
  // ConfirmEpoch records that the device authenticated with `epoch`: once
  // the current epoch is proven, the previous key is erased.
  Result<void> ConfirmEpoch(const std::string& device_id, std::int64_t epoch);

  // RatchetInCurrentTransaction derives the next key for a device asking on
  // a channel of `channel_epoch`, from that epoch's key and both nonces (the
  // derivation of crypto/channel_key.h). Asked on the current epoch, the
  // current key becomes the previous one. Asked on the previous epoch (the
  // device never took up the current one: the answer was lost), the
  // unproven current epoch is replaced. Either way the hub keeps the key the
  // device holds until it proves the new one. Devices::Ratchet checks the
  // device and audits; the caller holds a transaction.
  Result<RatchetStep> RatchetInCurrentTransaction(const std::string& device_id,
                                                  std::int64_t channel_epoch,
                                                  std::span<const std::uint8_t> device_nonce);
  // ScheduleFor returns an active device's epoch schedule.
  Result<EpochSchedule> ScheduleFor(const std::string& device_id);
  // RequestRatchetInCurrentTransaction marks the key due for a new epoch
  // (an operator asked); the next ratchet clears it.
  Result<void> RequestRatchetInCurrentTransaction(const std::string& device_id);

 private:
  // Step draws the hub's nonce, derives the key of `epoch` from
  // `from_wrapped` (the key of epoch - 1) and stores it as current, keeping
  // `from_wrapped` as previous until the device proves the new one.
  // Admission (epoch 0 -> 1) and every ratchet share it. Returns the hub's
  // nonce, which the device needs to derive the same key.
  Result<std::vector<std::uint8_t>> Step(const std::string& device_id, std::int64_t epoch,
                                         std::span<const std::uint8_t> from_wrapped,
                                         std::span<const std::uint8_t> device_nonce);

  RegistryContext& c_;
  DeviceLookup device_;
};

}  // namespace skap::hub
