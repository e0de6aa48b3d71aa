// The device's side of the channel key ratchet (docs/hub.md, "Device channel
// protocol", step 3) and of entropy augmentation, blocking (the one-off
// commands; the daemon runs the same steps in hub_link.h).
//
// Ratchet order, each step stored before the next: connect with epoch e
// (proving it) -> send a fresh nonce -> receive the hub's nonce and e+1 ->
// derive K_{e+1} and store it, erasing K_e -> reconnect with e+1 (proving
// it, so the hub erases K_e). A message lost or a process killed anywhere
// leaves a key the hub still accepts: before the store the device still has
// K_e, which the hub keeps until e+1 is proven; after it, K_{e+1} is the
// hub's current key.
#pragma once

#include <cstdint>
#include <string>

#include "agent/hub/hub_channel.h"
#include "agent/store/agent_dir.h"
#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/rng.h"

namespace skap::agent {

// RatchetOnChannel runs the ratchet on `channel`, which must have
// authenticated with `state`'s epoch, and stores the new epoch (updating
// `state`). The caller reconnects afterwards to prove the new epoch.
Result<void> RatchetOnChannel(HubChannel& channel, HubChannelState& state, AgentDir& store,
                              crypto::Rng& rng);

// RatchetChannelKey runs a whole ratchet with proof at one hub and returns
// the new epoch.
Result<std::int64_t> RatchetChannelKey(AgentDir& store, const std::string& hub_id, crypto::Rng& rng,
                                       crypto::KeyExchangeMode mode);

// DrawHubEntropy asks one hub for `length` random bytes.
Result<SecretBytes> DrawHubEntropy(AgentDir& store, const std::string& hub_id, std::uint32_t length,
                                   crypto::KeyExchangeMode mode);

}  // namespace skap::agent
