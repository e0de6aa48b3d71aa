// Enrolment and admission, the device's side (docs/hub.md, "Device channel
// protocol"): one bundle per hub of the network, pre-flight with the
// bootstrap key, then the switch to epoch 1 once an admitter has admitted
// the device. Blocking, one connection at a time (the one-off commands; the
// daemon runs the same steps in hub_link.h).
#pragma once

#include <string>

#include "agent/store/agent_dir.h"
#include "common/result.h"
#include "crypto/rng.h"
#include "crypto/tls_psk.h"

namespace skap::agent {

// EnrolFromBundle adds the bundle's hub to the agent. The first bundle sets
// the device's identity (device id, tenant, network, hub set, threshold);
// every later one must carry the same, name a hub of that set, and be for a
// hub the device is not enrolled at yet.
Result<HubChannelState> EnrolFromBundle(AgentDir& store, const proto::Bundle& bundle);

// ChannelStep connects to one hub once and moves the device along: it sends
// the pre-flight report while not admitted; once admitted it derives and
// stores the epoch-1 key and proves it with a second connection; once active
// it ratchets the key if the hub says it is due. Every state change is
// stored before it is used. Returns the resulting status ("pending" or
// "active").
Result<std::string> ChannelStep(AgentDir& store, const std::string& hub_id, crypto::Rng& rng,
                                const std::string& preflight_entropy_health,
                                crypto::KeyExchangeMode mode = crypto::kDefaultKeyExchange);

}  // namespace skap::agent
