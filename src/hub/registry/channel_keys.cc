#include "hub/registry/channel_keys.h"

#include "crypto/channel_key.h"
#include "keystore/rebind.h"

namespace skap::hub {
namespace {

// This class's part of hub.db's schema (hub/schema.cc orders the whole):
// version 2 made the channel keys (epoch 0 is the bootstrap key); version 3
// dated each epoch, for the ratchet schedule; version 6 took over the ratchet
// request from devices.
constexpr std::string_view kChannelKeysV2 = R"sql(CREATE TABLE channel_keys (
  device_id TEXT PRIMARY KEY REFERENCES devices (id),
  epoch BIGINT NOT NULL,            -- 0: the bootstrap key
  wrapped_key BLOB NOT NULL,        -- RFC 5649 under the KEK
  previous_epoch BIGINT,            -- kept until the device proves `epoch`
  previous_wrapped_key BLOB,
  changed_at_ms BIGINT NOT NULL
);
)sql";
constexpr std::string_view kChannelKeysV3 = R"sql(
ALTER TABLE channel_keys ADD COLUMN epoch_started_at_ms BIGINT;
)sql";
constexpr std::string_view kChannelKeysV6 = R"sql(
ALTER TABLE channel_keys ADD COLUMN ratchet_requested BIGINT NOT NULL DEFAULT 0;
UPDATE channel_keys SET ratchet_requested =
  (SELECT d.ratchet_requested FROM devices d WHERE d.id = channel_keys.device_id);
ALTER TABLE devices DROP COLUMN ratchet_requested;
)sql";

using store::AsBlob;
using store::AsInt;
using store::Blob;

// A channel key is bound to its device and epoch: a row's key copied to
// another device, or to another epoch of the same device, does not unwrap.
keystore::WrapBinding KeyBinding(const std::string& device_id, std::int64_t epoch) {
  return {keystore::kPurposeDeviceChannelKey, keystore::RowOf({device_id, std::to_string(epoch)})};
}

}  // namespace

std::string_view ChannelKeys::MigrationSql(int version) {
  switch (version) {
    case 2:
      return kChannelKeysV2;
    case 3:
      return kChannelKeysV3;
    case 6:
      return kChannelKeysV6;
    default:
      return {};
  }
}

Result<void> ChannelKeys::BindWrappedKeys(store::Database& db, keystore::Keystore& kek) {
  for (const auto& [column, epoch] :
       {std::pair{"wrapped_key", "epoch"}, std::pair{"previous_wrapped_key", "previous_epoch"}}) {
    SKAP_RETURN_IF_ERROR(keystore::BindWrappedColumn(
        db, kek, {"channel_keys", column, {"device_id", epoch}, [](const store::Row& key) {
                    return KeyBinding(store::AsText(key[0]).value_or(""),
                                      AsInt(key[1]).value_or(-1));
                  }}));
  }
  return Ok();
}

Result<void> ChannelKeys::StoreBootstrapInCurrentTransaction(const std::string& device_id,
                                                             std::span<const std::uint8_t> key) {
  SKAP_ASSIGN_OR_RETURN(auto wrapped, c_.keystore.Wrap(key, KeyBinding(device_id, 0)));
  SKAP_RETURN_IF_ERROR(
      c_.db.Execute("INSERT INTO channel_keys (device_id, epoch, wrapped_key, changed_at_ms)"
                    " VALUES ($1, 0, $2, $3)",
                    {device_id, Blob(wrapped), c_.now()}));
  return Ok();
}

Result<std::vector<std::uint8_t>> ChannelKeys::AdmitInCurrentTransaction(
    const std::string& device_id, std::span<const std::uint8_t> device_nonce) {
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query("SELECT epoch, wrapped_key FROM channel_keys"
                                               " WHERE device_id = $1",
                                               {device_id}));
  if (rows.empty() || AsInt(rows[0][0]).value_or(-1) != 0) {
    return Unexpected(ErrorCode::kFailedPrecondition, "device has no bootstrap key");
  }
  const Blob bootstrap_wrapped = AsBlob(rows[0][1]).value_or(Blob{});
  return Step(device_id, 1, bootstrap_wrapped, device_nonce);
}

Result<void> ChannelKeys::EraseInCurrentTransaction(const std::string& device_id) {
  // secure_delete overwrites what is deleted.
  SKAP_RETURN_IF_ERROR(c_.db.Execute("DELETE FROM channel_keys WHERE device_id = $1", {device_id}));
  return Ok();
}

Result<ChannelKey> ChannelKeys::KeyFor(const std::string& device_id, std::int64_t epoch) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "unknown identity");
  auto device = device_(device_id);
  if (!device) return refused;
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query("SELECT epoch, wrapped_key, previous_epoch,"
                                               " previous_wrapped_key FROM channel_keys"
                                               " WHERE device_id = $1",
                                               {device_id}));
  if (rows.empty()) return refused;
  const std::int64_t current = AsInt(rows[0][0]).value_or(-1);
  const std::optional<std::int64_t> previous = AsInt(rows[0][2]);
  std::optional<Blob> wrapped;
  switch (device->state) {
    case DeviceState::kProvisioned:
    case DeviceState::kPending:
      // A pending device's bootstrap key expires as a provisioned one's.
      if (epoch == 0 && current == 0 && c_.now() < device->bootstrap_expires_at_ms) {
        wrapped = AsBlob(rows[0][1]);
      }
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
  SKAP_ASSIGN_OR_RETURN(auto key, c_.keystore.Unwrap(*wrapped, KeyBinding(device_id, epoch)));
  return ChannelKey{epoch, std::move(key)};
}

Result<void> ChannelKeys::ConfirmEpoch(const std::string& device_id, std::int64_t epoch) {
  // Only the current epoch's proof erases the previous key; proving the old
  // one changes nothing (the device may not have seen the new epoch yet).
  SKAP_RETURN_IF_ERROR(c_.db.Execute(
      "UPDATE channel_keys SET previous_epoch = NULL, previous_wrapped_key = NULL,"
      " changed_at_ms = $3 WHERE device_id = $1 AND epoch = $2 AND previous_epoch IS NOT NULL",
      {device_id, epoch, c_.now()}));
  return Ok();
}

Result<RatchetStep> ChannelKeys::RatchetInCurrentTransaction(
    const std::string& device_id, std::int64_t channel_epoch,
    std::span<const std::uint8_t> device_nonce) {
  RatchetStep step;
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query("SELECT epoch, wrapped_key, previous_epoch,"
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
    // The device never took up `current`: derive it again from the key the
    // device holds, with the new nonces, and forget the unproven one.
    from_wrapped = AsBlob(rows[0][3]).value_or(Blob{});
    step.epoch = current;
    step.replaced_unproven = true;
  } else {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "ratchet asked on epoch " + std::to_string(channel_epoch) +
                          ", which is not the device's current epoch");
  }
  SKAP_ASSIGN_OR_RETURN(step.hub_nonce, Step(device_id, step.epoch, from_wrapped, device_nonce));
  return step;
}

Result<EpochSchedule> ChannelKeys::ScheduleFor(const std::string& device_id) {
  const Unexpected none(ErrorCode::kNotFound, "no such active device");
  auto device = device_(device_id);
  if (!device || device->state != DeviceState::kActive) return none;
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query("SELECT epoch, COALESCE(epoch_started_at_ms, changed_at_ms),"
                                    " ratchet_requested FROM channel_keys WHERE device_id = $1",
                                    {device_id}));
  if (rows.empty()) return none;
  return EpochSchedule{AsInt(rows[0][0]).value_or(0), AsInt(rows[0][1]).value_or(0),
                       AsInt(rows[0][2]).value_or(0) != 0};
}

Result<void> ChannelKeys::RequestRatchetInCurrentTransaction(const std::string& device_id) {
  SKAP_RETURN_IF_ERROR(c_.db.Execute(
      "UPDATE channel_keys SET ratchet_requested = 1 WHERE device_id = $1", {device_id}));
  return Ok();
}

Result<std::vector<std::uint8_t>> ChannelKeys::Step(const std::string& device_id,
                                                    std::int64_t epoch,
                                                    std::span<const std::uint8_t> from_wrapped,
                                                    std::span<const std::uint8_t> device_nonce) {
  SKAP_ASSIGN_OR_RETURN(auto from,
                        c_.keystore.Unwrap(from_wrapped, KeyBinding(device_id, epoch - 1)));
  std::vector<std::uint8_t> hub_nonce(crypto::kChannelNonceSize);
  SKAP_RETURN_IF_ERROR(c_.rng.Fill(hub_nonce));
  SKAP_ASSIGN_OR_RETURN(
      auto next, crypto::NextChannelKey(from.Expose(), static_cast<std::uint64_t>(epoch), hub_nonce,
                                        device_nonce, c_.hub_id, device_id));
  SKAP_ASSIGN_OR_RETURN(auto wrapped,
                        c_.keystore.Wrap(next.Expose(), KeyBinding(device_id, epoch)));
  const std::int64_t now = c_.now();
  // A new epoch is due by nobody's request yet.
  SKAP_RETURN_IF_ERROR(
      c_.db.Execute("UPDATE channel_keys SET epoch = $2, wrapped_key = $3, previous_epoch = $4,"
                    " previous_wrapped_key = $5, changed_at_ms = $6, epoch_started_at_ms = $6,"
                    " ratchet_requested = 0 WHERE device_id = $1",
                    {device_id, epoch, Blob(wrapped), epoch - 1,
                     Blob(from_wrapped.begin(), from_wrapped.end()), now}));
  return hub_nonce;
}

}  // namespace skap::hub
