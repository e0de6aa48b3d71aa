// The device's steps on its hub channel (docs/hub.md, "Device channel
// protocol") as plain functions, free of I/O: what to send, and the state
// that follows from the answer. The one-off commands (blocking, enrolment.h)
// and the agent daemon (asynchronous, hub_link.h) both run them; the caller
// stores every new state before it uses it.
#pragma once

#include <array>
#include <string>

#include "agent/store/hub_channel_state.h"
#include "common/result.h"
#include "crypto/channel_key.h"
#include "crypto/rng.h"
#include "proto/channel.pb.h"

namespace skap::agent {

// kAgentVersion is what the pre-flight report says this agent is.
inline constexpr std::string_view kAgentVersion = "0.2.0";

using ChannelNonce = std::array<std::uint8_t, crypto::kChannelNonceSize>;

// RefusedByHub turns the hub's ErrorReply into this side's error.
Unexpected RefusedByHub(const channel::v1::ErrorReply& error);

// DrawEnrolmentNonce gives `state` its contribution to epoch 1 if it has
// none yet and reports whether it did (then store it before sending: after
// a crash the same nonce is sent again, and the hub accepts only that one).
Result<bool> DrawEnrolmentNonce(HubChannelState& state, crypto::Rng& rng);

// PreflightRequest is the pre-flight report with the enrolment nonce.
channel::v1::Envelope PreflightRequest(const HubChannelState& state,
                                       const std::string& entropy_health);

// AdmittedState is the state at epoch 1 once the hub's AdmissionNotice
// arrived; the bootstrap key and the nonce are gone from it.
Result<HubChannelState> AdmittedState(const HubChannelState& state,
                                      const channel::v1::AdmissionNotice& notice);

// RatchetRequest asks for the next epoch with the device's fresh `nonce`.
channel::v1::Envelope RatchetRequest(const ChannelNonce& nonce);

// RatchetedState is the state at the next epoch from the hub's answer.
Result<HubChannelState> RatchetedState(const HubChannelState& state, const ChannelNonce& nonce,
                                       const channel::v1::Envelope& answer);

}  // namespace skap::agent
