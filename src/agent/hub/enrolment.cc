#include "agent/hub/enrolment.h"

#include <algorithm>

#include "agent/hub/channel_ratchet.h"
#include "agent/hub/channel_steps.h"
#include "agent/hub/hub_channel.h"

namespace skap::agent {
namespace {

// SameDevice checks that two bundles are for one device of one network.
Result<void> SameDevice(const proto::BundleInfo& have, const proto::BundleInfo& next) {
  const auto differs = [](const std::string& what) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "this bundle is for another " + what + " than the hubs already enrolled");
  };
  if (next.device_id != have.device_id || next.device_name != have.device_name) {
    return differs("device");
  }
  if (next.tenant_name != have.tenant_name || next.network_name != have.network_name) {
    return differs("network");
  }
  if (next.hub_set != have.hub_set || next.threshold != have.threshold) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "threshold mismatch: this bundle's hub set or threshold differs from the "
                      "hubs already enrolled (ask the tenant admin to set the same at every hub)");
  }
  return Ok();
}

}  // namespace

Result<HubChannelState> EnrolFromBundle(AgentDir& store, const proto::Bundle& bundle) {
  const auto& info = bundle.info;
  if (std::find(info.hub_set.begin(), info.hub_set.end(), info.hub_id) == info.hub_set.end()) {
    return Unexpected(ErrorCode::kInvalidArgument, "the bundle's hub is not in its own hub set");
  }
  SKAP_ASSIGN_OR_RETURN(auto hubs, store.LoadHubs());
  for (const auto& hub : hubs) {
    if (hub.hub.hub_id == info.hub_id) {
      return Unexpected(ErrorCode::kFailedPrecondition, "already enrolled at hub " + info.hub_id);
    }
  }
  if (!hubs.empty()) SKAP_RETURN_IF_ERROR(SameDevice(hubs.front().hub, info));
  HubChannelState state;
  state.hub = info;
  state.epoch = 0;
  state.key = bundle.key.Clone();
  state.status = "enrolled";
  SKAP_RETURN_IF_ERROR(store.SaveHub(state));
  return state;
}

Result<std::string> ChannelStep(AgentDir& store, const std::string& hub_id, crypto::Rng& rng,
                                const std::string& preflight_entropy_health,
                                crypto::KeyExchangeMode mode) {
  SKAP_ASSIGN_OR_RETURN(auto state, store.LoadHub(hub_id));
  if (state.epoch >= 1) {
    // Admitted: the handshake proves the epoch to the hub; the hub pushes
    // RatchetDue first thing if the key is due, which Sync collects.
    SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
    SKAP_RETURN_IF_ERROR(channel->Sync());
    bool due = false;
    for (const auto& push : channel->TakePushes()) due |= push.envelope.has_ratchet_due();
    if (due) {
      SKAP_RETURN_IF_ERROR(RatchetOnChannel(*channel, state, store, rng));
      channel.reset();
      SKAP_ASSIGN_OR_RETURN(channel, HubChannel::Connect(state, mode));
    }
    if (state.status != "active") {
      state.status = "active";
      SKAP_RETURN_IF_ERROR(store.SaveHub(state));
    }
    return state.status;
  }
  SKAP_ASSIGN_OR_RETURN(const bool drawn, DrawEnrolmentNonce(state, rng));
  if (drawn) SKAP_RETURN_IF_ERROR(store.SaveHub(state));
  SKAP_ASSIGN_OR_RETURN(auto channel, HubChannel::Connect(state, mode));
  SKAP_ASSIGN_OR_RETURN(auto reply,
                        channel->Call(PreflightRequest(state, preflight_entropy_health)));
  const auto& body = reply.envelope;
  if (body.has_error()) return RefusedByHub(body.error());
  if (body.has_preflight_result()) {
    state.status = body.preflight_result().state();
    SKAP_RETURN_IF_ERROR(store.SaveHub(state));
    return state.status;
  }
  // Store epoch 1 before using it; the bootstrap key is erased on this side
  // now, on the hub once epoch 1 is proven (the hub keeps accepting it until).
  SKAP_ASSIGN_OR_RETURN(state, AdmittedState(state, body.admission_notice()));
  SKAP_RETURN_IF_ERROR(store.SaveHub(state));
  channel.reset();
  SKAP_ASSIGN_OR_RETURN(auto proof, HubChannel::Connect(state, mode));
  state.status = "active";
  SKAP_RETURN_IF_ERROR(store.SaveHub(state));
  return state.status;
}

}  // namespace skap::agent
