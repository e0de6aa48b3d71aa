// skap-agent run: the device's daemon. It holds a channel to each of its
// hubs (hub_link.h), runs pairwise agreements (agreement_engine.h), keeps the
// sessions (session_store.h) and serves the local control socket
// (control_api.h), all on one thread, until SIGINT or SIGTERM.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agreement_engine.h"
#include "agent/hub/hub_link.h"
#include "agent/peer/peer_channel.h"
#include "agentd/kme/etsi014_api.h"
#include "agentd/ppk/ppk_installer.h"
#include "common/clock.h"
#include "common/result.h"
#include "net/http/message.h"

namespace skap::agent {

// AgentOptions is the daemon's configuration (apps/skap-agent/config.h).
struct AgentOptions {
  std::string data_dir;
  std::string control_socket;  // default: <data_dir>/control.sock
  HubLinkOptions link;
  EngineOptions engine;
  std::uint32_t key_window = 1024;             // out-of-order key ids per session
  std::uint32_t key_reserve = 64;              // keys of this side's chain taken per commit
  std::optional<kme::Etsi014Options> etsi014;  // the KME for local SAEs, when configured
  std::vector<ppk::PpkTarget> ppk;             // IPsec PPKs into strongSwan, per peer
  PeerChannelOptions peer;                     // direct links and the MQTT relay, when set
};

// AgentDaemon is the endpoint with everything up: links to its hubs (started
// by Run), the agreement engine, the control socket and, when configured,
// the ETSI GS QKD 014 KME. `skap-agent run` runs it on the main thread; the
// C API (include/skap/c/skap.h) embeds it on a thread of the application.
class AgentDaemon {
 public:
  // Start opens the endpoint of `options`; `clock` is the time all of it reads.
  static Result<std::unique_ptr<AgentDaemon>> Start(const AgentOptions& options,
                                                    Clock clock = SystemClock());
  ~AgentDaemon();
  AgentDaemon(const AgentDaemon&) = delete;
  AgentDaemon& operator=(const AgentDaemon&) = delete;

  // Run serves on the calling thread until Stop; it returns once every
  // link, connection and timer has wound down.
  void Run();
  // Stop asks Run to return; safe from any thread (and from a signal
  // handler's asio callback).
  void Stop();
  // Call answers a control request as the control socket would; from any
  // thread but Run's, while Run runs. It waits for the answer (an agreement
  // takes a round trip through the hubs).
  net::HttpResponse Call(net::HttpRequest request);
  // StopOnSignals makes SIGINT and SIGTERM stop the daemon (skap-agent run;
  // an application embedding the endpoint keeps its own signals).
  void StopOnSignals();
  // Describe is the one line the daemon logs when it starts.
  std::string Describe() const;

  struct Parts;

 private:
  explicit AgentDaemon(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// RunAgent serves until SIGINT or SIGTERM. `ready` is called once the
// control socket listens.
Result<void> RunAgent(const AgentOptions& options, const std::function<void()>& ready = {});

}  // namespace skap::agent
