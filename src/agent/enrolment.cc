#include "agent/enrolment.h"

#include <sys/utsname.h>

#include "agent/channel_ratchet.h"
#include "agent/hub_channel.h"
#include "agent/state_lock.h"
#include "common/hex.h"
#include "crypto/channel_key.h"

namespace skap::agent {
namespace {

constexpr std::string_view kAgentVersion = "0.1.0";

std::string Platform() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

}  // namespace

Result<void> EnrolFromBundle(const std::string& state_path, const proto::Bundle& bundle) {
  DeviceState state;
  state.hub = bundle.info;
  state.epoch = 0;
  state.key = bundle.key.Clone();
  state.status = "enrolled";
  return SaveDeviceState(state_path, state);
}

Result<std::string> ChannelStep(const std::string& state_path, crypto::Rng& rng,
                                const std::string& preflight_entropy_health,
                                crypto::KeyExchangeMode mode) {
  SKAP_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(state_path));
  SKAP_ASSIGN_OR_RETURN(auto state, LoadDeviceState(state_path));
  if (state.epoch >= 1) {
    // Admitted: the handshake proves the epoch to the hub; the hub pushes
    // RatchetDue first thing if the key is due, which Sync collects.
    SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
    SKAP_RETURN_IF_ERROR(channel->Sync());
    bool due = false;
    for (const auto& push : channel->TakePushes()) due |= push.envelope.has_ratchet_due();
    if (due) {
      SKAP_RETURN_IF_ERROR(RatchetOnChannel(*channel, state, state_path, rng));
      channel.reset();
      SKAP_ASSIGN_OR_RETURN(channel, HubChannel::Connect(state, mode));
    }
    if (state.status != "active") {
      state.status = "active";
      SKAP_RETURN_IF_ERROR(SaveDeviceState(state_path, state));
    }
    return state.status;
  }
  if (state.enrolment_nonce.empty()) {
    // Draw and store the nonce before sending it: after a crash the same
    // nonce is sent again, and the hub accepts only that one.
    state.enrolment_nonce = SecretBytes(crypto::kChannelNonceSize);
    SKAP_RETURN_IF_ERROR(rng.Fill(state.enrolment_nonce.MutableExpose()));
    SKAP_RETURN_IF_ERROR(SaveDeviceState(state_path, state));
  }
  SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
  channel::v1::Envelope request;
  auto* preflight = request.mutable_preflight();
  preflight->set_agent_version(std::string(kAgentVersion));
  preflight->set_platform(Platform());
  preflight->set_entropy_health(preflight_entropy_health);
  const auto nonce = state.enrolment_nonce.Expose();
  preflight->set_device_nonce(std::string(nonce.begin(), nonce.end()));
  SKAP_ASSIGN_OR_RETURN(auto reply, channel->Call(request));
  const auto& body = reply.envelope;
  if (body.has_error()) return RefusedByHub(body.error());
  if (body.has_preflight_result()) {
    state.status = body.preflight_result().state();
    SKAP_RETURN_IF_ERROR(SaveDeviceState(state_path, state));
    return state.status;
  }
  if (!body.has_admission_notice() || body.admission_notice().epoch() != 1) {
    return Unexpected(ErrorCode::kMalformedInput, "unexpected answer to the pre-flight report");
  }
  const auto& hub_nonce = body.admission_notice().hub_nonce();
  SKAP_ASSIGN_OR_RETURN(auto first,
                        crypto::NextChannelKey(state.key.Expose(), 1, AsBytes(hub_nonce),
                                               state.enrolment_nonce.Expose(), state.hub.hub_id,
                                               state.hub.device_id));
  // Store epoch 1 before using it; the bootstrap key is erased on this side
  // now, on the hub once epoch 1 is proven (the hub keeps accepting it until).
  state.epoch = 1;
  state.key = std::move(first);
  state.enrolment_nonce = SecretBytes();
  state.status = "admitted";
  SKAP_RETURN_IF_ERROR(SaveDeviceState(state_path, state));
  channel.reset();
  SKAP_ASSIGN_OR_RETURN(auto proof, HubChannel::Connect(state, mode));
  state.status = "active";
  SKAP_RETURN_IF_ERROR(SaveDeviceState(state_path, state));
  return state.status;
}

}  // namespace skap::agent
