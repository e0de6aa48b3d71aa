#include "agent/channel_ratchet.h"

#include "agent/state_lock.h"
#include "common/crash_point.h"
#include "common/hex.h"
#include "crypto/channel_key.h"

namespace skap::agent {
namespace {

namespace pb = channel::v1;

}  // namespace

Result<void> RatchetOnChannel(HubChannel& channel, DeviceState& state,
                              const std::string& state_path, crypto::Rng& rng) {
  if (state.epoch < 1 || channel.epoch() != state.epoch) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "a ratchet runs on a channel of the device's current epoch");
  }
  std::array<std::uint8_t, crypto::kChannelNonceSize> device_nonce{};
  SKAP_RETURN_IF_ERROR(rng.Fill(device_nonce));
  pb::Envelope request;
  request.mutable_ratchet_request()->set_device_nonce(
      std::string(device_nonce.begin(), device_nonce.end()));
  SKAP_ASSIGN_OR_RETURN(auto reply, channel.Call(request));
  const auto& body = reply.envelope;
  if (body.has_error()) return RefusedByHub(body.error());
  if (!body.has_ratchet_result() ||
      body.ratchet_result().epoch() != static_cast<std::uint64_t>(state.epoch + 1)) {
    return Unexpected(ErrorCode::kMalformedInput, "unexpected answer to a ratchet request");
  }
  const std::uint64_t next_epoch = body.ratchet_result().epoch();
  SKAP_ASSIGN_OR_RETURN(
      auto next, crypto::NextChannelKey(state.key.Expose(), next_epoch,
                                        AsBytes(body.ratchet_result().hub_nonce()), device_nonce,
                                        state.hub.hub_id, state.hub.device_id));
  CrashPoint("agent.ratchet.before-save");
  DeviceState updated = state.Clone();
  updated.epoch = static_cast<std::int64_t>(next_epoch);
  updated.key = std::move(next);
  SKAP_RETURN_IF_ERROR(SaveDeviceState(state_path, updated));
  state = std::move(updated);
  CrashPoint("agent.ratchet.after-save");
  return Ok();
}

Result<std::int64_t> RatchetChannelKey(const std::string& state_path, crypto::Rng& rng,
                                       crypto::KeyExchangeMode mode) {
  SKAP_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(state_path));
  SKAP_ASSIGN_OR_RETURN(auto state, LoadDeviceState(state_path));
  if (state.epoch < 1) {
    return Unexpected(ErrorCode::kFailedPrecondition, "the device is not admitted yet");
  }
  {
    SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
    SKAP_RETURN_IF_ERROR(RatchetOnChannel(*channel, state, state_path, rng));
  }
  // Prove the new epoch now, so the hub can erase the old key.
  SKAP_ASSIGN_OR_RETURN(auto proof, HubChannel::Connect(state, mode));
  return state.epoch;
}

Result<SecretBytes> DrawHubEntropy(const std::string& state_path, std::uint32_t length,
                                   crypto::KeyExchangeMode mode) {
  SKAP_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(state_path));
  SKAP_ASSIGN_OR_RETURN(auto state, LoadDeviceState(state_path));
  SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
  pb::Envelope request;
  request.mutable_entropy_request()->set_length(length);
  SKAP_ASSIGN_OR_RETURN(auto reply, channel->Call(request));
  const auto& body = reply.envelope;
  if (body.has_error()) return RefusedByHub(body.error());
  if (!body.has_entropy_result() || body.entropy_result().length() != length ||
      reply.trailer.size() != length) {
    return Unexpected(ErrorCode::kMalformedInput, "unexpected answer to an entropy request");
  }
  return std::move(reply.trailer);
}

}  // namespace skap::agent
