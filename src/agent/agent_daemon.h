// skap-agent run: the device's daemon. It holds a channel to each of its
// hubs (hub_link.h), runs pairwise agreements (agreement_engine.h), keeps the
// sessions (session_store.h) and serves the local control socket
// (control_api.h), all on one thread, until SIGINT or SIGTERM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/agreement_engine.h"
#include "agent/hub_link.h"
#include "common/result.h"
#include "kme/etsi014_api.h"

namespace skap::agent {

// AgentOptions is the daemon's configuration (apps/skap-agent/config.h).
struct AgentOptions {
  std::string data_dir;
  std::string control_socket;  // default: <data_dir>/control.sock
  HubLinkOptions link;
  EngineOptions engine;
  std::uint32_t key_window = 1024;             // out-of-order key ids per session
  std::optional<kme::Etsi014Options> etsi014;  // the KME for local SAEs, when configured
};

// RunAgent serves until a signal asks it to stop. `ready` is called once
// the control socket listens.
Result<void> RunAgent(const AgentOptions& options, const std::function<void()>& ready = {});

}  // namespace skap::agent
