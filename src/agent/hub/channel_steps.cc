#include "agent/hub/channel_steps.h"

#include <sys/utsname.h>

#include "common/hex.h"

namespace skap::agent {
namespace {

std::string Platform() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

}  // namespace

Unexpected RefusedByHub(const channel::v1::ErrorReply& error) {
  return Unexpected(ErrorCode::kFailedPrecondition,
                    "hub refused: " + error.code() + ": " + error.message());
}

Result<bool> DrawEnrolmentNonce(HubChannelState& state, crypto::Rng& rng) {
  if (!state.enrolment_nonce.empty()) return false;
  state.enrolment_nonce = SecretBytes(crypto::kChannelNonceSize);
  SKAP_RETURN_IF_ERROR(rng.Fill(state.enrolment_nonce.MutableExpose()));
  return true;
}

channel::v1::Envelope PreflightRequest(const HubChannelState& state,
                                       const std::string& entropy_health) {
  channel::v1::Envelope request;
  auto* preflight = request.mutable_preflight();
  preflight->set_agent_version(std::string(kAgentVersion));
  preflight->set_platform(Platform());
  preflight->set_entropy_health(entropy_health);
  const auto nonce = state.enrolment_nonce.Expose();
  preflight->set_device_nonce(std::string(nonce.begin(), nonce.end()));
  return request;
}

Result<HubChannelState> AdmittedState(const HubChannelState& state,
                                      const channel::v1::AdmissionNotice& notice) {
  if (notice.epoch() != 1 || state.epoch != 0) {
    return Unexpected(ErrorCode::kMalformedInput, "unexpected answer to the pre-flight report");
  }
  SKAP_ASSIGN_OR_RETURN(auto first,
                        crypto::NextChannelKey(state.key.Expose(), 1, AsBytes(notice.hub_nonce()),
                                               state.enrolment_nonce.Expose(), state.hub.hub_id,
                                               state.hub.device_id));
  HubChannelState next = state.Clone();
  next.epoch = 1;
  next.key = std::move(first);
  next.enrolment_nonce = SecretBytes();
  next.status = "admitted";
  return next;
}

channel::v1::Envelope RatchetRequest(const ChannelNonce& nonce) {
  channel::v1::Envelope request;
  request.mutable_ratchet_request()->set_device_nonce(std::string(nonce.begin(), nonce.end()));
  return request;
}

Result<HubChannelState> RatchetedState(const HubChannelState& state, const ChannelNonce& nonce,
                                       const channel::v1::Envelope& answer) {
  if (answer.has_error()) return RefusedByHub(answer.error());
  if (!answer.has_ratchet_result() ||
      answer.ratchet_result().epoch() != static_cast<std::uint64_t>(state.epoch + 1)) {
    return Unexpected(ErrorCode::kMalformedInput, "unexpected answer to a ratchet request");
  }
  const std::uint64_t next_epoch = answer.ratchet_result().epoch();
  SKAP_ASSIGN_OR_RETURN(auto key,
                        crypto::NextChannelKey(state.key.Expose(), next_epoch,
                                               AsBytes(answer.ratchet_result().hub_nonce()), nonce,
                                               state.hub.hub_id, state.hub.device_id));
  HubChannelState next = state.Clone();
  next.epoch = static_cast<std::int64_t>(next_epoch);
  next.key = std::move(key);
  return next;
}

}  // namespace skap::agent
