// The hub's side of the channel key ratchet (docs/hub.md, "Device channel
// protocol", step 3) and the data its schedule runs on.
#include <array>

#include <nlohmann/json.hpp>

#include "common/crash_point.h"
#include "crypto/channel_key.h"
#include "hub/registry/registry.h"

namespace skap::hub {
namespace {

using store::AsBlob;
using store::AsInt;
using store::Blob;

}  // namespace

Result<RatchetStep> Registry::Ratchet(const std::string& device_id, std::int64_t channel_epoch,
                                      std::span<const std::uint8_t> device_nonce) {
  const Principal actor = Principal::DeviceChannel(device_id);
  RatchetStep step;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    if (device_nonce.size() != crypto::kChannelNonceSize) {
      return Unexpected(ErrorCode::kInvalidArgument, "device nonce must be 32 bytes");
    }
    SKAP_ASSIGN_OR_RETURN(auto device, LoadDevice(device_id));
    if (device.state != DeviceState::kActive) {
      return Unexpected(ErrorCode::kFailedPrecondition, "only an active device ratchets");
    }
    SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch, wrapped_key, previous_epoch,"
                                               " previous_wrapped_key FROM channel_keys"
                                               " WHERE device_id = $1",
                                               {device_id}));
    if (rows.empty()) return Unexpected(ErrorCode::kFailedPrecondition, "device has no key");
    const std::int64_t current = AsInt(rows[0][0]).value_or(-1);
    const std::optional<std::int64_t> previous = AsInt(rows[0][2]);
    Blob from_wrapped;
    if (channel_epoch == current && !previous) {
      from_wrapped = AsBlob(rows[0][1]).value_or(Blob{});
      step.epoch = current + 1;
    } else if (previous && channel_epoch == *previous) {
      // The device never took up `current`: derive it again from the key
      // the device holds, with the new nonces, and forget the unproven one.
      from_wrapped = AsBlob(rows[0][3]).value_or(Blob{});
      step.epoch = current;
      step.replaced_unproven = true;
    } else {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "ratchet asked on epoch " + std::to_string(channel_epoch) +
                            ", which is not the device's current epoch");
    }
    const std::int64_t now = now_();
    SKAP_ASSIGN_OR_RETURN(step.hub_nonce,
                          StepChannelKey(device_id, step.epoch, from_wrapped, device_nonce, now));
    SKAP_RETURN_IF_ERROR(
        db_.Execute("UPDATE devices SET ratchet_requested = 0, changed_at_ms = $2 WHERE id = $1",
                    {device_id, now}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), "device.ratchet", device_id, "ok",
         nlohmann::json{{"epoch", step.epoch}, {"replaced_unproven", step.replaced_unproven}}
             .dump()},
        now));
    CrashPoint("hub.ratchet.before-commit");
    return Ok();
  });
  if (!done) return Refuse(actor, "device.ratchet", device_id, std::move(done).error());
  CrashPoint("hub.ratchet.after-commit");
  return step;
}

Result<EpochSchedule> Registry::ScheduleFor(const std::string& device_id) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT k.epoch, COALESCE(k.epoch_started_at_ms, k.changed_at_ms),"
                           " d.ratchet_requested FROM channel_keys k JOIN devices d"
                           " ON d.id = k.device_id WHERE k.device_id = $1 AND d.state = 'active'",
                           {device_id}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, "no such active device");
  return EpochSchedule{AsInt(rows[0][0]).value_or(0), AsInt(rows[0][1]).value_or(0),
                       AsInt(rows[0][2]).value_or(0) != 0};
}

Result<Device> Registry::RequestRatchet(const Principal& actor, const std::string& device_id) {
  Device result;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto device, GetDevice(actor, device_id));
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
    const std::int64_t now = now_();
    SKAP_RETURN_IF_ERROR(
        db_.Execute("UPDATE devices SET ratchet_requested = 1, changed_at_ms = $2 WHERE id = $1",
                    {device_id, now}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {actor.AuditName(), "device.ratchet-request", device_id, "ok", "{}"}, now));
    SKAP_ASSIGN_OR_RETURN(result, LoadDevice(device_id));
    return Ok();
  });
  if (!done) return Refuse(actor, "device.ratchet-request", device_id, std::move(done).error());
  for (const auto& observer : ratchet_observers_) observer(device_id);
  return result;
}

Result<std::vector<std::uint8_t>> Registry::StepChannelKey(
    const std::string& device_id, std::int64_t epoch, std::span<const std::uint8_t> from_wrapped,
    std::span<const std::uint8_t> device_nonce, std::int64_t now) {
  SKAP_ASSIGN_OR_RETURN(auto from, keystore_.Unwrap(from_wrapped));
  std::vector<std::uint8_t> hub_nonce(crypto::kChannelNonceSize);
  SKAP_RETURN_IF_ERROR(rng_.Fill(hub_nonce));
  SKAP_ASSIGN_OR_RETURN(
      auto next, crypto::NextChannelKey(from.Expose(), static_cast<std::uint64_t>(epoch), hub_nonce,
                                        device_nonce, hub_id_, device_id));
  SKAP_ASSIGN_OR_RETURN(auto wrapped, keystore_.Wrap(next.Expose()));
  SKAP_RETURN_IF_ERROR(
      db_.Execute("UPDATE channel_keys SET epoch = $2, wrapped_key = $3, previous_epoch = $4,"
                  " previous_wrapped_key = $5, changed_at_ms = $6, epoch_started_at_ms = $6"
                  " WHERE device_id = $1",
                  {device_id, epoch, Blob(wrapped), epoch - 1,
                   Blob(from_wrapped.begin(), from_wrapped.end()), now}));
  return hub_nonce;
}

}  // namespace skap::hub
