// skapd run: a hub's daemon. It opens the hub, serves its admin API (the
// Unix socket, and TLS-PSK when configured) and its device channel, and
// stops on SIGINT or SIGTERM.
#pragma once

#include <functional>
#include <memory>

#include "common/result.h"
#include "hub/channel/agreement_relay.h"
#include "hub/hub_config.h"
#include "hub/hub_node.h"

namespace skap::hub {

// HubSeams are where a test puts a misbehaving part in the hub's place: a
// relay that lies to the devices, say (tests/tools/faulty_skapd.cc). A
// running hub has none.
struct HubSeams {
  // relay, when set, wraps the hub's own relay; the device channel then
  // talks to what it returns.
  std::function<std::unique_ptr<Relay>(Relay& own, HubNode& node)> relay;
};

// RunHub serves the hub of `config` until SIGINT or SIGTERM. The caller
// blocks those signals in every thread first (this one waits for them). An
// error's message says where it happened and its code's name ("opening DIR:
// io-error: ...").
Result<void> RunHub(const HubConfig& config, const HubSeams& seams = {});

}  // namespace skap::hub
