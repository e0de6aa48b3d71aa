#include "agent/hub/channel_ratchet.h"

#include "agent/hub/channel_steps.h"
#include "common/crash_point.h"

namespace skap::agent {

Result<void> RatchetOnChannel(HubChannel& channel, HubChannelState& state, AgentDir& store,
                              crypto::Rng& rng) {
  if (state.epoch < 1 || channel.epoch() != state.epoch) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "a ratchet runs on a channel of the device's current epoch");
  }
  ChannelNonce nonce{};
  SKAP_RETURN_IF_ERROR(rng.Fill(nonce));
  SKAP_ASSIGN_OR_RETURN(auto reply, channel.Call(RatchetRequest(nonce)));
  SKAP_ASSIGN_OR_RETURN(auto next, RatchetedState(state, nonce, reply.envelope));
  CrashPoint("agent.ratchet.before-save");
  SKAP_RETURN_IF_ERROR(store.SaveHub(next));
  state = std::move(next);
  CrashPoint("agent.ratchet.after-save");
  return Ok();
}

Result<std::int64_t> RatchetChannelKey(AgentDir& store, const std::string& hub_id, crypto::Rng& rng,
                                       crypto::KeyExchangeMode mode) {
  SKAP_ASSIGN_OR_RETURN(auto state, store.LoadHub(hub_id));
  if (state.epoch < 1) {
    return Unexpected(ErrorCode::kFailedPrecondition, "the device is not admitted yet");
  }
  {
    SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
    SKAP_RETURN_IF_ERROR(RatchetOnChannel(*channel, state, store, rng));
  }
  // Prove the new epoch now, so the hub can erase the old key.
  SKAP_ASSIGN_OR_RETURN(auto proof, HubChannel::Connect(state, mode));
  return state.epoch;
}

Result<SecretBytes> DrawHubEntropy(AgentDir& store, const std::string& hub_id, std::uint32_t length,
                                   crypto::KeyExchangeMode mode) {
  SKAP_ASSIGN_OR_RETURN(auto state, store.LoadHub(hub_id));
  SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
  channel::v1::Envelope request;
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
