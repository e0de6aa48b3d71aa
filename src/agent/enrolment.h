// Enrolment and admission, the device's side (docs/hub.md, "Device channel
// protocol"): pre-flight with the bootstrap key, then the switch to epoch 1
// once an admitter has admitted the device.
#pragma once

#include <string>

#include "agent/device_state.h"
#include "common/result.h"
#include "crypto/rng.h"
#include "crypto/tls_psk.h"

namespace skap::agent {

// EnrolFromBundle creates the state file for a device from its bundle.
Result<void> EnrolFromBundle(const std::string& state_path, const proto::Bundle& bundle);

// ChannelStep connects once and moves the device along: it sends the
// pre-flight report while not admitted; once admitted it derives and stores
// the epoch-1 key and proves it with a second connection; once active it
// ratchets the key if the hub says it is due. Every state change is stored
// before it is used. Returns the resulting status ("pending" or "active").
Result<std::string> ChannelStep(const std::string& state_path, crypto::Rng& rng,
                                const std::string& preflight_entropy_health,
                                crypto::KeyExchangeMode mode = crypto::KeyExchangeMode::kPskOnly);

}  // namespace skap::agent
